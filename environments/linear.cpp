// Synthetic linear world (two-stage-bandits spec §6.1): theta* uniform on the unit sphere per
// replication, fresh N(0, I_d) features for every item and request, r = <theta*, x> + N(0, sd^2).
#include <boost/random/normal_distribution.hpp>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct LinearOpts {
  int64_t items = 100;
  int64_t dim = 10;
  double noise_std = 0.1;
};

class LinearWorld final : public World {
 public:
  LinearWorld(const LinearOpts& o, const StreamKey& key)
      : k_(static_cast<int>(o.items)),
        d_(static_cast<int>(o.dim)),
        noise_std_(o.noise_std),
        theta_(d_),
        contexts_(key.stream("contexts")),
        noise_(key.stream("noise")) {
    Rng init = key.stream("world");
    boost::random::normal_distribution<double> n01;
    double norm2 = 0;
    for (int j = 0; j < d_; ++j) {
      theta_[j] = n01(init);
      norm2 += theta_[j] * theta_[j];
    }
    theta_ /= std::sqrt(norm2);
  }
  int num_items() const override { return k_; }
  int dim() const override { return d_; }

  void next(Request& req, int slate) override { draw(req, slate, contexts_, noise_); }
  bool sample_request(Request& req, int slate, Rng& rng) const override {
    draw(req, slate, rng, rng);
    return true;
  }
  double reward(const Request& req, int item, int pos) const override {
    return req.mean[item] + req.noise[pos];
  }
  const Eigen::VectorXd& theta() const { return theta_; }

 private:
  void draw(Request& req, int slate, Rng& contexts, Rng& noise) const {
    boost::random::normal_distribution<double> n01;
    req.features.resize(k_, d_);
    req.mean_storage.resize(k_);
    double* x = req.features.data();
    const std::ptrdiff_t cells = static_cast<std::ptrdiff_t>(k_) * d_;
    for (std::ptrdiff_t i = 0; i < cells; ++i) x[i] = n01(contexts);
    for (int a = 0; a < k_; ++a) {
      const double* row = x + static_cast<std::ptrdiff_t>(a) * d_;
      double m = 0;
      for (int j = 0; j < d_; ++j) m += row[j] * theta_[j];
      req.mean_storage[a] = m;
    }
    req.own_mean();
    req.noise.resize(slate);
    for (int l = 0; l < slate; ++l) req.noise[l] = noise_std_ * n01(noise);
  }

  int k_, d_;
  double noise_std_;
  Eigen::VectorXd theta_;
  Rng contexts_, noise_;
};

}  // namespace

WorldEntry linear_world_entry() {
  OptionGroup<LinearOpts> g;
  g.add("items", &LinearOpts::items, "number of items (arms) K", between<int64_t>(1, kMaxCount))
      .add("dim", &LinearOpts::dim, "feature dimension d", between<int64_t>(1, kMaxCount))
      .add("noise_std", &LinearOpts::noise_std, "standard deviation of the Gaussian reward noise",
           at_least<double>(0));
  return make_entry<WorldBuild>(
      "world", "linear",
      "synthetic linear bandit: theta* uniform on the sphere, x ~ N(0, I) per item and request", g,
      [](const LinearOpts& o) {
        WorldBuild b;
        b.make = [o](const StreamKey& key) { return std::make_unique<LinearWorld>(o, key); };
        b.items = static_cast<int>(o.items);
        b.dim = static_cast<int>(o.dim);
        b.cost_per_request = 30.0 * static_cast<double>(o.items * o.dim);
        // A request's features and means (a second request while feedback is in flight).
        b.bytes = 2.0 * 8.0 * static_cast<double>(o.items) * static_cast<double>(o.dim + 1);
        b.samples_requests = true;
        return b;
      });
}

}  // namespace stagesim
