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
  if (n > 0) {
    obs.segment(c, J) = preds.colwise().mean();
    obs.segment(c + J, J) = preds.colwise().maxCoeff();
  } else {
    obs.segment(c, 2 * J).setZero();
  }
  obs[c + 2 * J] = pool > 0 ? static_cast<double>(n) / pool : 0.0;
}

void top_positions(std::span<const double> scores, int keep, std::vector<int>& out) {
  const int n = static_cast<int>(scores.size());
  out.resize(static_cast<std::size_t>(n));
  std::iota(out.begin(), out.end(), 0);
  const int k = std::clamp(keep, 0, n);
  auto better = [&](int a, int b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); };
  std::partial_sort(out.begin(), out.begin() + k, out.end(), better);
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

void run_cascade(const CascadeShape& shape, const Eigen::RowVectorXd& context,
                 std::span<const int> pool, const PredictFn& predict, const PolicyFn& policy,
                 CascadeTrace& trace, const CascadeOptions& options) {
  const int N = shape.stages();
  trace.obs.resize(N);
  trace.action.resize(N);
  trace.decisions.resize(N);
  if (options.relaxed_jacobian) trace.jacobian.resize(std::max(N - 1, 0));
  const double pool_size = static_cast<double>(pool.size());
  std::vector<int> cand(pool.begin(), pool.end()), pos;
  RowMatrixXd preds, next_preds;
  std::vector<double> scores;
  for (int i = 0; i < N; ++i) {
    predict(i, cand, preds);
    observe(context, preds, pool_size, trace.obs[i]);
    policy(i, trace.obs[i], trace.action[i]);
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
    if (options.relaxed_jacobian && i + 1 < N) {
      predict(i + 1, cand, next_preds);
      relaxed_jacobian(preds, next_preds, scores, pos, shape.keep[i], options.temperature,
                       trace.jacobian[i]);
    }
    cand = d.ids;
  }
}

}  // namespace stagesim::multistage
