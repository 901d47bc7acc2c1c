#pragma once
// Sum of the L largest expected rewards among a set of items: the oracle value of a slate of size L
// drawn from that set.
#include <algorithm>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace stagesim {

inline double top_sum(const Eigen::Ref<const Eigen::VectorXd>& mean, std::span<const int> items,
                      int L, std::vector<double>& scratch) {
  if (items.empty()) return 0;
  if (L == 1) {
    double best = mean[items[0]];
    for (int a : items) best = std::max(best, mean[a]);
    return best;
  }
  scratch.clear();
  for (int a : items) scratch.push_back(mean[a]);
  const int k = std::min<int>(L, static_cast<int>(scratch.size()));
  std::partial_sort(scratch.begin(), scratch.begin() + k, scratch.end(), std::greater<>());
  double s = 0;
  for (int i = 0; i < k; ++i) s += scratch[i];
  return s;
}

// Top-L sum over all items 0..n-1.
inline double top_sum_all(const Eigen::Ref<const Eigen::VectorXd>& mean, int L,
                          std::vector<double>& scratch) {
  if (L == 1) return mean.maxCoeff();
  scratch.assign(mean.data(), mean.data() + mean.size());
  const int k = std::min<int>(L, static_cast<int>(scratch.size()));
  std::partial_sort(scratch.begin(), scratch.begin() + k, scratch.end(), std::greater<>());
  double s = 0;
  for (int i = 0; i < k; ++i) s += scratch[i];
  return s;
}

}  // namespace stagesim
