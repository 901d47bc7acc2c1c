#pragma once
// A bandit with a concave reward on the average outcome, in the style of the Frank–Wolfe UCB
// algorithm of Agrawal & Devanur ("Bandits with concave rewards and convex knapsacks", EC 2014):
// the goal is f(z̄) of the average observed metric vector z̄, so the play frequencies form a
// mixture. Each bucket plays
//   k = argmax_k  dᵀ μ̂_k + Σ_j |d_j| width_j sqrt(2 ln N / n_k),   d = ∇f(z̄)
// (the optimistic value of the linearised reward over each parameter's confidence box; the hard
// form uses the switching direction of Objective::ascent). Within a round, the buckets already
// planned count as played with their current estimates (z̄ and n_k move as sequential play
// would). Parameters never observed go first, spread evenly over the buckets. Deployed: the
// empirical play frequencies n_k / N (the mixture the algorithm realises).
#include <vector>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"

namespace stagesim::strategic {

class ConcaveUcb final : public Learner {
 public:
  ConcaveUcb(int parameters, Objective objective, Eigen::VectorXd width);

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
  Eigen::VectorXd total_sum_, planned_sum_, d_;
  double total_ = 0;
  Eigen::VectorXd deployed_, current_;
  std::int64_t t_ = 0;
};

}  // namespace stagesim::strategic
