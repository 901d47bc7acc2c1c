#include "learners/ranking/pipeline.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numeric>

#include "learners/ranking/losses.hpp"
#include "models/optimizers.hpp"

namespace stagesim::ranking {

std::string PipelineOptions::check() const {
  for (int w : tower_widths)
    if (w < 1) return "tower_widths: every width must be at least 1";
  if (tower_widths.empty()) return "tower_widths: give at least one layer";
  for (int w : rank_widths)
    if (w < 1) return "rank_widths: every width must be at least 1";
  if (rank_widths.empty()) return "rank_widths: give at least one hidden layer";
  if (epochs < 1) return "epochs must be at least 1";
  if (batch < 1) return "batch must be at least 1";
  if (!(learning_rate > 0)) return "learning_rate must be positive";
  if (examples < 0) return "examples must be at least 0";
  return "";
}

std::string CascadeOptions::check() const {
  if (candidates < 1) return "candidates must be at least 1";
  if (prerank_keep < 1 || prerank_keep > candidates)
    return "prerank_keep must be in [1, candidates]";
  if (rank_keep < 1 || rank_keep > prerank_keep) return "rank_keep must be in [1, prerank_keep]";
  if (prerank_negatives < 0 || rank_negatives < 0) return "negatives must be at least 0";
  if (train_requests < 1) return "train_requests must be at least 1";
  return "";
}

namespace {

// Column z-scores (constant columns become 0): features of very different scales (KuaiRec's
// counts next to one-hot flags) train one network.
RowMatrixXd standardize(const RowMatrixXd& x) {
  RowMatrixXd out = x;
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    const double mean = x.col(c).mean();
    const double sd = std::sqrt((x.col(c).array() - mean).square().mean());
    if (sd > 1e-12)
      out.col(c) = ((x.col(c).array() - mean) / sd).matrix();
    else
      out.col(c).setZero();
  }
  return out;
}

models::MlpSpec mlp_spec(int inputs, const std::vector<int>& widths, bool scalar_output) {
  models::MlpSpec s;
  s.inputs = inputs;
  s.widths = widths;
  s.activations.assign(widths.size(), models::Activation::kRelu);
  if (scalar_output) {
    s.widths.push_back(1);
    s.activations.push_back(models::Activation::kIdentity);
  } else {
    s.activations.back() = models::Activation::kIdentity;
  }
  return s;
}

}  // namespace

PipelineModels::PipelineModels(const FullyObservedWorld& w, const PipelineOptions& o, Rng& rng) {
  const RowMatrixXd uf = standardize(w.user_features), itf = standardize(w.item_features);
  const int du = static_cast<int>(uf.cols()), dv = static_cast<int>(itf.cols());
  models::TwoTowerSpec ts;
  ts.user.kind = ts.item.kind = models::TowerKind::kMlp;
  ts.user.mlp = mlp_spec(du, o.tower_widths, false);
  ts.item.mlp = mlp_spec(dv, o.tower_widths, false);
  tower_.emplace(tower_params_, "prerank", ts);
  rank_.emplace(rank_params_, "rank", mlp_spec(du + dv, o.rank_widths, true));
  tower_->init(tower_params_, rng);
  rank_->init(rank_params_, rng);

  const std::int64_t nnz = static_cast<std::int64_t>(w.pool_items.size());
  std::vector<int> entry_user(static_cast<std::size_t>(nnz));
  for (int u = 0; u < w.users; ++u)
    std::fill(entry_user.begin() + w.pool_offsets[u], entry_user.begin() + w.pool_offsets[u + 1],
              u);
  const std::int64_t per_epoch = o.examples > 0 ? std::min(o.examples, nnz) : nnz;
  models::AdamOptions ao;
  ao.learning_rate = o.learning_rate;
  models::Adam tower_opt(ao), rank_opt(ao);
  models::ParameterSet tower_grad = tower_params_.zeros_like(),
                       rank_grad = rank_params_.zeros_like();
  models::TwoTower::Cache tc;
  models::Mlp::Cache mc;
  boost::random::uniform_int_distribution<std::int64_t> pick(0, nnz - 1);
  const int B = o.batch;
  RowMatrixXd xu(B, du), xv(B, dv), x(B, du + dv), dy(B, 1);
  Eigen::VectorXd s(B), ds(B), y(B);
  std::vector<std::int64_t> order(static_cast<std::size_t>(nnz));
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    // A fresh random subset (or permutation) of the pool entries each epoch.
    for (std::int64_t i = 0; i < per_epoch; ++i) {
      boost::random::uniform_int_distribution<std::int64_t> j(i, nnz - 1);
      std::swap(order[i], order[j(rng)]);
    }
    double tl = 0, rl = 0;
    for (std::int64_t start = 0; start < per_epoch; start += B) {
      const int b = static_cast<int>(std::min<std::int64_t>(B, per_epoch - start));
      xu.conservativeResize(b, du);
      xv.conservativeResize(b, dv);
      x.conservativeResize(b, du + dv);
      s.resize(b), ds.resize(b), y.resize(b), dy.resize(b, 1);
      for (int i = 0; i < b; ++i) {
        const std::int64_t e = order[start + i];
        const int u = entry_user[e], v = w.pool_items[e];
        xu.row(i) = uf.row(u);
        xv.row(i) = itf.row(v);
        x.row(i) << uf.row(u), itf.row(v);
        y[i] = w.pool_labels[e];
      }
      using models::TowerInput;
      tower_->pair_scores(tower_params_, TowerInput::of_features(xu), TowerInput::of_features(xv),
                          tc, s);
      for (int i = 0; i < b; ++i) {
        tl += softplus(s[i]) - y[i] * s[i];
        ds[i] = (sigmoid(s[i]) - y[i]) / b;
      }
      tower_->pair_scores_backward(tower_params_, TowerInput::of_features(xu),
                                   TowerInput::of_features(xv), tc, ds, tower_grad);
      tower_opt.step(tower_params_, tower_grad);

      const RowMatrixXd& out = rank_->forward(rank_params_, x, mc);
      for (int i = 0; i < b; ++i) {
        rl += softplus(out(i, 0)) - y[i] * out(i, 0);
        dy(i, 0) = (sigmoid(out(i, 0)) - y[i]) / b;
      }
      rank_->backward(rank_params_, x, mc, dy, rank_grad, nullptr);
      rank_opt.step(rank_params_, rank_grad);
    }
    prerank_loss_ = tl / static_cast<double>(per_epoch);
    rank_loss_ = rl / static_cast<double>(per_epoch);
  }

  // Serving: every user's and item's tower output once; the rank MLP's first layer split into a
  // user part (with the bias) and an item part, so a request costs one add per hidden unit there.
  models::Tower::Cache c;
  user_emb_ = tower_->user_tower().forward(tower_params_, models::TowerInput::of_features(uf), c);
  item_emb_ = tower_->item_tower().forward(tower_params_, models::TowerInput::of_features(itf), c);
  const models::Dense& first = rank_->layers()[0];
  const RowMatrixXd& W = rank_params_[first.weight_index()];
  const RowMatrixXd& bias = rank_params_[first.bias_index()];
  user_first_ = uf * W.leftCols(du).transpose();
  user_first_.rowwise() += bias.row(0);
  item_first_ = itf * W.rightCols(dv).transpose();
}

void PipelineModels::prerank_scores(int u, std::span<const int> items,
                                    std::span<double> out) const {
  for (std::size_t i = 0; i < items.size(); ++i)
    out[i] = user_emb_.row(u).dot(item_emb_.row(items[i]));
}

void PipelineModels::rank_scores(int u, std::span<const int> items, std::span<double> out) const {
  const Eigen::Index n = static_cast<Eigen::Index>(items.size());
  RowMatrixXd h(n, user_first_.cols()), next;
  for (Eigen::Index i = 0; i < n; ++i)
    h.row(i) = (user_first_.row(u) + item_first_.row(items[i])).cwiseMax(0.0);
  const auto& layers = rank_->layers();
  for (std::size_t l = 1; l < layers.size(); ++l) {
    layers[l].forward(rank_params_, h, next);
    h.swap(next);
  }
  for (Eigen::Index i = 0; i < n; ++i) out[i] = h(i, 0);
}

namespace {

// Positions 0..n-1 sorted by score descending, ties to the lower position. The candidates come
// in their random draw order (rank: in pre-rank order), so tied items (KuaiRec items with the same
// tags, synthetic item groups) are ordered at random per request, as torch.topk over a randomly
// drawn candidate list does; ties by item id would expose the same low ids to everyone.
std::vector<int> by_score(std::span<const double> s) {
  std::vector<int> o(s.size());
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(),
            [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  return o;
}

}  // namespace

std::vector<int> simulate_request(const PipelineModels& models, const FullyObservedWorld& world,
                                  int u, std::span<const int> pool,
                                  std::span<const std::uint8_t> labels, const CascadeOptions& o,
                                  Rng& rng, RequestLog* log) {
  const int n = std::min<int>(o.candidates, static_cast<int>(pool.size()));
  std::vector<int> idx(pool.size());
  std::iota(idx.begin(), idx.end(), 0);
  for (int i = 0; i < n; ++i) {
    boost::random::uniform_int_distribution<int> j(i, static_cast<int>(idx.size()) - 1);
    std::swap(idx[i], idx[j(rng)]);
  }
  std::vector<int> cand(n);
  for (int i = 0; i < n; ++i) cand[i] = pool[idx[i]];
  std::vector<double> s(n);
  models.prerank_scores(u, cand, s);
  const std::vector<int> pre = by_score(s);
  const int keep2 = std::min(o.prerank_keep, n);
  const int pre_neg = std::min(o.prerank_negatives, n - keep2);
  std::vector<int> rc(keep2);
  for (int i = 0; i < keep2; ++i) rc[i] = cand[pre[i]];
  std::vector<double> rs(keep2);
  models.rank_scores(u, rc, rs);
  const std::vector<int> rk = by_score(rs);
  const int keep3 = std::min(o.rank_keep, keep2);
  const int rank_neg = std::min(o.rank_negatives, keep2 - keep3);

  std::vector<int> positives;
  if (log) log->begin_request(u);
  for (int i = 0; i < keep3; ++i) {
    const int p = pre[rk[i]];  // position in cand
    const bool y = labels[idx[p]] != 0;
    if (y) positives.push_back(cand[p]);
    if (log) log->add(cand[p], kExposed, y);
  }
  if (log) {
    for (int i = keep2 - rank_neg; i < keep2; ++i) log->add(rc[rk[i]], kRankDropped, false);
    for (int i = n - pre_neg; i < n; ++i) log->add(cand[pre[i]], kPrerankDropped, false);
    log->end_request();
  }
  std::sort(positives.begin(), positives.end());
  return positives;
}

LtrSplit simulate_splits(const PipelineModels& models, const FullyObservedWorld& world,
                         const CascadeOptions& o, std::uint64_t seed) {
  LtrSplit sp;
  sp.test.resize(world.users);
  sp.validation.resize(world.users);
  sp.known.resize(world.users);
  std::vector<int> pool;
  std::vector<std::uint8_t> labels;
  auto remove = [&](const std::vector<int>& gone) {
    std::size_t k = 0;
    for (std::size_t i = 0; i < pool.size(); ++i)
      if (!std::binary_search(gone.begin(), gone.end(), pool[i])) {
        pool[k] = pool[i];
        labels[k++] = labels[i];
      }
    pool.resize(k);
    labels.resize(k);
  };
  std::int64_t exposed = 0, clicks = 0;
  for (int u = 0; u < world.users; ++u) {
    Rng rng(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(u + 1)));
    const auto p = world.pool(u);
    const auto l = world.labels(u);
    pool.assign(p.begin(), p.end());
    labels.assign(l.begin(), l.end());
    sp.test[u] = simulate_request(models, world, u, pool, labels, o, rng, nullptr);
    remove(sp.test[u]);
    sp.validation[u] = simulate_request(models, world, u, pool, labels, o, rng, nullptr);
    remove(sp.validation[u]);
    sp.pool_items.insert(sp.pool_items.end(), pool.begin(), pool.end());
    sp.pool_offsets.push_back(static_cast<std::int64_t>(sp.pool_items.size()));
    std::vector<int>& known = sp.known[u];
    for (int r = 0; r < o.train_requests; ++r) {
      const std::size_t first = sp.train.rows();
      const std::vector<int> pos =
          simulate_request(models, world, u, pool, labels, o, rng, &sp.train);
      known.insert(known.end(), pos.begin(), pos.end());
      for (std::size_t i = first; i < sp.train.rows(); ++i)
        if (sp.train.level[i] == kExposed) ++exposed, clicks += sp.train.click[i];
    }
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
  }
  sp.train_click_rate = exposed ? static_cast<double>(clicks) / static_cast<double>(exposed) : 0.0;
  return sp;
}

}  // namespace stagesim::ranking
