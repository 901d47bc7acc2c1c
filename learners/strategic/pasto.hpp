#pragma once
// PASTO (probabilistic parameter optimisation with an unbiased stochastic-gradient
// approximation), as reconstructed in spec §2 of docs/strategic-parameters.md:
//   explore   p̃_t = (1 − ε) p_t + ε/K, Q parameters drawn from p̃_t (one per bucket);
//   estimate  Û_t = (1/Q) Σ_q û_q e_{k_q}ᵀ / p̃_t(k_q)   (unbiased for U);
//   average   Ū_t = (1/t) Σ_{s≤t} Û_s                    (replaces the unavailable unbiased
//                                                          gradient of f(U p));
//   ascend    g_t = Ū_tᵀ ∇f(Ū_t p_t),  p_{t+1} ∝ p_t ⊙ exp(γ_t g_t)   (mirror ascent with the KL
//             divergence, computed on log p so importance weights up to K/ε cannot overflow);
//   output    p̄_T = (1/T) Σ_{t≤T} p_t deployed; p_{T+1} reported as the last iterate.
// Step size γ_t = γ₀ t^{−decay} (decay 0: constant).
#include <vector>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"
#include "learners/strategic/simplex.hpp"

namespace stagesim::strategic {

struct PastoOptions {
  double step = 0.1;        // γ₀
  double step_decay = 0.0;  // γ_t = γ₀ t^(−step_decay)
  double explore = 0.1;     // ε in (0, 1]
};

class Pasto final : public Learner {
 public:
  // `initial`: p_1 (empty = uniform); must be strictly positive (log space).
  Pasto(int parameters, Objective objective, PastoOptions options,
        const Eigen::VectorXd& initial = {});

  void choose(Rng& rng, std::span<int> arms) override;
  void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) override;
  const Eigen::VectorXd& deployed() const override { return average_; }
  const Eigen::VectorXd& current() const override { return p_; }
  std::int64_t rounds() const override { return t_; }

  // The history average Ū_t (m × K) and log p_t, for tests and diagnostics.
  Eigen::MatrixXd history_average() const;
  const Eigen::VectorXd& log_weights() const { return logp_; }

 private:
  Objective objective_;
  PastoOptions o_;
  Eigen::VectorXd p_, logp_, sampled_from_, sum_, average_;
  Eigen::MatrixXd v_;          // Σ_s Û_s
  Eigen::VectorXd z_, d_, g_;  // Ū p, ∇f(Ū p), Ūᵀ ∇f
  IndexSampler sampler_;
  std::int64_t t_ = 0;
};

}  // namespace stagesim::strategic
