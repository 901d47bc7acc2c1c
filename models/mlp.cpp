#include "models/mlp.hpp"

#include <stdexcept>

namespace stagesim::models {

Mlp::Mlp(ParameterSet& params, const std::string& name, const MlpSpec& spec) : spec_(spec) {
  if (spec.inputs < 1) throw std::invalid_argument("Mlp " + name + ": inputs must be >= 1");
  if (spec.activations.size() != spec.widths.size())
    throw std::invalid_argument("Mlp " + name + ": one activation per layer width");
  int in = spec.inputs;
  for (std::size_t l = 0; l < spec.widths.size(); ++l) {
    layers_.emplace_back(params, name + "." + std::to_string(l),
                         DenseSpec{in, spec.widths[l], spec.activations[l], spec.bias});
    in = spec.widths[l];
  }
}

void Mlp::init(ParameterSet& params, Rng& rng) const {
  for (const Dense& layer : layers_) layer.init(params, rng);
}

const RowMatrixXd& Mlp::forward(const ParameterSet& params, const RowMatrixXd& x,
                                Cache& cache) const {
  if (x.cols() != spec_.inputs) throw std::invalid_argument("Mlp::forward: input width");
  cache.outputs.resize(layers_.size());
  const RowMatrixXd* in = &x;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    layers_[l].forward(params, *in, cache.outputs[l]);
    in = &cache.outputs[l];
  }
  return *in;
}

void Mlp::backward(const ParameterSet& params, const RowMatrixXd& x, Cache& cache,
                   const RowMatrixXd& dy, ParameterSet& grads, RowMatrixXd* dx,
                   bool accumulate) const {
  if (layers_.empty()) {
    if (dx != nullptr) *dx = dy;
    return;
  }
  if (cache.outputs.size() != layers_.size())
    throw std::invalid_argument("Mlp::backward: call forward first");
  cache.grad = dy;
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const RowMatrixXd& in = l == 0 ? x : cache.outputs[l - 1];
    RowMatrixXd* down = l == 0 ? dx : &cache.grad_next;
    layers_[l].backward(params, in, cache.outputs[l], cache.grad, grads, down, accumulate);
    if (l > 0) cache.grad.swap(cache.grad_next);
  }
}

}  // namespace stagesim::models
