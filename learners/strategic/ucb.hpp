#pragma once
// A deterministic bandit over the K parameters: UCB on the objective of each parameter's own
// metric vector. All three objective forms are non-decreasing in every metric, so
// f(μ̂_k + b_k) with b_k,j = width_j · sqrt(2 ln N / n_k) is an optimistic value of f(μ_k) whenever
// every metric lies within its box (N observations in all, n_k of parameter k). Each bucket of a
// round takes the highest index in turn, counting the buckets already planned this round as
// pulls (so Q buckets spread over parameters as sequential UCB would); parameters never observed
// go first, spread evenly over the buckets. Deployed: the most-observed parameter (one-hot; lowest
// index on ties), the recommendation of a deterministic method.
#include <vector>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"

namespace stagesim::strategic {

class Ucb final : public Learner {
 public:
  // width: per metric, the scale of the confidence box (e.g. the noise standard deviation).
  Ucb(int parameters, Objective objective, Eigen::VectorXd width);

  void choose(Rng& rng, std::span<int> arms) override;
  void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) override;
  const Eigen::VectorXd& deployed() const override { return deployed_; }
  const Eigen::VectorXd& current() const override { return current_; }
  std::int64_t rounds() const override { return t_; }

 private:
  Objective objective_;
  Eigen::VectorXd width_;
  Eigen::MatrixXd sums_;  // m × K
  std::vector<double> counts_, planned_;
  double total_ = 0;
  Eigen::VectorXd deployed_, current_, optimistic_;
  std::int64_t t_ = 0;
};

}  // namespace stagesim::strategic
