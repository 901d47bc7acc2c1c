#include "learners/ranking/mf_scorer.hpp"

namespace stagesim::ranking {

using models::TowerInput;

MfScorer::MfScorer(const MfOptions& o) {
  models::TwoTowerSpec s;
  s.user.kind = s.item.kind = models::TowerKind::kEmbedding;
  s.user.ids = o.users;
  s.item.ids = o.items;
  s.user.dim = s.item.dim = o.dim;
  s.user.init_sd = s.item.init_sd = o.init_sd;
  s.score = models::TwoTowerScore::kCosine;
  s.temperature = o.temperature;
  model_.emplace(params_, "mf", s);
}

void MfScorer::init(Rng& rng) {
  model_->init(params_, rng);
}

void MfScorer::pair_scores(std::span<const int> users, std::span<const int> items,
                           Eigen::VectorXd& scores) {
  scores.resize(static_cast<Eigen::Index>(users.size()));
  model_->pair_scores(params_, TowerInput::of_ids(users), TowerInput::of_ids(items), cache_,
                      scores);
}

void MfScorer::pair_backward(std::span<const int> users, std::span<const int> items,
                             const Eigen::VectorXd& d, models::ParameterSet& grads) {
  model_->pair_scores_backward(params_, TowerInput::of_ids(users), TowerInput::of_ids(items),
                               cache_, d, grads);
}

void MfScorer::score_all(std::span<const int> users, RowMatrixXd& scores) {
  model_->score_matrix(params_, TowerInput::of_ids(users), TowerInput::all(), cache_, scores);
}

}  // namespace stagesim::ranking
