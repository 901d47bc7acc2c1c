#pragma once
// The importance-weighted estimator of U from one round (spec §2): with Q buckets that applied
// parameters k_q drawn from p̃ and observed û_q,
//   Û = (1/Q) Σ_q û_q e_{k_q}ᵀ / p̃(k_q),
// which is unbiased for U (E Û(:, k) = Σ_q p̃(k) μ_k / (Q p̃(k)) = μ_k) whenever p̃ > 0.
// Only the Q sampled columns are non-zero, so it is applied as a sparse update.
#include <Eigen/Core>
#include <span>

namespace stagesim::strategic {

// target += scale · Û (m × K) for the round (arms, obs, p̃).
inline void add_importance_estimate(std::span<const int> arms,
                                    const Eigen::Ref<const Eigen::MatrixXd>& obs,
                                    const Eigen::Ref<const Eigen::VectorXd>& sampled_from,
                                    double scale, Eigen::Ref<Eigen::MatrixXd> target) {
  const double w = scale / static_cast<double>(arms.size());
  for (std::size_t q = 0; q < arms.size(); ++q) {
    const int k = arms[q];
    target.col(k) += (w / sampled_from[k]) * obs.col(static_cast<Eigen::Index>(q));
  }
}

}  // namespace stagesim::strategic
