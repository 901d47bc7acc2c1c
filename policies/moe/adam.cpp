#include "policies/moe/adam.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::moe {

void Adam::step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads) {
  if (params.size() != grads.size()) throw std::invalid_argument("Adam: params/grads mismatch");
  if (m_.empty()) {
    for (const RowMatrixXd* p : params) {
      m_.push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
      v_.push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
    }
  }
  if (m_.size() != params.size()) throw std::invalid_argument("Adam: parameter count changed");
  ++steps_;
  const double c1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double c2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  // Folding the bias corrections into the step size keeps the update one Eigen expression.
  const double lr = options_.learning_rate * std::sqrt(c2) / c1;
  const double eps = options_.eps * std::sqrt(c2);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (grads[i]->rows() != m_[i].rows() || grads[i]->cols() != m_[i].cols() ||
        params[i]->rows() != m_[i].rows() || params[i]->cols() != m_[i].cols())
      throw std::invalid_argument("Adam: tensor shape changed");
    const auto g = grads[i]->array();
    m_[i].array() = options_.beta1 * m_[i].array() + (1.0 - options_.beta1) * g;
    v_[i].array() = options_.beta2 * v_[i].array() + (1.0 - options_.beta2) * g.square();
    params[i]->array() -= lr * m_[i].array() / (v_[i].array().sqrt() + eps);
  }
}

}  // namespace stagesim::moe
