#include "learners/ranking/topk_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stagesim::ranking {

TopKAccumulator::TopKAccumulator(std::vector<int> ks) : ks_(std::move(ks)), sum_(ks_.size()) {
  for (int k : ks_) {
    if (k < 1) throw std::invalid_argument("TopKAccumulator: K must be at least 1");
    max_k_ = std::max(max_k_, k);
  }
}

void TopKAccumulator::add_user(std::span<const int> ranked, std::span<const int> positives) {
  if (positives.empty()) {
    ++skipped_;
    return;
  }
  ++users_;
  positives_ += static_cast<std::int64_t>(positives.size());
  for (std::size_t j = 0; j < ks_.size(); ++j) {
    const int k = ks_[j];
    const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(k));
    double hits = 0, dcg = 0, idcg = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (std::binary_search(positives.begin(), positives.end(), ranked[i])) {
        hits += 1;
        dcg += 1.0 / std::log2(2.0 + static_cast<double>(i));
      }
    const std::size_t ideal = std::min(positives.size(), static_cast<std::size_t>(k));
    for (std::size_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(2.0 + static_cast<double>(i));
    TopKValues& s = sum_[j];
    s.hr += hits > 0;
    s.precision += hits / k;
    s.recall += hits / static_cast<double>(positives.size());
    s.recall_micro += hits;
    s.ndcg += dcg / idcg;
    s.dcg += dcg;
  }
}

std::vector<TopKValues> TopKAccumulator::values() const {
  std::vector<TopKValues> v(ks_.size());
  if (users_ == 0) return v;
  const double n = static_cast<double>(users_);
  for (std::size_t j = 0; j < ks_.size(); ++j) {
    const TopKValues& s = sum_[j];
    v[j] = {s.hr / n,     s.precision / n,
            s.recall / n, s.recall_micro / static_cast<double>(positives_),
            s.ndcg / n,   s.dcg / n};
  }
  return v;
}

}  // namespace stagesim::ranking
