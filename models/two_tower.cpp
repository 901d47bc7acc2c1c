#include "models/two_tower.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::models {

void l2_normalize_rows(const RowMatrixXd& x, RowMatrixXd& unit, Eigen::VectorXd& norms) {
  norms = x.rowwise().norm();
  unit.resize(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    if (norms(i) > 0)
      unit.row(i) = x.row(i) / norms(i);
    else
      unit.row(i).setZero();
  }
}

void l2_normalize_rows_backward(const RowMatrixXd& unit, const Eigen::VectorXd& norms,
                                const RowMatrixXd& g, RowMatrixXd& dx) {
  dx.resize(g.rows(), g.cols());
  for (Eigen::Index i = 0; i < g.rows(); ++i) {
    if (norms(i) > 0)
      dx.row(i) = (g.row(i) - unit.row(i).dot(g.row(i)) * unit.row(i)) / norms(i);
    else
      dx.row(i).setZero();
  }
}

Tower::Tower(ParameterSet& params, const std::string& name, const TowerSpec& spec, bool normalize)
    : spec_(spec), normalize_(normalize) {
  if (spec.kind == TowerKind::kEmbedding)
    embedding_.emplace(params, name, spec.ids, spec.dim);
  else
    mlp_.emplace(params, name, spec.mlp);
}

int Tower::dim() const {
  return embedding_ ? embedding_->dim() : mlp_->outputs();
}

void Tower::init(ParameterSet& params, Rng& rng) const {
  if (embedding_)
    embedding_->init(params, rng,
                     spec_.init_sd >= 0 ? spec_.init_sd
                                        : 1.0 / std::sqrt(static_cast<double>(embedding_->dim())));
  else
    mlp_->init(params, rng);
}

void Tower::check_input(const TowerInput& input) const {
  if (embedding_) {
    if (input.features != nullptr) throw std::invalid_argument("Tower: embedding tower takes ids");
    if (!input.all_rows)
      for (int id : input.ids)
        if (id < 0 || id >= embedding_->rows())
          throw std::invalid_argument("Tower: id " + std::to_string(id) + " out of range");
  } else if (input.features == nullptr || input.all_rows) {
    throw std::invalid_argument("Tower: MLP tower takes feature rows");
  }
}

const RowMatrixXd& Tower::forward(const ParameterSet& params, const TowerInput& input, Cache& cache,
                                  double scale) const {
  check_input(input);
  const RowMatrixXd* t;  // t(input), unscaled
  if (embedding_) {
    const RowMatrixXd& table = params[embedding_->index()];
    if (input.all_rows) {
      if (!normalize_ && scale == 1.0) return table;
      t = &table;
    } else {
      // Without normalisation the scale is folded into the copy (one rounding, as the PL ranker's
      // gather of U/τ always did).
      embedding_->lookup(params, input.ids, cache.raw, normalize_ ? 1.0 : scale);
      if (!normalize_) return cache.raw;
      t = &cache.raw;
    }
  } else {
    t = &mlp_->forward(params, *input.features, cache.mlp);
  }
  if (normalize_) {
    l2_normalize_rows(*t, cache.unit, cache.norms);
    if (scale == 1.0) return cache.unit;
    cache.out = scale * cache.unit;
    return cache.out;
  }
  if (scale == 1.0) return *t;
  cache.out = scale * *t;
  return cache.out;
}

void Tower::backward(const ParameterSet& params, const TowerInput& input, Cache& cache,
                     const RowMatrixXd& d, ParameterSet& grads, bool accumulate) const {
  const RowMatrixXd* dt = &d;  // ∂L/∂t(input)
  if (normalize_) {
    l2_normalize_rows_backward(cache.unit, cache.norms, d, cache.d_raw);
    dt = &cache.d_raw;
  }
  if (embedding_) {
    if (input.all_rows) {
      RowMatrixXd& g = grads[embedding_->index()];
      if (accumulate)
        g += *dt;
      else
        g = *dt;
    } else {
      embedding_->backward(input.ids, *dt, grads, accumulate);
    }
  } else {
    mlp_->backward(params, *input.features, cache.mlp, *dt, grads, nullptr, accumulate);
  }
}

TwoTower::TwoTower(ParameterSet& params, const std::string& name, const TwoTowerSpec& spec)
    : spec_(spec),
      user_(params, name + ".user", spec.user,
            spec.user.l2_normalize || spec.score == TwoTowerScore::kCosine),
      item_(params, name + ".item", spec.item,
            spec.item.l2_normalize || spec.score == TwoTowerScore::kCosine) {
  if (user_.dim() != item_.dim())
    throw std::invalid_argument("TwoTower " + name + ": user and item embedding widths differ");
  if (!(spec.temperature > 0))
    throw std::invalid_argument("TwoTower " + name + ": temperature must be positive");
}

void TwoTower::init(ParameterSet& params, Rng& rng) const {
  user_.init(params, rng);
  item_.init(params, rng);
}

void TwoTower::embed(const ParameterSet& params, const TowerInput& users, const TowerInput& items,
                     Cache& cache) const {
  cache.u = &user_.forward(params, users, cache.user, 1.0 / spec_.temperature);
  cache.v = &item_.forward(params, items, cache.item);
}

void TwoTower::score_matrix(const ParameterSet& params, const TowerInput& users,
                            const TowerInput& items, Cache& cache, RowMatrixXd& scores) const {
  embed(params, users, items, cache);
  scores.resize(cache.u->rows(), cache.v->rows());
  scores.noalias() = *cache.u * cache.v->transpose();
}

void TwoTower::score_matrix_backward(const ParameterSet& params, const TowerInput& users,
                                     const TowerInput& items, Cache& cache,
                                     const RowMatrixXd& d_scores, ParameterSet& grads,
                                     bool accumulate) const {
  if (cache.u == nullptr || d_scores.rows() != cache.u->rows() ||
      d_scores.cols() != cache.v->rows())
    throw std::invalid_argument("TwoTower::score_matrix_backward: embed first / shapes disagree");
  // ∂L/∂V = (∂L/∂S)ᵀ Ũ; straight into the gradient table when V is a whole unnormalised table.
  if (item_.embedding() && items.all_rows && !item_.normalizes()) {
    RowMatrixXd& g = grads[item_.embedding()->index()];
    if (!accumulate) g.setZero(item_.embedding()->rows(), item_.dim());
    g.noalias() += d_scores.transpose() * *cache.u;
  } else {
    cache.d_item.noalias() = d_scores.transpose() * *cache.u;
    item_.backward(params, items, cache.item, cache.d_item, grads, accumulate);
  }
  cache.d_user.noalias() = (1.0 / spec_.temperature) * (d_scores * *cache.v);
  user_.backward(params, users, cache.user, cache.d_user, grads, accumulate);
}

void TwoTower::pair_scores(const ParameterSet& params, const TowerInput& users,
                           const TowerInput& items, Cache& cache, VectorRef scores) const {
  embed(params, users, items, cache);
  if (cache.u->rows() != cache.v->rows() || scores.size() != cache.u->rows())
    throw std::invalid_argument("TwoTower::pair_scores: batch sizes differ");
  scores = cache.u->cwiseProduct(*cache.v).rowwise().sum();
}

void TwoTower::pair_scores_backward(const ParameterSet& params, const TowerInput& users,
                                    const TowerInput& items, Cache& cache,
                                    const ConstVectorRef& d_scores, ParameterSet& grads,
                                    bool accumulate) const {
  if (cache.u == nullptr || d_scores.size() != cache.u->rows() ||
      cache.v->rows() != cache.u->rows())
    throw std::invalid_argument("TwoTower::pair_scores_backward: embed first / shapes disagree");
  cache.d_item = d_scores.asDiagonal() * *cache.u;
  item_.backward(params, items, cache.item, cache.d_item, grads, accumulate);
  cache.d_user = d_scores.asDiagonal() * *cache.v;
  if (spec_.temperature != 1.0) cache.d_user *= 1.0 / spec_.temperature;
  user_.backward(params, users, cache.user, cache.d_user, grads, accumulate);
}

}  // namespace stagesim::models
