#pragma once
// Operations on the probability simplex Δ_K shared by the strategic-parameter learners: drawing
// indices, Euclidean projection, and normalising log-weights without overflow.
#include <Eigen/Core>
#include <span>
#include <vector>

#include "base/rng.hpp"

namespace stagesim::strategic {

// A uniform double in [0, 1) from the top 53 bits of one engine output (exact and portable).
inline double uniform01(Rng& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Draws indices from a distribution by inverse CDF (binary search over the cumulative sums).
// set() is O(K); each draw O(log K) and one engine output.
class IndexSampler {
 public:
  void set(const Eigen::Ref<const Eigen::VectorXd>& p);
  int draw(Rng& rng) const;

 private:
  std::vector<double> cdf_;
};

// Euclidean projection of v onto Δ_K (sort-based, O(K log K)).
void project_onto_simplex(Eigen::Ref<Eigen::VectorXd> v);

// Shifts log-weights so that log Σ exp = 0 and writes the probabilities: p = exp(logw). Works for
// any finite log-weights, however large or small (max-shifted log-sum-exp); weights far below
// the maximum underflow to p = 0 while their logarithm stays finite.
void normalise_log_weights(Eigen::Ref<Eigen::VectorXd> logw, Eigen::Ref<Eigen::VectorXd> p);

// (1 − ε) p + ε / K: every parameter keeps probability >= ε / K of being explored.
void smooth(const Eigen::Ref<const Eigen::VectorXd>& p, double explore,
            Eigen::Ref<Eigen::VectorXd> out);

}  // namespace stagesim::strategic
