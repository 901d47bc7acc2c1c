// Multi-layer perceptron: a chain of Dense layers with per-layer widths and activations, e.g. a
// critic (widths {64, 64, 1}, relu, relu, identity) or a tanh-bounded actor (…, tanh; scale the
// output by the action bound outside). Forward keeps every layer's output for the backward pass.
#pragma once

#include <string>
#include <vector>

#include "models/dense.hpp"

namespace stagesim::models {

struct MlpSpec {
  int inputs = 0;
  std::vector<int> widths;              // outputs of each layer; empty = the identity map
  std::vector<Activation> activations;  // one per layer (same length as widths)
  bool bias = true;
};

class Mlp {
 public:
  // What backward needs from forward: every layer's output (the last one is the MLP's output).
  struct Cache {
    std::vector<RowMatrixXd> outputs;
    RowMatrixXd grad, grad_next;  // scratch of the backward pass
  };

  // Registers `name.0.W`, `name.0.b`, `name.1.W`, ... in params. invalid_argument on inputs < 1,
  // a width < 1 or a different number of activations than widths.
  Mlp(ParameterSet& params, const std::string& name, const MlpSpec& spec);

  const MlpSpec& spec() const { return spec_; }
  int inputs() const { return spec_.inputs; }
  int outputs() const { return spec_.widths.empty() ? spec_.inputs : spec_.widths.back(); }
  const std::vector<Dense>& layers() const { return layers_; }

  // Every layer's default initialisation (Dense::init), in layer order.
  void init(ParameterSet& params, Rng& rng) const;

  // The output for x (B × inputs); a reference into cache (x itself for the identity map).
  const RowMatrixXd& forward(const ParameterSet& params, const RowMatrixXd& x, Cache& cache) const;

  // dy = ∂L/∂output for the x and cache of the last forward. Writes (or with accumulate adds)
  // every layer's gradients into grads and, unless dx is null, ∂L/∂x into *dx.
  void backward(const ParameterSet& params, const RowMatrixXd& x, Cache& cache,
                const RowMatrixXd& dy, ParameterSet& grads, RowMatrixXd* dx,
                bool accumulate = false) const;

 private:
  MlpSpec spec_;
  std::vector<Dense> layers_;
};

}  // namespace stagesim::models
