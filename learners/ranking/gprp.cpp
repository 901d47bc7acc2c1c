#include "learners/ranking/gprp.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace stagesim::ranking {

std::vector<int> top_indices(std::span<const double> values, int keep) {
  std::vector<int> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0);
  keep = std::clamp(keep, 0, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), [&](int a, int b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  idx.resize(keep);
  return idx;
}

std::vector<int> prp_select(std::span<const double> interest, int keep) {
  return top_indices(interest, keep);
}

std::vector<int> survival_weighted_select(std::span<const double> survival,
                                          std::span<const double> interest, int keep) {
  std::vector<double> w(interest.size());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = survival[i] * interest[i];
  return top_indices(w, keep);
}

std::vector<int> gprp_select(std::span<const double> next_score, std::span<const double> interest,
                             int keep, int next_keep) {
  const int n = static_cast<int>(interest.size());
  keep = std::clamp(keep, 0, n);
  if (n > 24) throw std::invalid_argument("gprp_select: at most 24 items (exhaustive search)");
  std::vector<int> best, set;
  double best_u = -std::numeric_limits<double>::infinity();
  // Subsets of size `keep` in lexicographic order of their bit masks; the first best wins.
  for (std::uint32_t m = 0; m < (1u << n); ++m) {
    if (std::popcount(m) != static_cast<unsigned>(keep)) continue;
    set.clear();
    for (int i = 0; i < n; ++i)
      if (m >> i & 1u) set.push_back(i);
    const double u = cascade_utility(set, next_score, interest, next_keep);
    if (u > best_u) best_u = u, best = set;
  }
  return best;
}

double cascade_utility(std::span<const int> kept, std::span<const double> survival,
                       std::span<const double> interest, int next_keep) {
  std::vector<double> s;
  for (int i : kept) s.push_back(survival[i]);
  double u = 0;
  for (int j : top_indices(s, next_keep)) u += interest[kept[j]];
  return u;
}

}  // namespace stagesim::ranking
