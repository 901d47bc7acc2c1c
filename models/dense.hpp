// Fully connected layer y = f(x Wᵀ + b) on a batch of rows, with a hand-written backward pass.
// W is outputs × inputs (row j maps the input to output j), b is 1 × outputs.
#pragma once

#include <string>

#include "models/activation.hpp"
#include "models/parameters.hpp"

namespace stagesim::models {

struct DenseSpec {
  int inputs = 0;
  int outputs = 0;
  Activation activation = Activation::kIdentity;
  bool bias = true;
};

class Dense {
 public:
  // Registers `name.W` (and `name.b` when spec.bias) in params, zero; invalid_argument on sizes
  // < 1.
  Dense(ParameterSet& params, const std::string& name, DenseSpec spec);

  const DenseSpec& spec() const { return spec_; }
  std::size_t weight_index() const { return weight_; }
  std::size_t bias_index() const { return bias_; }  // meaningful only when spec().bias

  // W ~ N(0, sd²) with sd = weight_sd, or when weight_sd < 0 the fan-in default 1/√inputs (×√2
  // for relu: He); b = 0.
  void init(ParameterSet& params, Rng& rng, double weight_sd = -1.0) const;

  // y = f(x Wᵀ + b) for x: B × inputs (y is resized to B × outputs).
  void forward(const ParameterSet& params, const RowMatrixXd& x, RowMatrixXd& y) const;

  // Backward pass for the x, y of a forward call. dy = ∂L/∂y on entry becomes ∂L/∂(x Wᵀ + b).
  // ∂L/∂W (and ∂L/∂b) are written into grads (same layout as params), or added when accumulate;
  // ∂L/∂x is written into *dx unless dx is null.
  void backward(const ParameterSet& params, const RowMatrixXd& x, const RowMatrixXd& y,
                RowMatrixXd& dy, ParameterSet& grads, RowMatrixXd* dx,
                bool accumulate = false) const;

 private:
  DenseSpec spec_;
  std::size_t weight_ = 0, bias_ = 0;
};

}  // namespace stagesim::models
