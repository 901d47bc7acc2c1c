#pragma once
// Deterministic baselines that do not learn: one parameter applied to every bucket. With the
// noise-free U, best_single_parameter() gives the best deterministic choice (spec §2: an upper
// bound for any deterministic method); any index gives the deterministic competitors of the
// simulator (one variant per β_k).
#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"

namespace stagesim::strategic {

class FixedParameter final : public Learner {
 public:
  FixedParameter(int parameters, int index);

  void choose(Rng&, std::span<int> arms) override;
  void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>&) override;
  const Eigen::VectorXd& deployed() const override { return one_hot_; }
  const Eigen::VectorXd& current() const override { return one_hot_; }
  std::int64_t rounds() const override { return t_; }
  int index() const { return index_; }

 private:
  int index_;
  Eigen::VectorXd one_hot_;
  std::int64_t t_ = 0;
};

// argmax_k f(U e_k) under ObjectiveRank (smallest violation, then value; first on ties).
int best_single_parameter(const Eigen::MatrixXd& mean, const Objective& objective);

}  // namespace stagesim::strategic
