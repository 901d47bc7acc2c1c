// `[world] type = "kuairand_session"`: the KuaiRand-shaped session world
// (environments/kuairand_session.hpp) for the multi_stage_rl job, and as an engine world for any
// pipeline (stateful, owns its arrivals). As an engine world: users of population 0 arrive in
// continuous time (days): a user's first session starts at a uniform time in day 0, requests
// within a session are a minute apart, the next session starts return_day days after the last
// one started; there is no session cap (max_sessions is the job's). Each request offers the whole
// catalogue with the stage-1 predictor's 8 predicted objectives as features (scaled to the
// catalogue's typical size: x·a is a fusion score) and the true expected play time as the oracle.
// Objectives: play_time (primary, seconds), then the seven behaviours.
#include <cmath>
#include <queue>

#include "environments/kuairand_session.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

class KuairandEngineWorld final : public World {
 public:
  KuairandEngineWorld(const SessionWorldParams& p, const StreamKey& key)
      : w_(p, key.seed_for("world"), {0.0}),
        users_(w_.make_users(0, 0, p.users)),
        state_(users_.size()),
        aff_(users_.size()),
        all_(static_cast<std::size_t>(p.items)) {
    for (std::size_t u = 0; u < users_.size(); ++u) w_.affinity(users_[u], aff_[u]);
    for (int i = 0; i < p.items; ++i) all_[i] = i;
    const std::uint64_t start = key.seed_for("starts");
    for (std::size_t u = 0; u < users_.size(); ++u)
      queue_.push({counter_uniform(start, u), static_cast<int>(u)});
  }
  int num_items() const override { return w_.items(); }
  int dim() const override { return kObjectives; }

  void next(Request& req, int slate) override {
    events_.clear();
    const auto [t, u] = queue_.top();
    queue_.pop();
    User& s = state_[u];
    if (!s.in_session) {
      s.in_session = true;
      s.start = t;
      w_.start_session(users_[u], s.session);
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
    w_.predict(aff_[u], all_, 0, req.features);
    truth_.resize(0, 0);
    w_.predict(aff_[u], all_, -1, truth_);
    req.mean_storage = truth_.col(kPlayTime);
    req.own_mean();
    req.noise.resize(0);
  }
  double reward(const Request& req, int item, int pos) const override {
    double out[kObjectives];
    const int u = static_cast<int>(req.user);
    w_.respond_one(users_[u], aff_[u], state_[u].requests, item, pos, out);
    return out[kPlayTime];
  }
  void outcomes(const Request& req, std::span<const int> served,
                std::span<double> out) const override {
    const int u = static_cast<int>(req.user);
    double r[kObjectives];
    for (std::size_t l = 0; l < served.size(); ++l) {
      w_.respond_one(users_[u], aff_[u], state_[u].requests, served[l], static_cast<int>(l), r);
      out[l * kObjectives] = r[kPlayTime];
      for (int b = 0; b < kBehaviours; ++b) out[l * kObjectives + 1 + b] = r[b];
    }
  }
  void observe(const Request& req, std::span<const int> served,
               std::span<const double> outcomes) override {
    User& s = state_[current_];
    resp_.resize(static_cast<Eigen::Index>(served.size()), kObjectives);
    for (std::size_t l = 0; l < served.size(); ++l) {
      resp_(l, kPlayTime) = outcomes[l * kObjectives];
      for (int b = 0; b < kBehaviours; ++b) resp_(l, b) = outcomes[l * kObjectives + 1 + b];
    }
    const bool more = w_.update(users_[current_], s.requests, resp_, s.session);
    ++s.requests;
    if (more) {
      queue_.push({req.time + 1.0 / 1440.0, current_});
      return;
    }
    SessionEvent e;
    e.kind = SessionEvent::Kind::end;
    e.user = current_;
    e.time = req.time;
    e.requests = s.session.depth;
    e.reward = s.session.play;
    events_.push_back(e);
    const int day = w_.return_day(users_[current_], s.sessions, s.session);
    ++s.sessions;
    s.in_session = false;
    s.last_end = req.time;
    queue_.push({std::max(s.start + day, req.time + 1.0 / 1440.0), current_});
  }
  std::span<const SessionEvent> events() const override { return events_; }

 private:
  struct User {
    bool in_session = false;
    double start = 0, last_end = 0;
    std::int64_t requests = 0, sessions = 0;
    SessionState session;
  };
  KuairandSessionWorld w_;
  std::vector<SessionUser> users_;
  std::vector<User> state_;
  std::vector<Eigen::VectorXd> aff_;
  std::vector<int> all_;
  RowMatrixXd truth_, resp_;
  using Arrival = std::pair<double, int>;
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> queue_;
  int current_ = -1;
  std::vector<SessionEvent> events_;
};

}  // namespace

WorldEntry kuairand_session_world_entry() {
  WorldEntry e;
  e.type = "kuairand_session";
  e.help =
      "KuaiRand-shaped session world: 7 behaviours + play time, satisfaction that good responses "
      "raise and requests lower, truncated-geometric return days; params_file / data_params_file = "
      "a fitted [session_world] TOML (the multi_stage_rl job's world; also an engine world)";
  e.params = session_world_options().info();
  e.params.insert(e.params.begin(),
                  ParamInfo{"params_file", "string", "\"\"", "",
                            "fitted parameters ([session_world] TOML, e.g. from the calibration "
                            "job), relative to --data-dir; replaces data_params_file; keys given "
                            "here override the file's"});
  e.params.insert(e.params.begin() + 1,
                  ParamInfo{"data_params_file", "string", "\"\"", "",
                            "fitted parameters kept with the experiments (e.g. "
                            "params/kuairand_fixture_fit.toml), relative to the experiment file's "
                            "folder; the base when params_file is not given"});
  e.parse = [](const toml::table& t, const std::string& path, toml::table& resolved,
               const ParseContext& ctx) {
    const SessionWorldParams p =
        session_world_params_from_table(t, path, ctx.data_dir, ctx.config_dir);
    resolved.insert_or_assign("type", "kuairand_session");
    for (auto&& [k, v] : session_world_table(p)) resolved.insert_or_assign(k, v);
    WorldBuild b;
    b.make = [p](const StreamKey& key) { return std::make_unique<KuairandEngineWorld>(p, key); };
    b.items = static_cast<int>(p.items);
    b.dim = kObjectives;
    b.users = static_cast<int>(p.users);
    b.objectives = {"play_time"};
    for (std::string_view n : behaviour_names()) b.objectives.emplace_back(n);
    b.stateful = true;
    b.owns_arrivals = true;
    b.bytes = 8.0 * static_cast<double>(p.users * p.items + p.items * (p.dim + 40));
    b.cost_per_request = 40.0 * static_cast<double>(p.items) * kObjectives;
    return b;
  };
  return e;
}

}  // namespace stagesim
