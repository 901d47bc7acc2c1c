// Session world with a satisfaction state (a small, fully specified stateful world for the engine's
// session machinery; the KuaiRand-calibrated world builds on the same interface).
//
// Users u have preferences theta_u ~ N(0, I_d), items x_a ~ N(0, I_d / d). A request of user u
// shows the interaction features z_a = scale · theta_u ⊙ x_a (so a linear learner can personalise),
// and item a is clicked with p(u, a) = sigmoid(bias + Σ_j z_aj). Objectives per position: click
// (primary) and watch_time = click · Exp(watch_mean · (0.5 + p)).
// Satisfaction starts each session at `satisfaction`; every request costs `fatigue`, every click
// adds `boost`; the session ends when it is <= 0, with probability `leave` after any request
// (users also leave satisfied sessions), or after max_session requests. Within a session
// requests are `request_gap` apart; the user returns after an exponential gap with mean
// return_gap · exp(−kappa · clicks per request of the last session). Every random draw is a pure
// function of (world seed, purpose, user, the user's request or session number): common random
// numbers per user, whatever the other users were shown.
#include <cmath>
#include <queue>

#include <boost/random/normal_distribution.hpp>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct SatisfactionSessionOpts {
  int64_t users = 200;
  int64_t items = 100;
  int64_t dim = 8;
  double bias = -2.0;
  double scale = 2.0;
  double satisfaction = 1.0;
  double fatigue = 0.15;
  double boost = 0.4;
  double leave = 0.05;
  int64_t max_session = 1000;
  double request_gap = 0.001;
  double return_gap = 1.0;
  double kappa = 2.0;
  double watch_mean = 10.0;
};

class SatisfactionSessionWorld final : public World {
 public:
  SatisfactionSessionWorld(const SatisfactionSessionOpts& o, const StreamKey& key)
      : o_(o),
        n_users_(static_cast<int>(o.users)),
        k_(static_cast<int>(o.items)),
        d_(static_cast<int>(o.dim)),
        theta_(n_users_, d_),
        x_(k_, d_),
        q_(n_users_, k_),
        users_(n_users_),
        response_seed_(key.seed_for("responses")),
        return_seed_(key.seed_for("returns")),
        leave_seed_(key.seed_for("leaves")) {
    Rng init = key.stream("world");
    boost::random::normal_distribution<double> n01;
    for (int u = 0; u < n_users_; ++u)
      for (int j = 0; j < d_; ++j) theta_(u, j) = n01(init);
    const double sx = 1.0 / std::sqrt(static_cast<double>(d_));
    for (int a = 0; a < k_; ++a)
      for (int j = 0; j < d_; ++j) x_(a, j) = sx * n01(init);
    for (int u = 0; u < n_users_; ++u)
      for (int a = 0; a < k_; ++a) {
        double s = o_.bias;
        for (int j = 0; j < d_; ++j) s += o_.scale * theta_(u, j) * x_(a, j);
        q_(u, a) = 1.0 / (1.0 + std::exp(-s));
      }
    // First sessions start uniformly over one mean return gap.
    const std::uint64_t start_seed = key.seed_for("starts");
    for (int u = 0; u < n_users_; ++u)
      queue_.push({o_.return_gap * counter_uniform(start_seed, u), u});
  }

  int num_items() const override { return k_; }
  int dim() const override { return d_; }
  Tables tables() const override { return {&q_, nullptr, nullptr}; }

  void next(Request& req, int slate) override {
    events_.clear();
    const double t = queue_.top().first;
    const int u = queue_.top().second;
    queue_.pop();
    User& s = users_[u];
    if (!s.in_session) {
      s.in_session = true;
      s.satisfaction = o_.satisfaction;
      s.depth = 0;
      s.reward = 0;
      SessionEvent e;
      e.kind = SessionEvent::Kind::start;
      e.user = u;
      e.time = t;
      e.gap = s.sessions > 0 ? t - s.last_end : NAN;
      events_.push_back(e);
    }
    current_ = u;
    req.user = u;
    req.time = t;
    fill(req, slate, u,
         [&](int l, int c) { return counter_uniform(response_seed_, u, s.requests, 2 * l + c); });
  }

  bool sample_request(Request& req, int slate, Rng& rng) const override {
    const int u = static_cast<int>(rng() % static_cast<std::uint64_t>(n_users_));
    req.user = u;
    fill(req, slate, u, [&](int, int) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; });
    return true;
  }

  double reward(const Request& req, int item, int pos) const override {
    return req.noise[2 * pos] < q_(req.user, item) ? 1.0 : 0.0;
  }
  void outcomes(const Request& req, std::span<const int> served,
                std::span<double> out) const override {
    for (std::size_t l = 0; l < served.size(); ++l) {
      const double p = q_(req.user, served[l]);
      const double click = req.noise[2 * l] < p ? 1.0 : 0.0;
      out[2 * l] = click;
      out[2 * l + 1] = click * -std::log1p(-req.noise[2 * l + 1]) * o_.watch_mean * (0.5 + p);
    }
  }

  void observe(const Request& req, std::span<const int> served,
               std::span<const double> outcomes) override {
    User& s = users_[current_];
    double clicks = 0;
    for (std::size_t l = 0; l < served.size(); ++l) clicks += outcomes[2 * l];
    ++s.requests;
    ++s.depth;
    s.reward += clicks;
    s.satisfaction += o_.boost * clicks - o_.fatigue;
    const bool leaves = counter_uniform(leave_seed_, current_, s.requests) < o_.leave;
    if (s.satisfaction > 0 && !leaves && s.depth < o_.max_session) {
      queue_.push({req.time + o_.request_gap, current_});
      return;
    }
    SessionEvent e;
    e.kind = SessionEvent::Kind::end;
    e.user = current_;
    e.time = req.time;
    e.requests = s.depth;
    e.reward = s.reward;
    events_.push_back(e);
    s.in_session = false;
    s.last_end = req.time;
    const double mean_gap =
        o_.return_gap * std::exp(-o_.kappa * s.reward / static_cast<double>(s.depth));
    const double v = counter_uniform(return_seed_, current_, s.sessions);
    ++s.sessions;
    queue_.push({req.time + o_.request_gap - mean_gap * std::log1p(-v), current_});
  }

  std::span<const SessionEvent> events() const override { return events_; }

 private:
  struct User {
    bool in_session = false;
    double satisfaction = 0, reward = 0, last_end = 0;
    std::int64_t depth = 0, requests = 0, sessions = 0;
  };
  template <class Uniform>
  void fill(Request& req, int slate, int u, Uniform uniform) const {
    req.features.resize(k_, d_);
    for (int a = 0; a < k_; ++a)
      for (int j = 0; j < d_; ++j) req.features(a, j) = o_.scale * theta_(u, j) * x_(a, j);
    req.view_mean(q_.row(u).data(), k_);
    req.noise.resize(2 * slate);
    for (int l = 0; l < slate; ++l)
      for (int c = 0; c < 2; ++c) req.noise[2 * l + c] = uniform(l, c);
  }

  SatisfactionSessionOpts o_;
  int n_users_, k_, d_;
  RowMatrix theta_, x_, q_;
  std::vector<User> users_;
  std::uint64_t response_seed_, return_seed_, leave_seed_;
  // Next event per user: (time, user); ties go to the lower user id.
  using Arrival = std::pair<double, int>;
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> queue_;
  int current_ = -1;
  std::vector<SessionEvent> events_;
};

}  // namespace

WorldEntry satisfaction_session_world_entry() {
  using O = SatisfactionSessionOpts;
  OptionGroup<O> g;
  g.add("users", &O::users, "number of users", between<int64_t>(1, kMaxCount))
      .add("items", &O::items, "number of items", between<int64_t>(1, kMaxCount))
      .add("dim", &O::dim, "preference/item embedding dimension", between<int64_t>(1, kMaxCount))
      .add("bias", &O::bias, "click logit offset (sets the base click rate)")
      .add("scale", &O::scale, "scale of the preference term of the click logit",
           at_least<double>(0))
      .add("satisfaction", &O::satisfaction, "satisfaction at the start of a session",
           greater_than<double>(0))
      .add("fatigue", &O::fatigue, "satisfaction every request costs", greater_than<double>(0))
      .add("boost", &O::boost, "satisfaction every click adds", at_least<double>(0))
      .add("leave", &O::leave, "probability of leaving after any request, however satisfied",
           between<double>(0, 1))
      .add("max_session", &O::max_session, "a session ends after at most this many requests",
           at_least<int64_t>(1))
      .add("request_gap", &O::request_gap, "time between requests within a session",
           greater_than<double>(0))
      .add("return_gap", &O::return_gap, "mean gap before the next session (at zero clicks)",
           greater_than<double>(0))
      .add("kappa", &O::kappa,
           "return gap mean = return_gap · exp(−kappa · clicks per request of the last session)",
           at_least<double>(0))
      .add("watch_mean", &O::watch_mean, "scale of watch_time per click", at_least<double>(0));
  return make_entry<WorldBuild>(
      "world", "satisfaction_session",
      "stateful session world: satisfaction rises with clicks, falls with every request; users "
      "leave when it runs out and return after a gap",
      g, [](const O& o) {
        WorldBuild b;
        b.make = [o](const StreamKey& key) {
          return std::make_unique<SatisfactionSessionWorld>(o, key);
        };
        b.items = static_cast<int>(o.items);
        b.dim = static_cast<int>(o.dim);
        b.users = static_cast<int>(o.users);
        b.objectives = {"click", "watch_time"};
        b.stateful = true;
        b.owns_arrivals = true;
        b.has_tables = true;
        b.samples_requests = true;
        b.bytes = 8.0 * static_cast<double>((o.users + o.items) * o.dim + o.users * o.items +
                                            o.items * o.dim) +
                  64.0 * static_cast<double>(o.users);
        b.cost_per_request = 4.0 * static_cast<double>(o.items * o.dim);
        return b;
      });
}

}  // namespace stagesim
