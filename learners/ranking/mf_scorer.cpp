#include "learners/ranking/mf_scorer.hpp"

#include <algorithm>
#include <stdexcept>

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
  inv_temperature_ = 1.0 / o.temperature;
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

namespace {

// unit.row(i) = x.row(ids[i]) / ‖·‖ (0 for a zero row), norms(i) = ‖x.row(ids[i])‖.
void unit_rows(const RowMatrixXd& x, std::span<const int> ids, RowMatrixXd& unit,
               Eigen::VectorXd& norms) {
  const Eigen::Index n = static_cast<Eigen::Index>(ids.size());
  unit.resize(n, x.cols());
  norms.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto row = x.row(ids[static_cast<std::size_t>(i)]);
    const double norm = row.norm();
    norms(i) = norm;
    if (norm > 0)
      unit.row(i) = row / norm;
    else
      unit.row(i).setZero();
  }
}

// g.row(ids[i]) += ∂/∂x of the normalisation for upstream d.row(i): (d − ⟨unit, d⟩ unit) / ‖x‖.
void add_unit_backward(const RowMatrixXd& unit, const Eigen::VectorXd& norms, const RowMatrixXd& d,
                       std::span<const int> ids, RowMatrixXd& g) {
  for (Eigen::Index i = 0; i < d.rows(); ++i) {
    if (!(norms(i) > 0)) continue;
    g.row(ids[static_cast<std::size_t>(i)]) +=
        (d.row(i) - unit.row(i).dot(d.row(i)) * unit.row(i)) / norms(i);
  }
}

}  // namespace

void MfScorer::group_scores(std::span<const int> users, std::span<const int> items, int size,
                            Eigen::VectorXd& scores) {
  if (size < 1 || items.size() != users.size() * static_cast<std::size_t>(size))
    throw std::invalid_argument("MfScorer::group_scores: items must be users × size");
  gu_.assign(users.begin(), users.end());
  gi_.assign(items.begin(), items.end());
  gsize_ = size;
  unit_rows(params_[user_index()], gu_, unit_u_, norm_u_);
  unit_rows(params_[item_index()], gi_, unit_v_, norm_v_);
  scores.resize(static_cast<Eigen::Index>(items.size()));
  for (Eigen::Index j = 0; j < unit_u_.rows(); ++j)
    for (int e = 0; e < size; ++e) {
      const Eigen::Index k = j * size + e;
      scores(k) = unit_u_.row(j).dot(unit_v_.row(k)) * inv_temperature_;
    }
}

void MfScorer::group_backward(const Eigen::VectorXd& d, models::ParameterSet& grads) {
  if (d.size() != unit_v_.rows())
    throw std::invalid_argument("MfScorer::group_backward: call group_scores first");
  // s = ⟨û, v̂⟩/τ: ∂s/∂û = v̂/τ, ∂s/∂v̂ = û/τ.
  d_u_.setZero(unit_u_.rows(), unit_u_.cols());
  d_v_.resize(unit_v_.rows(), unit_v_.cols());
  for (Eigen::Index j = 0; j < unit_u_.rows(); ++j)
    for (int e = 0; e < gsize_; ++e) {
      const Eigen::Index k = j * gsize_ + e;
      const double dk = d(k) * inv_temperature_;
      d_u_.row(j) += dk * unit_v_.row(k);
      d_v_.row(k) = dk * unit_u_.row(j);
    }
  add_unit_backward(unit_u_, norm_u_, d_u_, gu_, grads[user_index()]);
  add_unit_backward(unit_v_, norm_v_, d_v_, gi_, grads[item_index()]);
}

const std::vector<std::vector<int>>& MfScorer::touched_rows() {
  touched_.assign(params_.size(), {});
  auto fill = [](std::vector<int>& out, const std::vector<int>& ids) {
    out = ids;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  };
  fill(touched_[user_index()], gu_);
  fill(touched_[item_index()], gi_);
  return touched_;
}

void MfScorer::clear_rows(models::ParameterSet& grads) const {
  RowMatrixXd& gu = grads[user_index()];
  RowMatrixXd& gv = grads[item_index()];
  for (int u : gu_) gu.row(u).setZero();
  for (int v : gi_) gv.row(v).setZero();
}

}  // namespace stagesim::ranking
