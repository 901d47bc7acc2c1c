// Synthetic multi-objective linear world: m objectives, each with its own theta_j uniform on the
// unit sphere (independent per replication); fresh N(0, I_d) features per item and request;
// outcome_j = <theta_j, x> + N(0, sd^2). The first objective is the primary one (the oracle for
// regret and what learners train on by default). The smallest world in which "trained on A" and
// "trained on B" are different systems.
#include <boost/random/normal_distribution.hpp>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct MultiObjectiveLinearOpts {
  int64_t items = 100;
  int64_t dim = 10;
  std::vector<std::string> objectives = {"a", "b"};
  double noise_std = 0.1;
};

class MultiObjectiveLinearWorld final : public World {
 public:
  MultiObjectiveLinearWorld(const MultiObjectiveLinearOpts& o, const StreamKey& key)
      : k_(static_cast<int>(o.items)),
        d_(static_cast<int>(o.dim)),
        m_(static_cast<int>(o.objectives.size())),
        noise_std_(o.noise_std),
        theta_(m_, d_),
        contexts_(key.stream("contexts")),
        noise_(key.stream("noise")) {
    Rng init = key.stream("world");
    boost::random::normal_distribution<double> n01;
    for (int j = 0; j < m_; ++j) {
      for (int c = 0; c < d_; ++c) theta_(j, c) = n01(init);
      theta_.row(j) /= theta_.row(j).norm();
    }
  }
  int num_items() const override { return k_; }
  int dim() const override { return d_; }

  void next(Request& req, int slate) override { draw(req, slate, contexts_, noise_); }
  bool sample_request(Request& req, int slate, Rng& rng) const override {
    draw(req, slate, rng, rng);
    return true;
  }
  double reward(const Request& req, int item, int pos) const override {
    return req.mean[item] + req.noise[pos * m_];
  }
  void outcomes(const Request& req, std::span<const int> served,
                std::span<double> out) const override {
    for (std::size_t l = 0; l < served.size(); ++l) {
      const double* x = req.features.row(served[l]).data();
      for (int j = 0; j < m_; ++j) {
        double v = 0;
        for (int c = 0; c < d_; ++c) v += theta_(j, c) * x[c];
        out[l * m_ + j] = v + req.noise[l * m_ + j];
      }
    }
  }

 private:
  void draw(Request& req, int slate, Rng& contexts, Rng& noise) const {
    boost::random::normal_distribution<double> n01;
    req.features.resize(k_, d_);
    req.mean_storage.resize(k_);
    double* x = req.features.data();
    for (int i = 0; i < k_ * d_; ++i) x[i] = n01(contexts);
    for (int a = 0; a < k_; ++a) {
      double v = 0;
      for (int c = 0; c < d_; ++c) v += theta_(0, c) * x[a * d_ + c];
      req.mean_storage[a] = v;
    }
    req.own_mean();
    req.noise.resize(static_cast<Eigen::Index>(slate) * m_);
    for (Eigen::Index i = 0; i < req.noise.size(); ++i) req.noise[i] = noise_std_ * n01(noise);
  }

  int k_, d_, m_;
  double noise_std_;
  RowMatrix theta_;
  Rng contexts_, noise_;
};

}  // namespace

WorldEntry multi_objective_linear_world_entry() {
  OptionGroup<MultiObjectiveLinearOpts> g;
  g.add("items", &MultiObjectiveLinearOpts::items, "number of items K",
        between<int64_t>(1, kMaxCount))
      .add("dim", &MultiObjectiveLinearOpts::dim, "feature dimension d",
           between<int64_t>(1, kMaxCount))
      .add("objectives", &MultiObjectiveLinearOpts::objectives,
           "names of the objectives, primary first (each has its own theta)")
      .add("noise_std", &MultiObjectiveLinearOpts::noise_std,
           "standard deviation of the Gaussian noise of every objective", at_least<double>(0));
  return make_entry<WorldBuild>(
      "world", "multi_objective_linear",
      "linear bandit with several objectives: theta_j per objective, x ~ N(0, I)", g,
      [](const MultiObjectiveLinearOpts& o) {
        if (o.objectives.empty())
          throw KeyError("objectives", "must name at least one objective");
        for (std::size_t i = 0; i < o.objectives.size(); ++i)
          for (std::size_t j = 0; j < i; ++j)
            if (o.objectives[i] == o.objectives[j] || o.objectives[i].empty())
              throw KeyError("objectives", "must list distinct, non-empty names");
        WorldBuild b;
        b.make = [o](const StreamKey& key) {
          return std::make_unique<MultiObjectiveLinearWorld>(o, key);
        };
        b.items = static_cast<int>(o.items);
        b.dim = static_cast<int>(o.dim);
        b.objectives = o.objectives;
        b.samples_requests = true;
        b.bytes = 8.0 * static_cast<double>(o.items * o.dim + o.dim * o.objectives.size());
        b.cost_per_request = 30.0 * static_cast<double>(o.items * o.dim);
        return b;
      });
}

}  // namespace stagesim
