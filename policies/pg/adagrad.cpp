#include "policies/pg/adagrad.hpp"

#include <stdexcept>

namespace stagesim::pg {

bool all_finite(std::span<const RowMatrixXd> tensors) {
  for (const RowMatrixXd& t : tensors) {
    if (!t.allFinite()) return false;
  }
  return true;
}

void Adagrad::step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd> grads) {
  if (params.size() != grads.size()) throw std::invalid_argument("Adagrad: params/grads mismatch");
  if (sum_sq_.empty()) {
    for (const RowMatrixXd* p : params) sum_sq_.push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
  }
  if (sum_sq_.size() != params.size()) throw std::invalid_argument("Adagrad: parameter count");
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto theta = params[i]->array();
    auto sum_sq = sum_sq_[i].array();
    const auto g = grads[i].array();
    sum_sq += g.square();
    theta -= learning_rate_ * g / (sum_sq.sqrt() + eps_);
  }
}

}  // namespace stagesim::pg
