#include "learners/ranking/losses.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace stagesim::ranking {

double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

namespace {
// softplus(x) and sigmoid(x) from one exp(−|x|): the same operations as the two functions above
// (bit for bit), one exp instead of two — the pair losses call both for every pair.
double softplus_sigmoid(double x, double& sig) {
  const double e = std::exp(-std::abs(x));
  if (x > 0) {
    sig = 1.0 / (1.0 + e);
    return x + std::log1p(e);
  }
  sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return std::log1p(e);
}
bool valid(Mask m, std::size_t i) {
  return m.empty() || m[i] != 0;
}
void zero(std::span<double> g) {
  std::fill(g.begin(), g.end(), 0.0);
}
}  // namespace

double bpr_loss(std::span<const double> s, Mask m, std::span<double> g) {
  zero(g);
  if (s.empty() || !valid(m, 0)) return 0.0;
  int n = 0;
  for (std::size_t j = 1; j < s.size(); ++j) n += valid(m, j);
  if (n == 0) return 0.0;
  double loss = 0;
  for (std::size_t j = 1; j < s.size(); ++j) {
    if (!valid(m, j)) continue;
    const double d = s[0] - s[j];
    double sig;
    loss += softplus_sigmoid(-d, sig);
    const double dd = -sig / n;  // ∂/∂d of softplus(−d), averaged
    g[0] += dd;
    g[j] -= dd;
  }
  return loss / n;
}

double softmax_loss(std::span<const double> s, Mask m, std::span<double> g) {
  zero(g);
  if (s.empty() || !valid(m, 0)) return 0.0;
  double mx = s[0];
  for (std::size_t j = 0; j < s.size(); ++j)
    if (valid(m, j)) mx = std::max(mx, s[j]);
  double z = 0;
  for (std::size_t j = 0; j < s.size(); ++j)
    if (valid(m, j)) z += std::exp(s[j] - mx);
  for (std::size_t j = 0; j < s.size(); ++j)
    if (valid(m, j)) g[j] = std::exp(s[j] - mx) / z;
  g[0] -= 1.0;
  return -s[0] + mx + std::log(z);
}

double bce_loss(std::span<const double> s, std::span<const double> y, Mask m, std::span<double> g) {
  zero(g);
  int n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) n += valid(m, i);
  if (n == 0) return 0.0;
  double loss = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!valid(m, i)) continue;
    loss += softplus(s[i]) - y[i] * s[i];
    g[i] = (sigmoid(s[i]) - y[i]) / n;
  }
  return loss / n;
}

namespace {

// Shared pair loop; weight(a, b) gives the pair's weight.
template <class Weight>
double pair_loss(std::span<const double> s, std::span<const double> l, Mask m, std::span<double> g,
                 std::int64_t* pairs, Weight weight) {
  zero(g);
  std::int64_t p = 0;
  for (std::size_t a = 0; a < s.size(); ++a)
    for (std::size_t b = 0; b < s.size(); ++b)
      if (valid(m, a) && valid(m, b) && l[a] > l[b]) ++p;
  if (pairs) *pairs = p;
  if (p == 0) return 0.0;
  double loss = 0;
  const double inv = 1.0 / static_cast<double>(p);
  for (std::size_t a = 0; a < s.size(); ++a) {
    if (!valid(m, a)) continue;
    for (std::size_t b = 0; b < s.size(); ++b) {
      if (!valid(m, b) || !(l[a] > l[b])) continue;
      const double w = weight(a, b);
      const double d = s[a] - s[b];
      double sig;
      loss += w * softplus_sigmoid(-d, sig);
      const double dd = -w * sig * inv;
      g[a] += dd;
      g[b] -= dd;
    }
  }
  return loss * inv;
}

}  // namespace

double ranknet_loss(std::span<const double> s, std::span<const double> l, Mask m,
                    std::span<double> g, std::int64_t* pairs) {
  return pair_loss(s, l, m, g, pairs, [](std::size_t, std::size_t) { return 1.0; });
}

double lambdarank_loss(std::span<const double> s, std::span<const double> l, Mask m,
                       std::span<double> g, std::int64_t* pairs) {
  const std::size_t n = s.size();
  // Scratch kept per thread: the loss runs once per training group (tens of thousands per
  // epoch), and four small allocations each showed in the profile.
  thread_local std::vector<int> order;
  thread_local std::vector<double> disc, gain, ideal;
  // Current ranks of the valid entries (0 = best).
  order.clear();
  for (std::size_t i = 0; i < n; ++i)
    if (valid(m, i)) order.push_back(static_cast<int>(i));
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  disc.assign(n, 0.0);
  gain.assign(n, 0.0);
  for (std::size_t r = 0; r < order.size(); ++r) disc[order[r]] = 1.0 / std::log2(2.0 + r);
  ideal.clear();
  for (int i : order) {
    gain[i] = std::exp2(l[i]) - 1.0;
    ideal.push_back(gain[i]);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  double idcg = 0;
  for (std::size_t r = 0; r < ideal.size(); ++r) idcg += ideal[r] / std::log2(2.0 + r);
  if (!(idcg > 0)) {
    zero(g);
    if (pairs) *pairs = 0;
    return 0.0;
  }
  return pair_loss(s, l, m, g, pairs, [&](std::size_t a, std::size_t b) {
    return std::abs((gain[a] - gain[b]) * (disc[a] - disc[b])) / idcg;
  });
}

double topk_distillation_loss(std::span<const double> s, std::span<const std::uint8_t> top, Mask m,
                              std::span<double> g) {
  zero(g);
  int nt = 0, nr = 0;
  double st = 0, sr = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!valid(m, i)) continue;
    if (top[i])
      ++nt, st += s[i];
    else
      ++nr, sr += s[i];
  }
  if (nt == 0 || nr == 0) return 0.0;
  const double d = st / nt - sr / nr;
  const double dd = -sigmoid(-d);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (valid(m, i)) g[i] = top[i] ? dd / nt : -dd / nr;
  return softplus(-d);
}

double mse_loss(std::span<const double> s, std::span<const double> t, Mask m, std::span<double> g) {
  zero(g);
  int n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) n += valid(m, i);
  if (n == 0) return 0.0;
  double loss = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!valid(m, i)) continue;
    const double e = s[i] - t[i];
    loss += e * e;
    g[i] = 2.0 * e / n;
  }
  return loss / n;
}

}  // namespace stagesim::ranking
