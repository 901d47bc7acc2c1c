#include "models/dense.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::models {

Dense::Dense(ParameterSet& params, const std::string& name, DenseSpec spec) : spec_(spec) {
  if (spec.inputs < 1 || spec.outputs < 1)
    throw std::invalid_argument("Dense " + name + ": inputs and outputs must be >= 1");
  weight_ = params.add(name + ".W", RowMatrixXd::Zero(spec.outputs, spec.inputs));
  if (spec.bias) bias_ = params.add(name + ".b", RowMatrixXd::Zero(1, spec.outputs));
}

void Dense::init(ParameterSet& params, Rng& rng, double weight_sd) const {
  if (weight_sd < 0) {
    weight_sd = 1.0 / std::sqrt(static_cast<double>(spec_.inputs));
    if (spec_.activation == Activation::kRelu) weight_sd *= std::sqrt(2.0);
  }
  fill_normal(params[weight_], weight_sd, rng);
  if (spec_.bias) params[bias_].setZero();
}

void Dense::forward(const ParameterSet& params, const RowMatrixXd& x, RowMatrixXd& y) const {
  if (x.cols() != spec_.inputs) throw std::invalid_argument("Dense::forward: input width");
  y.noalias() = x * params[weight_].transpose();
  if (spec_.bias) y.rowwise() += params[bias_].row(0);
  apply_activation(spec_.activation, y);
}

void Dense::backward(const ParameterSet& params, const RowMatrixXd& x, const RowMatrixXd& y,
                     RowMatrixXd& dy, ParameterSet& grads, RowMatrixXd* dx, bool accumulate) const {
  if (dy.rows() != x.rows() || dy.cols() != spec_.outputs || y.rows() != dy.rows())
    throw std::invalid_argument("Dense::backward: shapes disagree");
  activation_backward(spec_.activation, y, dy);
  if (accumulate)
    grads[weight_].noalias() += dy.transpose() * x;
  else
    grads[weight_].noalias() = dy.transpose() * x;
  if (spec_.bias) {
    if (accumulate)
      grads[bias_] += dy.colwise().sum();
    else
      grads[bias_] = dy.colwise().sum();
  }
  if (dx != nullptr) dx->noalias() = dy * params[weight_];
}

}  // namespace stagesim::models
