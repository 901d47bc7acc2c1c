#include "learners/moe/top_k_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace stagesim::moe {

std::vector<int> top_items(const Eigen::Ref<const Eigen::RowVectorXd>& scores, int k) {
  std::vector<int> idx(static_cast<std::size_t>(scores.size()));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min<int>(k, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });
  idx.resize(static_cast<std::size_t>(k));
  return idx;
}

TopKMetrics evaluate_top_k(const MoeModel& model, const LabeledProducts& data,
                           std::span<const std::int64_t> users, int k, int batch) {
  if (k < 1 || k > data.items) throw std::invalid_argument("evaluate_top_k: k outside [1, items]");
  double sp = 0, sp2 = 0, sr = 0, sr2 = 0;
  for (std::size_t begin = 0; begin < users.size(); begin += static_cast<std::size_t>(batch)) {
    const std::size_t end = std::min(users.size(), begin + static_cast<std::size_t>(batch));
    const auto chunk = users.subspan(begin, end - begin);
    const RowMatrixXd s = model.scores(gather_features(data, chunk));
    for (std::size_t b = 0; b < chunk.size(); ++b) {
      const auto& labels = data.labels[static_cast<std::size_t>(chunk[b])];
      if (labels.empty()) continue;  // both metrics are 0
      int hits = 0;
      for (int a : top_items(s.row(static_cast<Eigen::Index>(b)), k))
        hits += data.has_label(chunk[b], a) ? 1 : 0;
      const double p = hits / static_cast<double>(k);
      const double r = hits / static_cast<double>(labels.size());
      sp += p;
      sp2 += p * p;
      sr += r;
      sr2 += r * r;
    }
  }
  TopKMetrics m;
  m.users = static_cast<std::int64_t>(users.size());
  if (m.users == 0) return m;
  const double n = static_cast<double>(m.users);
  m.precision = sp / n;
  m.recall = sr / n;
  if (m.users > 1) {
    m.precision_se = std::sqrt(std::max(0.0, (sp2 / n - m.precision * m.precision) / (n - 1)));
    m.recall_se = std::sqrt(std::max(0.0, (sr2 / n - m.recall * m.recall) / (n - 1)));
  }
  return m;
}

}  // namespace stagesim::moe
