#include "learners/multi_stage/cascade.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stagesim::multistage {

void observe(const Eigen::RowVectorXd& context, const RowMatrixXd& preds, double pool,
             Eigen::RowVectorXd& obs) {
  const Eigen::Index c = context.size(), J = preds.cols(), n = preds.rows();
  obs.resize(c + 2 * J + 1);
  obs.head(c) = context;
  double* mean = obs.data() + c;
  double* max = mean + J;
  for (Eigen::Index j = 0; j < J; ++j) {
    mean[j] = 0;
    max[j] = n > 0 ? -INFINITY : 0.0;
  }
  for (Eigen::Index k = 0; k < n; ++k) {
    const double* p = preds.data() + k * J;  // row-major: one candidate's objectives
    for (Eigen::Index j = 0; j < J; ++j) {
      mean[j] += p[j];
      max[j] = std::max(max[j], p[j]);
    }
  }
  if (n > 0)
    for (Eigen::Index j = 0; j < J; ++j) mean[j] /= static_cast<double>(n);
  obs[c + 2 * J] = pool > 0 ? static_cast<double>(n) / pool : 0.0;
}

void top_positions(std::span<const double> scores, int keep, std::vector<int>& out) {
  const int n = static_cast<int>(scores.size());
  out.resize(static_cast<std::size_t>(n));
  std::iota(out.begin(), out.end(), 0);
  const int k = std::clamp(keep, 0, n);
  const double* s = scores.data();
  auto better = [s](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); };
  if (k < n) std::nth_element(out.begin(), out.begin() + k, out.end(), better);
  std::sort(out.begin(), out.begin() + k, better);
  out.resize(static_cast<std::size_t>(k));
}

namespace {

// ∂ soft-mean(q over candidates) / ∂a for scores s = P a, membership around the hard threshold.
void relaxed_jacobian(const RowMatrixXd& P, const RowMatrixXd& Q, std::span<const double> s,
                      const std::vector<int>& order_kept, int keep, double temperature,
                      RowMatrixXd& jac) {
  const Eigen::Index n = P.rows(), J = P.cols(), Jq = Q.cols();
  jac = RowMatrixXd::Zero(Jq, J);
  if (keep >= n || keep <= 0) return;
  // Threshold: midpoint between the last kept score and the best dropped one.
  double last = s[order_kept.back()], best_dropped = -INFINITY;
  std::vector<char> kept(static_cast<std::size_t>(n), 0);
  for (int p : order_kept) kept[p] = 1;
  double mean = 0, sq = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    if (!kept[k]) best_dropped = std::max(best_dropped, s[k]);
    mean += s[k];
    sq += s[k] * s[k];
  }
  mean /= static_cast<double>(n);
  const double sd = std::sqrt(std::max(sq / static_cast<double>(n) - mean * mean, 0.0));
  const double T = temperature * sd + 1e-12;
  const double theta = 0.5 * (last + best_dropped);
  Eigen::VectorXd m(n), w(n);
  for (Eigen::Index k = 0; k < n; ++k) m[k] = 1.0 / (1.0 + std::exp(-(s[k] - theta) / T));
  const double total = m.sum();
  const Eigen::RowVectorXd qbar = (m.transpose() * Q) / total;
  for (Eigen::Index k = 0; k < n; ++k) w[k] = m[k] * (1 - m[k]) / (T * total);
  // jac[j, l] = Σ_k w_k (q_kj − q̄_j) p_kl
  jac.noalias() = (Q.rowwise() - qbar).transpose() * w.asDiagonal() * P;
}

}  // namespace

namespace {

// Stage i of one request: predictions and observation of its candidates `cand`.
void stage_observe(const Eigen::RowVectorXd& context, const std::vector<int>& cand, int i,
                   double pool_size, const PredictFn& predict, RowMatrixXd& preds,
                   CascadeTrace& trace) {
  predict(i, cand, preds);
  observe(context, preds, pool_size, trace.obs[i]);
}

// Stage i of one request after its action: the selection (and the relaxed Jacobian).
void stage_select(const CascadeShape& shape, int i, const RowMatrixXd& preds,
                  const PredictFn& predict, std::vector<int>& cand, CascadeTrace& trace,
                  const CascadeOptions& options, std::vector<double>& scores,
                  std::vector<int>& pos, RowMatrixXd& next_preds) {
  const Eigen::RowVectorXd& a = trace.action[i];
  scores.resize(cand.size());
  Eigen::Map<Eigen::VectorXd>(scores.data(), static_cast<Eigen::Index>(scores.size())) =
      preds * a.transpose();
  top_positions(scores, shape.keep[i], pos);
  Decision& d = trace.decisions[i];
  d.clear();
  for (int p : pos) d.ids.push_back(cand[p]);
  d.payload.assign(a.data(), a.data() + a.size());
  if (options.scores) d.scores = scores;
  if (options.relaxed_jacobian && i + 1 < shape.stages()) {
    predict(i + 1, cand, next_preds);
    relaxed_jacobian(preds, next_preds, scores, pos, shape.keep[i], options.temperature,
                     trace.jacobian[i]);
  }
  cand = d.ids;
}

void resize_trace(const CascadeShape& shape, const CascadeOptions& options, CascadeTrace& t) {
  const int N = shape.stages();
  t.obs.resize(N);
  t.action.resize(N);
  t.decisions.resize(N);
  if (options.relaxed_jacobian) t.jacobian.resize(std::max(N - 1, 0));
}

}  // namespace

void run_cascade(const CascadeShape& shape, const Eigen::RowVectorXd& context,
                 std::span<const int> pool, const PredictFn& predict, const PolicyFn& policy,
                 CascadeTrace& trace, const CascadeOptions& options) {
  resize_trace(shape, options, trace);
  const double pool_size = static_cast<double>(pool.size());
  std::vector<int> cand(pool.begin(), pool.end()), pos;
  RowMatrixXd preds, next_preds;
  std::vector<double> scores;
  for (int i = 0; i < shape.stages(); ++i) {
    stage_observe(context, cand, i, pool_size, predict, preds, trace);
    policy(i, trace.obs[i], trace.action[i]);
    stage_select(shape, i, preds, predict, cand, trace, options, scores, pos, next_preds);
  }
}

void run_cascade_batch(const CascadeShape& shape, std::span<const Eigen::RowVectorXd> contexts,
                       std::span<const std::vector<int>> pools, std::span<const PredictFn> predict,
                       const BatchPolicyFn& policy, std::vector<CascadeTrace>& traces,
                       const CascadeOptions& options) {
  const std::size_t B = contexts.size();
  traces.resize(B);
  std::vector<std::vector<int>> cand(B);
  std::vector<RowMatrixXd> preds(B);
  for (std::size_t b = 0; b < B; ++b) {
    resize_trace(shape, options, traces[b]);
    cand[b] = pools[b];
  }
  RowMatrixXd obs, act, next_preds;
  std::vector<double> scores;
  std::vector<int> pos;
  for (int i = 0; i < shape.stages(); ++i) {
    for (std::size_t b = 0; b < B; ++b) {
      stage_observe(contexts[b], cand[b], i, static_cast<double>(pools[b].size()), predict[b],
                    preds[b], traces[b]);
      if (b == 0) obs.resize(static_cast<Eigen::Index>(B), traces[b].obs[i].size());
      obs.row(static_cast<Eigen::Index>(b)) = traces[b].obs[i];
    }
    policy(i, obs, act);
    for (std::size_t b = 0; b < B; ++b) {
      traces[b].action[i] = act.row(static_cast<Eigen::Index>(b));
      stage_select(shape, i, preds[b], predict[b], cand[b], traces[b], options, scores, pos,
                   next_preds);
    }
  }
}

}  // namespace stagesim::multistage
