#pragma once
// The matrix-factorisation scorer every FS-LTR learner trains (FS-LTR spec §3): a user and an item
// embedding table (64-dim by default), L2-normalised at training and serving, s(u, v) = ⟨u, v⟩ / τ
// (the cosine two-tower of models/two_tower.hpp). Groups of items per user are scored as one
// flattened batch of (user, item) pairs; loss gradients flow back through the model module.
#include <span>

#include "models/parameters.hpp"
#include "models/two_tower.hpp"

namespace stagesim::ranking {

struct MfOptions {
  int users = 0, items = 0;
  int dim = 64;
  double temperature = 0.1;  // τ: cosine scores lie in [−1/τ, 1/τ]
  double init_sd = 0.1;
};

class MfScorer {
 public:
  explicit MfScorer(const MfOptions& o);
  void init(Rng& rng);

  models::ParameterSet& params() { return params_; }
  const models::ParameterSet& params() const { return params_; }

  // scores[i] = s(users[i], items[i]).
  void pair_scores(std::span<const int> users, std::span<const int> items, Eigen::VectorXd& scores);
  // After pair_scores on the same pairs: grads = ∂L/∂θ for d_scores = ∂L/∂scores.
  void pair_backward(std::span<const int> users, std::span<const int> items,
                     const Eigen::VectorXd& d_scores, models::ParameterSet& grads);
  // scores(i, v) = s(users[i], v) for every item v.
  void score_all(std::span<const int> users, RowMatrixXd& scores);

  // Training groups: group j is user users[j] with items[j·size .. (j+1)·size); scores in that
  // layout. Each user row is looked up and normalised once per group (pair_scores would do it
  // `size` times).
  void group_scores(std::span<const int> users, std::span<const int> items, int size,
                    Eigen::VectorXd& scores);
  // After group_scores on the same groups: adds ∂L/∂θ for d_scores into grads, touching only the
  // rows of the groups' users and items; grads must be zero elsewhere (clear_rows restores that
  // after the optimiser step, so a whole-table zeroing per step is not needed).
  void group_backward(const Eigen::VectorXd& d_scores, models::ParameterSet& grads);
  // Zeroes the rows of grads the last group_backward wrote.
  void clear_rows(models::ParameterSet& grads) const;
  // The rows of each parameter tensor (params() order) the last group_scores read, ascending and
  // distinct: what a lazy Adam step updates.
  const std::vector<std::vector<int>>& touched_rows();

 private:
  std::size_t user_index() const { return model_->user_tower().embedding()->index(); }
  std::size_t item_index() const { return model_->item_tower().embedding()->index(); }
  double inv_temperature_ = 10.0;
  // group_scores' batch: ids, unit rows and norms.
  std::vector<int> gu_, gi_;
  std::vector<std::vector<int>> touched_;
  int gsize_ = 0;
  RowMatrixXd unit_u_, unit_v_, d_u_, d_v_;
  Eigen::VectorXd norm_u_, norm_v_;

  models::ParameterSet params_;
  std::optional<models::TwoTower> model_;
  models::TwoTower::Cache cache_;
};

}  // namespace stagesim::ranking
