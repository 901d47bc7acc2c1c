#include "sim/select.hpp"

#include <algorithm>
#include <numeric>

#include <boost/random/uniform_int_distribution.hpp>

namespace stagesim {

int uniform_index(Rng& rng, int n) {
  return boost::random::uniform_int_distribution<int>(0, n - 1)(rng);
}

int argmax(std::span<const double> s, Rng& rng) {
  const int n = static_cast<int>(s.size());
  int best = 0;
  int ties = 1;
  for (int i = 1; i < n; ++i) {
    if (s[i] > s[best]) {
      best = i;
      ties = 1;
    } else if (s[i] == s[best]) {
      ++ties;
    }
  }
  if (ties == 1) return best;
  int pick = uniform_index(rng, ties);
  for (int i = best; i < n; ++i)
    if (s[i] == s[best] && pick-- == 0) return i;
  return best;
}

void top_k(std::span<const double> s, int k, Rng& rng, std::vector<int>& out) {
  const int n = static_cast<int>(s.size());
  k = std::min(k, n);
  if (k <= 0) return;
  if (k == 1) {
    out.push_back(argmax(s, rng));
    return;
  }
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  auto better = [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  // Shuffle each run of equal scores inside the top k; for the run at the boundary, draw which of
  // all the tied items (also those beyond k) make the cut.
  int i = 0;
  while (i < k) {
    int j = i + 1;
    while (j < k && s[idx[j]] == s[idx[i]]) ++j;
    const double v = s[idx[i]];
    if (j == k) {
      std::vector<int> tied;
      for (int a = 0; a < n; ++a)
        if (s[a] == v) tied.push_back(a);
      if (tied.size() > 1) {
        for (int t = static_cast<int>(tied.size()) - 1; t > 0; --t)
          std::swap(tied[t], tied[uniform_index(rng, t + 1)]);
        std::copy(tied.begin(), tied.begin() + (k - i), idx.begin() + i);
      }
    } else if (j - i > 1) {
      for (int t = j - 1; t > i; --t) std::swap(idx[t], idx[i + uniform_index(rng, t - i + 1)]);
    }
    i = j;
  }
  out.insert(out.end(), idx.begin(), idx.begin() + k);
}

void uniform_sample(int n, int k, Rng& rng, std::vector<int>& out, std::vector<int>& scratch) {
  k = std::min(k, n);
  scratch.resize(n);
  std::iota(scratch.begin(), scratch.end(), 0);
  for (int i = 0; i < k; ++i) {
    int j = i + uniform_index(rng, n - i);
    std::swap(scratch[i], scratch[j]);
    out.push_back(scratch[i]);
  }
}

}  // namespace stagesim
