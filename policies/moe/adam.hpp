// Dense elementwise Adam (Kingma & Ba), minimising: m = b1·m + (1−b1)·g, v = b2·v + (1−b2)·g²,
// θ −= lr · m̂ / (sqrt(v̂) + eps) with bias-corrected m̂, v̂. Spec §7 default: lr 1e-3.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "policies/moe/types.hpp"

namespace stagesim::moe {

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  explicit Adam(AdamOptions options = {}) : options_(options) {}

  // One descent step of params[i] along grads[i] (gradients of a loss to minimise). Moments are
  // created (zero) on the first call; shapes must not change afterwards (invalid_argument).
  void step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads);

  std::int64_t steps() const { return steps_; }

 private:
  AdamOptions options_;
  std::int64_t steps_ = 0;
  std::vector<RowMatrixXd> m_, v_;
};

}  // namespace stagesim::moe
