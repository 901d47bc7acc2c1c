// Dense elementwise Adagrad (spec §6): G += g², θ −= lr · g / (sqrt(G) + eps).
#pragma once

#include <span>
#include <vector>

#include "policies/pg/types.hpp"

namespace stagesim::pg {

constexpr double kAdagradEps = 1e-10;

// True when every entry of every tensor is finite. Callers check gradients with it before
// stepping: on an overflow the spec skips the update and stops training.
bool all_finite(std::span<const RowMatrixXd> tensors);

class Adagrad {
 public:
  explicit Adagrad(double learning_rate, double eps = kAdagradEps)
      : learning_rate_(learning_rate), eps_(eps) {}

  double learning_rate() const { return learning_rate_; }

  // One update of params[i] by grads[i]; accumulators are created (zero) on the first call and
  // must keep the same shapes afterwards. Does not check finiteness.
  void step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd> grads);

  const std::vector<RowMatrixXd>& accumulators() const { return sum_sq_; }

 private:
  double learning_rate_, eps_;
  std::vector<RowMatrixXd> sum_sq_;
};

}  // namespace stagesim::pg
