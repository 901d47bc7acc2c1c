#pragma once
// S-SCGD, the basic stochastic compositional gradient method of Wang, Fang & Liu (arXiv
// 1411.3803) applied to max f(U p) over Δ_K, as the baseline of spec §2. The inner function is
// g(p) = U p; with the round's importance-weighted estimate Û_t (same sampling as PASTO,
// p̃_t = (1 − ε) p_t + ε/K, so that Û_t is unbiased):
//   y_t     = (1 − β_t) y_{t−1} + β_t Û_t p_t       (inner moving average, y_0 = 0)
//   p_{t+1} = Π_Δ(p_t + α_t Û_tᵀ ∇f(y_t))           (projected ascent)
// with α_t = α₀ t^{−3/4}, β_t = min(1, β₀ t^{−1/2}). The same Û_t serves the inner value and the
// gradient (one round gives one sample). The averaged iterate is deployed, the last reported.
#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"
#include "learners/strategic/simplex.hpp"

namespace stagesim::strategic {

struct ScgdOptions {
  double step = 0.5;     // α₀
  double average = 1.0;  // β₀
  double explore = 0.1;  // ε in (0, 1]
};

class Scgd final : public Learner {
 public:
  Scgd(int parameters, Objective objective, ScgdOptions options,
       const Eigen::VectorXd& initial = {});

  void choose(Rng& rng, std::span<int> arms) override;
  void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) override;
  const Eigen::VectorXd& deployed() const override { return average_; }
  const Eigen::VectorXd& current() const override { return p_; }
  std::int64_t rounds() const override { return t_; }
  const Eigen::VectorXd& inner_estimate() const { return y_; }

 private:
  Objective objective_;
  ScgdOptions o_;
  Eigen::VectorXd p_, sampled_from_, sum_, average_, y_, uhat_p_, d_, g_;
  IndexSampler sampler_;
  std::int64_t t_ = 0;
};

}  // namespace stagesim::strategic
