#pragma once
// The interface every strategic-parameter learner implements. A round: the learner chooses the
// parameter applied to each of Q buckets of traffic, then sees each bucket's observed metric
// vector (noisy, unbiased for μ of the applied parameter; nothing about the others). The same
// learners run on the offline problems (learners/strategic/rounds.hpp) and inside the
// simulator's fusion ranker (policies/fusion_ranker.cpp).
#include <Eigen/Core>
#include <span>

#include "base/rng.hpp"

namespace stagesim::strategic {

class Learner {
 public:
  virtual ~Learner() = default;
  // The parameter index applied to each bucket of the next round (arms.size() = Q).
  virtual void choose(Rng& rng, std::span<int> arms) = 0;
  // The metric vectors observed in the round chose() just planned: column q (m values) for the
  // bucket that applied arms[q]. Buckets without traffic are left out by the caller.
  virtual void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) = 0;
  // What would be deployed now: the averaged iterate p̄ for mirror-descent learners, a one-hot
  // vector for deterministic ones, the empirical play frequencies for the concave bandit.
  virtual const Eigen::VectorXd& deployed() const = 0;
  // The current (last) iterate; for bandits the share of buckets each parameter got in the
  // latest round.
  virtual const Eigen::VectorXd& current() const = 0;
  // Rounds seen (update() calls).
  virtual std::int64_t rounds() const = 0;
};

}  // namespace stagesim::strategic
