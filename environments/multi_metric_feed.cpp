// A short-video feed with several metrics per impression, for fusion rankers (strategic
// parameters): every (user, item) has an expected watch ratio and an expected like propensity,
// and the world shows the ranker a model's predictions of both as the item features.
//
// Model (KuaiRec-shaped defaults, our choice, not fitted): users u have tastes a_u ~ N(0, I_d),
// items b_i ~ N(0, I_d / d) and two item effects c_i^w, c_i^l ~ N(0, 1) with correlation
// `item_correlation` (negative by default: long-watched videos are liked less, the trade-off a
// guardrail arbitrates). With affinity s_ui = a_u · b_i,
//   log w_ui     = log(watch_median) + watch_sigma · (√h c_i^w + √(1−h) s_ui),  clipped to clip
//   logit l_ui   = logit(like_rate)  + like_sigma  · (√h c_i^l + √(1−h) s_ui · like_affinity)
// (h = item_share). Impressions: watch ratio w_ui · exp(σ z − σ²/2) (z ~ N(0, 1), unbiased),
// like ~ Bernoulli(l_ui). Predictions (the features, fixed per replication like a trained
// model's): pred_w = w_ui · exp(ν z'), pred_l = sigmoid(logit l_ui + ν z''), ν = prediction_noise.
// Objectives: watch_ratio (primary), like. Requests draw a user uniformly; stateless, so every
// system of a unit sees the same requests and per-position noise (common random numbers).
#include <cmath>

#include <boost/random/normal_distribution.hpp>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct MultiMetricFeedOpts {
  int64_t users = 1411;  // KuaiRec small_matrix's users
  int64_t items = 1000;
  int64_t dim = 8;
  double watch_median = 0.8;
  double watch_sigma = 0.6;
  double clip = 10.0;
  double like_rate = 0.03;
  double like_sigma = 1.0;
  double like_affinity = 0.5;
  double item_share = 0.5;
  double item_correlation = -0.6;
  double watch_noise = 0.5;
  double prediction_noise = 0.3;
};

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

class MultiMetricFeedWorld final : public World {
 public:
  MultiMetricFeedWorld(const MultiMetricFeedOpts& o, const StreamKey& key)
      : o_(o),
        n_users_(static_cast<int>(o.users)),
        k_(static_cast<int>(o.items)),
        watch_(n_users_, k_),
        like_(n_users_, k_),
        pred_(static_cast<Eigen::Index>(n_users_) * k_, 2),
        users_(key.stream("users")),
        noise_(key.stream("noise")) {
    Rng init = key.stream("world");
    boost::random::normal_distribution<double> n01;
    const int d = static_cast<int>(o.dim);
    RowMatrix a(n_users_, d), b(k_, d);
    for (int u = 0; u < n_users_; ++u)
      for (int j = 0; j < d; ++j) a(u, j) = n01(init);
    const double sb = 1.0 / std::sqrt(static_cast<double>(d));
    for (int i = 0; i < k_; ++i)
      for (int j = 0; j < d; ++j) b(i, j) = sb * n01(init);
    Eigen::VectorXd cw(k_), cl(k_);
    const double rho = o.item_correlation, rho_c = std::sqrt(1 - rho * rho);
    for (int i = 0; i < k_; ++i) {
      cw[i] = n01(init);
      cl[i] = rho * cw[i] + rho_c * n01(init);
    }
    const double h = std::sqrt(o.item_share), hc = std::sqrt(1 - o.item_share);
    const double log_w = std::log(o.watch_median);
    const double logit_l = std::log(o.like_rate / (1 - o.like_rate));
    for (int u = 0; u < n_users_; ++u)
      for (int i = 0; i < k_; ++i) {
        const double s = a.row(u).dot(b.row(i));
        double w = std::exp(log_w + o.watch_sigma * (h * cw[i] + hc * s));
        if (o.clip > 0) w = std::min(w, o.clip);
        watch_(u, i) = w;
        const double lz = logit_l + o.like_sigma * (h * cl[i] + hc * o.like_affinity * s);
        like_(u, i) = sigmoid(lz);
        // The model's predictions: fixed errors per (user, item).
        const Eigen::Index r = static_cast<Eigen::Index>(u) * k_ + i;
        pred_(r, 0) = w * std::exp(o.prediction_noise * n01(init));
        pred_(r, 1) = sigmoid(lz + o.prediction_noise * n01(init));
      }
  }

  int num_items() const override { return k_; }
  int dim() const override { return 2; }
  Tables tables() const override { return {&watch_, nullptr, nullptr}; }

  void next(Request& req, int slate) override { draw(req, slate, users_, noise_); }
  bool sample_request(Request& req, int slate, Rng& rng) const override {
    draw(req, slate, rng, rng);
    return true;
  }
  double reward(const Request& req, int item, int pos) const override {
    return watch_(req.user, item) * req.noise[2 * pos];
  }
  void outcomes(const Request& req, std::span<const int> served,
                std::span<double> out) const override {
    for (std::size_t l = 0; l < served.size(); ++l) {
      const int i = served[l];
      out[2 * l] = watch_(req.user, i) * req.noise[2 * l];
      out[2 * l + 1] = req.noise[2 * l + 1] < like_(req.user, i) ? 1.0 : 0.0;
    }
  }

 private:
  // noise per position: [exp(σ z − σ²/2), a uniform for the like].
  void draw(Request& req, int slate, Rng& users, Rng& noise) const {
    const int u = static_cast<int>(users() % static_cast<std::uint64_t>(n_users_));
    req.user = u;
    req.features = pred_.middleRows(static_cast<Eigen::Index>(u) * k_, k_);
    req.view_mean(watch_.row(u).data(), k_);
    req.noise.resize(2 * slate);
    boost::random::normal_distribution<double> n01;
    const double s = o_.watch_noise;
    for (int l = 0; l < slate; ++l) {
      req.noise[2 * l] = std::exp(s * n01(noise) - 0.5 * s * s);
      req.noise[2 * l + 1] = static_cast<double>(noise() >> 11) * 0x1.0p-53;
    }
  }

  MultiMetricFeedOpts o_;
  int n_users_, k_;
  RowMatrix watch_, like_, pred_;
  Rng users_, noise_;
};

}  // namespace

WorldEntry multi_metric_feed_world_entry() {
  using O = MultiMetricFeedOpts;
  OptionGroup<O> g;
  g.add("users", &O::users, "number of users (KuaiRec small_matrix: 1411)", at_least<int64_t>(1))
      .add("items", &O::items, "number of items", at_least<int64_t>(1))
      .add("dim", &O::dim, "dimension of the user/item taste vectors", at_least<int64_t>(1))
      .add("watch_median", &O::watch_median, "median expected watch ratio", greater_than<double>(0))
      .add("watch_sigma", &O::watch_sigma, "log-scale spread of the expected watch ratio",
           at_least<double>(0))
      .add("clip", &O::clip, "expected watch ratios are clipped to this (0 = no clip)",
           at_least<double>(0))
      .add("like_rate", &O::like_rate, "median like propensity", between<double>(1e-6, 1 - 1e-6))
      .add("like_sigma", &O::like_sigma, "logit-scale spread of the like propensity",
           at_least<double>(0))
      .add("like_affinity", &O::like_affinity,
           "weight of the user's taste in the like logit relative to the watch ratio's",
           at_least<double>(0))
      .add("item_share", &O::item_share,
           "share of the item effect (vs the user-item affinity) in both metrics",
           between<double>(0, 1))
      .add("item_correlation", &O::item_correlation,
           "correlation of the items' watch and like effects (negative: a trade-off)",
           between<double>(-1, 1))
      .add("watch_noise", &O::watch_noise,
           "σ of the multiplicative log-normal noise of an impression's watch ratio",
           at_least<double>(0))
      .add("prediction_noise", &O::prediction_noise,
           "σ of the predictions' errors (log scale for watch, logit scale for like)",
           at_least<double>(0));
  return make_entry<WorldBuild>(
      "world", "multi_metric_feed",
      "feed with watch ratio (primary) and like per impression; features = predictions of both", g,
      [](const O& o) {
        WorldBuild b;
        b.make = [o](const StreamKey& key) {
          return std::make_unique<MultiMetricFeedWorld>(o, key);
        };
        b.items = static_cast<int>(o.items);
        b.dim = 2;
        b.users = static_cast<int>(o.users);
        b.objectives = {"watch_ratio", "like"};
        b.cost_per_request = 4.0 * static_cast<double>(o.items);
        return b;
      });
}

}  // namespace stagesim
