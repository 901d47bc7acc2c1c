#include "learners/moe/moe_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace stagesim::moe {

namespace {

using models::TowerInput;

// In place: each row becomes softmax(row); returns nothing. Rows of -inf entries are not expected
// (learned gating has finite logits).
void softmax_rows(RowMatrixXd& m) {
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    const double mx = m.row(i).maxCoeff();
    m.row(i) = (m.row(i).array() - mx).exp();
    m.row(i) /= m.row(i).sum();
  }
}

void check_config(const MoeConfig& c) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("MoeModel: " + what); };
  if (c.features <= 0 || c.items <= 0 || c.item_dim <= 0) fail("features, items, item_dim > 0");
  if (c.subsets.empty()) fail("needs at least one expert (subsets)");
  if (!(c.sigma > 0)) fail("sigma must be positive");
  if (c.threads < 1) fail("threads must be >= 1");
  for (const auto& s : c.subsets) {
    if (s.empty()) fail("empty feature subset");
    for (int j : s)
      if (j < 0 || j >= c.features) fail("feature subset column " + std::to_string(j));
  }
  if (!c.fixed_pool_of_item.empty()) {
    if (static_cast<int>(c.fixed_pool_of_item.size()) != c.items)
      fail("fixed_pool_of_item needs one expert per item");
    for (int n : c.fixed_pool_of_item)
      if (n < 0 || n >= static_cast<int>(c.subsets.size())) fail("pool expert out of range");
  }
}

// Expert n: linear user tower over z[S_n], embedding item tower, r̂ = <W z[S], e_a>.
models::TwoTowerSpec expert_spec(const MoeConfig& c, int n) {
  models::TwoTowerSpec s;
  s.user.kind = models::TowerKind::kMlp;
  s.user.mlp = {static_cast<int>(c.subsets[n].size()),
                {c.item_dim},
                {models::Activation::kIdentity},
                /*bias=*/false};
  s.item.kind = models::TowerKind::kEmbedding;
  s.item.ids = c.items;
  s.item.dim = c.item_dim;
  return s;
}

}  // namespace

RowMatrixXd select_columns(const RowMatrixXd& z, std::span<const int> cols) {
  RowMatrixXd x(z.rows(), static_cast<Eigen::Index>(cols.size()));
  for (Eigen::Index b = 0; b < z.rows(); ++b)
    for (std::size_t j = 0; j < cols.size(); ++j)
      x(b, static_cast<Eigen::Index>(j)) = z(b, cols[j]);
  return x;
}

MoeModel::MoeModel(MoeConfig config, Rng& rng) : config_(std::move(config)) {
  check_config(config_);
  const int n_experts = experts();
  for (int n = 0; n < n_experts; ++n)
    experts_.emplace_back(params_, "expert" + std::to_string(n), expert_spec(config_, n));
  gate_.emplace(params_, "gate",
                models::DenseSpec{config_.features, n_experts, models::Activation::kIdentity,
                                  /*bias=*/false});
  item_gate_.emplace(params_, "item_gate", config_.items, n_experts);
  // W_n ~ N(0, 1/s): the Dense layer's fan-in default for an identity activation.
  for (const auto& e : experts_) e.user_tower().mlp()->layers()[0].init(params_, rng);
  for (const auto& e : experts_)
    e.item_tower().embedding()->init(params_, rng,
                                     0.1 / std::sqrt(static_cast<double>(config_.item_dim)));
  item_gate_->init(params_, rng, 0.1);  // G stays 0
}

std::size_t MoeModel::w_index(int n) const {
  return experts_[n].user_tower().mlp()->layers()[0].weight_index();
}

std::size_t MoeModel::e_index(int n) const {
  return experts_[n].item_tower().embedding()->index();
}

double MoeModel::objective(const RowMatrixXd& z, std::span<const int> items,
                           std::span<const double> rewards, models::ParameterSet* grad) const {
  const Eigen::Index B = z.rows();
  const int N = experts();
  if (z.cols() != config_.features || items.size() != static_cast<std::size_t>(B) ||
      rewards.size() != items.size())
    throw std::invalid_argument("MoeModel::objective: batch shapes disagree");
  if (B == 0) return 0.0;
  for (int a : items)
    if (a < 0 || a >= config_.items) throw std::invalid_argument("MoeModel: item out of range");
  if (grad != nullptr && !grad->same_layout(params_))
    throw std::invalid_argument("MoeModel::objective: gradient layout differs from params()");
  if (!learned_gating()) return fixed_pool_objective(z, items, rewards, grad);

  // Phase 1, per expert (independent, so parallel without any reduction): inputs, user towers,
  // the items' embeddings and predictions.
  std::vector<RowMatrixXd> X(N);
  std::vector<models::TwoTower::Cache> caches(N);
  RowMatrixXd rhat(B, N);
#pragma omp parallel for num_threads(config_.threads) schedule(static)
  for (int n = 0; n < N; ++n) {
    X[n] = select_columns(z, config_.subsets[n]);
    experts_[n].pair_scores(params_, TowerInput::of_features(X[n]), TowerInput::of_ids(items),
                            caches[n], rhat.col(n));
  }

  RowMatrixXd logp(B, N);
  gate_->forward(params_, z, logp);
  const RowMatrixXd& H = params_[h_index()];
  for (Eigen::Index b = 0; b < B; ++b) {
    logp.row(b) += H.row(items[b]);
    const double mx = logp.row(b).maxCoeff();
    logp.row(b).array() -= mx + std::log((logp.row(b).array() - mx).exp().sum());
  }

  // Phase 2, per example: the mixture log-likelihood and its derivatives w.r.t. r̂ and the logits.
  const double inv_var = 1.0 / (config_.sigma * config_.sigma);
  const double inv_b = 1.0 / static_cast<double>(B);
  RowMatrixXd d_rhat(B, N), d_logit(B, N);
  double total = 0.0;
  for (Eigen::Index b = 0; b < B; ++b) {
    const auto resid = (rewards[b] - rhat.row(b).array());
    const Eigen::Array<double, 1, Eigen::Dynamic> q =
        logp.row(b).array() - 0.5 * inv_var * resid.square();
    const double mx = q.maxCoeff();
    const double lse = mx + std::log((q - mx).exp().sum());
    total += lse;
    // Posterior responsibility of each expert for this example.
    const Eigen::Array<double, 1, Eigen::Dynamic> gamma = (q - lse).exp();
    d_rhat.row(b) = (inv_b * inv_var * gamma * resid).matrix();
    d_logit.row(b) = (inv_b * (gamma - logp.row(b).array().exp())).matrix();
  }
  if (grad == nullptr) return total * inv_b;

    // Phase 3, per expert: ∂/∂W_n = Σ_b δ_bn e_{n,a_b} x_bnᵀ, ∂/∂e_{n,a} = Σ_{b: a_b=a} δ_bn v_bn.
#pragma omp parallel for num_threads(config_.threads) schedule(static)
  for (int n = 0; n < N; ++n)
    experts_[n].pair_scores_backward(params_, TowerInput::of_features(X[n]),
                                     TowerInput::of_ids(items), caches[n], d_rhat.col(n), *grad);
  gate_->backward(params_, z, logp, d_logit, *grad, nullptr);
  item_gate_->backward(items, d_logit, *grad);
  return total * inv_b;
}

double MoeModel::fixed_pool_objective(const RowMatrixXd& z, std::span<const int> items,
                                      std::span<const double> rewards,
                                      models::ParameterSet* grad) const {
  // Only the pool's expert has p = 1, so each example touches one expert: gather each expert's
  // examples and skip the other N − 1 (the random baseline then costs 1/N of the MoE).
  const int N = experts();
  const double inv_var = 1.0 / (config_.sigma * config_.sigma);
  const double inv_b = 1.0 / static_cast<double>(z.rows());
  std::vector<double> partial(static_cast<std::size_t>(N), 0.0);
#pragma omp parallel for num_threads(config_.threads) schedule(static)
  for (int n = 0; n < N; ++n) {
    std::vector<Eigen::Index> rows;
    for (Eigen::Index b = 0; b < z.rows(); ++b)
      if (config_.fixed_pool_of_item[items[b]] == n) rows.push_back(b);
    const auto& cols = config_.subsets[n];
    RowMatrixXd x(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t j = 0; j < cols.size(); ++j)
        x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = z(rows[i], cols[j]);
    const models::Mlp& user_tower = *experts_[n].user_tower().mlp();
    models::Mlp::Cache cache;
    const RowMatrixXd& v = user_tower.forward(params_, x, cache);
    const RowMatrixXd& E = params_[e_index(n)];
    RowMatrixXd delta_e(x.rows(), config_.item_dim);  // row i: δ_i e_{n,a_i}
    if (grad != nullptr) (*grad)[e_index(n)].setZero();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto r = static_cast<Eigen::Index>(i);
      const int a = items[rows[i]];
      const double resid = rewards[rows[i]] - v.row(r).dot(E.row(a));
      partial[static_cast<std::size_t>(n)] -= 0.5 * inv_var * resid * resid;
      const double delta = inv_b * inv_var * resid;
      delta_e.row(r) = delta * E.row(a);
      if (grad != nullptr) (*grad)[e_index(n)].row(a) += delta * v.row(r);
    }
    if (grad != nullptr) user_tower.backward(params_, x, cache, delta_e, *grad, nullptr);
  }
  if (grad != nullptr) {
    (*grad)[g_index()].setZero();
    (*grad)[h_index()].setZero();
  }
  double total = 0.0;
  for (double p : partial) total += p;  // fixed order: independent of the thread count
  return total * inv_b;
}

std::vector<RowMatrixXd> MoeModel::expert_predictions(const RowMatrixXd& z) const {
  const int N = experts();
  std::vector<RowMatrixXd> r(N);
#pragma omp parallel for num_threads(config_.threads) schedule(static)
  for (int n = 0; n < N; ++n) {
    const RowMatrixXd x = select_columns(z, config_.subsets[n]);
    models::TwoTower::Cache cache;
    experts_[n].score_matrix(params_, TowerInput::of_features(x), TowerInput::all(), cache, r[n]);
  }
  return r;
}

RowMatrixXd MoeModel::gate_logits(const Eigen::Ref<const Eigen::RowVectorXd>& g) const {
  return params_[h_index()].rowwise() + g;
}

RowMatrixXd MoeModel::scores(const RowMatrixXd& z) const {
  const auto preds = expert_predictions(z);
  const Eigen::Index B = z.rows();
  RowMatrixXd s = RowMatrixXd::Zero(B, config_.items);
  if (!learned_gating()) {
    for (int a = 0; a < config_.items; ++a) s.col(a) = preds[config_.fixed_pool_of_item[a]].col(a);
    return s;
  }
  const RowMatrixXd g = z * params_[g_index()].transpose();
  for (Eigen::Index b = 0; b < B; ++b) {
    RowMatrixXd p = gate_logits(g.row(b));
    softmax_rows(p);
    for (int n = 0; n < experts(); ++n)
      s.row(b) += p.col(n).transpose().cwiseProduct(preds[n].row(b));
  }
  return s;
}

RowMatrixXd MoeModel::gate_sums(const RowMatrixXd& z) const {
  RowMatrixXd sums = RowMatrixXd::Zero(config_.items, experts());
  if (!learned_gating()) {
    for (int a = 0; a < config_.items; ++a)
      sums(a, config_.fixed_pool_of_item[a]) = static_cast<double>(z.rows());
    return sums;
  }
  const RowMatrixXd g = z * params_[g_index()].transpose();
  for (Eigen::Index b = 0; b < z.rows(); ++b) {
    RowMatrixXd p = gate_logits(g.row(b));
    softmax_rows(p);
    sums += p;
  }
  return sums;
}

RowMatrixXd MoeModel::contribution_sums(const RowMatrixXd& z) const {
  const auto preds = expert_predictions(z);
  RowMatrixXd sums = RowMatrixXd::Zero(config_.items, experts());
  if (!learned_gating()) {
    for (int a = 0; a < config_.items; ++a) {
      const int n = config_.fixed_pool_of_item[a];
      sums(a, n) = preds[n].col(a).cwiseAbs().sum();
    }
    return sums;
  }
  const RowMatrixXd g = z * params_[g_index()].transpose();
  for (Eigen::Index b = 0; b < z.rows(); ++b) {
    RowMatrixXd p = gate_logits(g.row(b));
    softmax_rows(p);
    for (int n = 0; n < experts(); ++n)
      sums.col(n) += p.col(n).cwiseProduct(preds[n].row(b).transpose()).cwiseAbs();
  }
  return sums;
}

}  // namespace stagesim::moe
