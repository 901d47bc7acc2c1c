#include "environments/fully_observed.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "environments/data/data_error.hpp"
#include "environments/data/kuairec.hpp"

namespace stagesim {

double FullyObservedWorld::label_rate() const {
  if (pool_labels.empty()) return 0.0;
  std::int64_t pos = 0;
  for (std::uint8_t y : pool_labels) pos += y;
  return static_cast<double>(pos) / static_cast<double>(pool_labels.size());
}

int FullyObservedWorld::label(int u, int v) const {
  const auto p = pool(u);
  const auto it = std::lower_bound(p.begin(), p.end(), v);
  return it != p.end() && *it == v ? labels(u)[it - p.begin()] : 0;
}

namespace {

std::string describe(const FullyObservedWorld& w, const std::string& what) {
  std::int64_t lo = w.items, hi = 0;
  for (int u = 0; u < w.users; ++u) {
    const std::int64_t n = w.pool_offsets[u + 1] - w.pool_offsets[u];
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: %d users x %d items, features %ld / %ld; pre-rank pools %.0f items on average "
                "(min %ld, max %ld), label rate %.2f %%",
                what.c_str(), w.users, w.items, static_cast<long>(w.user_features.cols()),
                static_cast<long>(w.item_features.cols()),
                w.users ? static_cast<double>(w.pool_items.size()) / w.users : 0.0,
                static_cast<long>(lo), static_cast<long>(hi), 100.0 * w.label_rate());
  return buf;
}

}  // namespace

std::string check_synthetic_fully_observed(const SyntheticFullyObservedOptions& o) {
  if (o.users < 1) return "users must be at least 1";
  if (o.items < 2) return "items must be at least 2";
  if (o.latent_dim < 1) return "latent_dim must be at least 1";
  if (o.noise_features < 0) return "noise_features must be at least 0";
  if (!(o.pool_share > 0 && o.pool_share <= 1)) return "pool_share must be in (0, 1]";
  if (!(o.label_rate > 0 && o.label_rate < 1)) return "label_rate must be in (0, 1)";
  if (!(o.popularity_effect >= 0 && o.noise_share >= 0 && o.popularity_effect + o.noise_share < 1))
    return "popularity_effect and noise_share must be >= 0 with a sum below 1";
  if (!(o.feature_noise >= 0)) return "feature_noise must be >= 0";
  if (!(o.activity_spread >= 0)) return "activity_spread must be >= 0";
  return "";
}

FullyObservedWorld make_synthetic_fully_observed(const SyntheticFullyObservedOptions& o, Rng& rng) {
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_01<double> uniform;
  const int d = o.latent_dim;
  // Latents scaled so that <p_u, q_v> has unit variance.
  const double scale = std::pow(static_cast<double>(d), -0.25);
  RowMatrixXd p(o.users, d), q(o.items, d);
  for (Eigen::Index i = 0; i < p.size(); ++i) p.data()[i] = scale * normal(rng);
  for (Eigen::Index i = 0; i < q.size(); ++i) q.data()[i] = scale * normal(rng);

  FullyObservedWorld w;
  w.users = o.users;
  w.items = o.items;
  auto features = [&](const RowMatrixXd& latent) {
    RowMatrixXd f(latent.rows(), d + o.noise_features);
    for (Eigen::Index r = 0; r < latent.rows(); ++r) {
      for (int c = 0; c < d; ++c) f(r, c) = latent(r, c) / scale + o.feature_noise * normal(rng);
      for (int c = 0; c < o.noise_features; ++c) f(r, d + c) = normal(rng);
    }
    return f;
  };
  w.user_features = features(p);
  w.item_features = features(q);

  // Popularity: a random permutation of ranks, weight (rank + 10)^−exponent; its standardised
  // log enters the label score so that popular items are also liked more often (as in KuaiRec).
  std::vector<int> rank(o.items);
  std::iota(rank.begin(), rank.end(), 0);
  for (int i = o.items - 1; i > 0; --i) {
    const int j = static_cast<int>(uniform(rng) * (i + 1));
    std::swap(rank[i], rank[std::min(j, i)]);
  }
  std::vector<double> weight(o.items), logw(o.items);
  double mean = 0, sq = 0;
  for (int v = 0; v < o.items; ++v) {
    weight[v] = std::pow(rank[v] + 10.0, -o.popularity_exponent);
    logw[v] = std::log(weight[v]);
    mean += logw[v];
  }
  mean /= o.items;
  for (int v = 0; v < o.items; ++v) sq += (logw[v] - mean) * (logw[v] - mean);
  const double sd = std::sqrt(sq / o.items);
  for (int v = 0; v < o.items; ++v) logw[v] = sd > 0 ? (logw[v] - mean) / sd : 0.0;

  // Pools: a log-normal share of the items per user, drawn without replacement ∝ weight
  // (Efraimidis–Spirakis keys u^(1/w), i.e. the largest log(u)/w).
  std::vector<double> key(o.items), score;
  std::vector<int> order(o.items);
  const double signal = 1.0 - o.popularity_effect - o.noise_share;
  for (int u = 0; u < o.users; ++u) {
    const double share = o.pool_share * std::exp(o.activity_spread * normal(rng) -
                                                 0.5 * o.activity_spread * o.activity_spread);
    const int n = std::clamp(static_cast<int>(std::lround(share * o.items)), 1, o.items);
    for (int v = 0; v < o.items; ++v) key[v] = std::log(std::max(uniform(rng), 1e-300)) / weight[v];
    std::iota(order.begin(), order.end(), 0);
    std::nth_element(order.begin(), order.begin() + (n - 1), order.end(),
                     [&](int a, int b) { return key[a] > key[b] || (key[a] == key[b] && a < b); });
    std::sort(order.begin(), order.begin() + n);
    for (int k = 0; k < n; ++k) {
      const int v = order[k];
      w.pool_items.push_back(v);
      score.push_back(std::sqrt(signal) * p.row(u).dot(q.row(v)) +
                      std::sqrt(o.popularity_effect) * logw[v] +
                      std::sqrt(o.noise_share) * normal(rng));
    }
    w.pool_offsets.push_back(static_cast<std::int64_t>(w.pool_items.size()));
  }
  // Threshold at the empirical (1 − label_rate) quantile: the label rate is exact.
  std::vector<double> sorted = score;
  const std::size_t cut = static_cast<std::size_t>((1.0 - o.label_rate) * sorted.size());
  std::nth_element(sorted.begin(), sorted.begin() + std::min(cut, sorted.size() - 1), sorted.end());
  const double threshold = sorted[std::min(cut, sorted.size() - 1)];
  w.pool_labels.resize(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) w.pool_labels[i] = score[i] >= threshold;
  w.summary = describe(w, "synthetic fully observed world");
  return w;
}

FullyObservedWorld load_kuairec_fully_observed(const std::filesystem::path& root) {
  data::InteractionOptions io;
  io.keep_details = true;
  const data::Interactions big =
      data::load_kuairec_interactions(data::kuairec_file(root, "big_matrix.csv"), io);
  const data::Interactions small =
      data::load_kuairec_interactions(data::kuairec_file(root, "small_matrix.csv"), io);
  if (big.size() == 0)
    throw data::DataError(data::kuairec_file(root, "big_matrix.csv").string(), "no interactions",
                          "point data_dir at the KuaiRec data");
  FullyObservedWorld w;
  w.users = static_cast<int>(big.users.size());
  w.items = static_cast<int>(big.items.size());
  for (int u = 0; u < w.users; ++u) w.user_ids.push_back(big.users.id(u));
  for (int v = 0; v < w.items; ++v) w.item_ids.push_back(big.items.id(v));
  // (user, item, label) packed into one word per row, big then small (ids mapped through big's
  // maps; a small id unknown to big is skipped and counted), sorted, then repeated pairs merged
  // (positive when any row is). 8 bytes per row: KuaiRec's 17 M rows take 140 MB.
  auto label = [](double play, double duration) -> std::uint64_t {
    if (!std::isfinite(play) || !std::isfinite(duration)) return 0;
    return duration <= 7000.0 ? play >= duration : play > 7000.0;
  };
  auto pack = [](std::int64_t u, std::int64_t v, std::uint64_t y) {
    return (static_cast<std::uint64_t>(u) << 33) | (static_cast<std::uint64_t>(v) << 1) | y;
  };
  std::vector<std::uint64_t> rows;
  rows.reserve(static_cast<std::size_t>(big.size() + small.size()));
  for (std::int64_t r = 0; r < big.size(); ++r)
    rows.push_back(
        pack(big.user[r], big.item[r], label(big.play_duration[r], big.video_duration[r])));
  std::int64_t unknown = 0;
  for (std::int64_t r = 0; r < small.size(); ++r) {
    const auto u = big.users.find(small.users.id(small.user[r]));
    const auto v = big.items.find(small.items.id(small.item[r]));
    if (!u || !v) {
      ++unknown;
      continue;
    }
    rows.push_back(pack(*u, *v, label(small.play_duration[r], small.video_duration[r])));
  }
  std::sort(rows.begin(), rows.end());
  int current = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int u = static_cast<int>(rows[i] >> 33);
    const int v = static_cast<int>((rows[i] >> 1) & 0xFFFFFFFFu);
    const std::uint8_t y = rows[i] & 1u;
    while (current < u)
      w.pool_offsets.push_back(static_cast<std::int64_t>(w.pool_items.size())), ++current;
    if (!w.pool_items.empty() &&
        w.pool_offsets.back() < static_cast<std::int64_t>(w.pool_items.size()) &&
        w.pool_items.back() == v) {
      w.pool_labels.back() |= y;  // sorted: a repeated pair follows its first row
      continue;
    }
    w.pool_items.push_back(v);
    w.pool_labels.push_back(y);
  }
  while (current < w.users)
    w.pool_offsets.push_back(static_cast<std::int64_t>(w.pool_items.size())), ++current;

  // User features: numeric columns (log1p of non-negative values, missing 0) + active degree.
  const data::UserFeatures uf =
      data::load_kuairec_user_features(data::kuairec_file(root, "user_features.csv"));
  std::vector<std::string> degrees;
  for (const std::string& s : uf.active_degree)
    if (std::find(degrees.begin(), degrees.end(), s) == degrees.end()) degrees.push_back(s);
  std::sort(degrees.begin(), degrees.end());
  const int numeric = static_cast<int>(uf.numeric.cols);
  w.user_features = RowMatrixXd::Zero(w.users, numeric + static_cast<int>(degrees.size()));
  for (std::size_t r = 0; r < uf.user_id.size(); ++r) {
    const auto u = big.users.find(uf.user_id[r]);
    if (!u) continue;
    for (int c = 0; c < numeric; ++c) {
      const double x = uf.numeric(static_cast<std::int64_t>(r), c);
      w.user_features(*u, c) = std::isfinite(x) ? (x >= 0 ? std::log1p(x) : x) : 0.0;
    }
    const auto it = std::find(degrees.begin(), degrees.end(), uf.active_degree[r]);
    w.user_features(*u, numeric + static_cast<int>(it - degrees.begin())) = 1.0;
  }
  // Item features: multi-hot tags 0..30.
  const data::ItemCategories ic =
      data::load_kuairec_item_categories(data::kuairec_file(root, "item_categories.csv"));
  w.item_features = RowMatrixXd::Zero(w.items, 31);
  for (std::size_t r = 0; r < ic.video_id.size(); ++r) {
    const auto v = big.items.find(ic.video_id[r]);
    if (!v) continue;
    for (std::int32_t t : ic.tags[static_cast<std::int64_t>(r)])
      if (t >= 0 && t < 31) w.item_features(*v, t) = 1.0;
  }
  w.summary = describe(w, "KuaiRec fully observed world (big + small matrix)");
  if (unknown > 0)
    w.summary += "; " + std::to_string(unknown) +
                 " small_matrix rows with ids unknown to big_matrix skipped";
  return w;
}

}  // namespace stagesim
