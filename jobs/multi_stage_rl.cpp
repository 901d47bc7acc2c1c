// The `multi_stage_rl` job: a three-stage fused-score cascade (matching, pre-rank, rank; stages as
// agents, learners/multi_stage/cascade.hpp) on the KuaiRand-shaped session world
// (environments/kuairand_session.hpp, `[world] type = "kuairand_session"`), trained in episodes
// of sessions and evaluated on fresh users, with KuaiSim's session metrics.
//
// Learners: fixed (the same weights at every request), cem (cross-entropy method over fixed
// weights), ddpg and td3 (one agent setting every stage's weights from the first observation),
// unex_ctde and unex_cic (one actor per stage, a global twin critic; downstream observations from
// the replay or from the cascading information chain), with stop_gradient (SG) and cqr (category
// quantile rescaling of the training reward).
//
// An episode = `episode_users` training users (population 0, cycling) living through all their
// sessions (up to the world's max_sessions); after each episode the current policy (no
// exploration) is evaluated on `eval_users` fresh users (population 1) for the learning curves;
// the final numbers are on `test_users` other fresh users (population 2). Training reward per
// request = Σ over the slate of reward_weights · (7 behaviours, play minutes) (or their CQR
// quantiles), plus −return_weight · return_day / max_return_day at each session's end.
// Streams: the world from the [world] table's own key (every learner faces the same catalogue and
// users, and each user the same draws: common random numbers); the learner from the task's key.
#include <algorithm>
#include <cmath>
#include <limits>

#include "environments/kuairand_session.hpp"
#include "learners/multi_stage/actor_critic.hpp"
#include "learners/multi_stage/category_quantile.hpp"
#include "learners/multi_stage/cem.hpp"
#include "metrics/session_summary.hpp"
#include "sim/errors.hpp"
#include "sim/job.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

using namespace multistage;

enum class LearnerKind { fixed, cem, ddpg, td3, unex_ctde, unex_cic };
const EnumTable<LearnerKind> kLearners{
    {"fixed", LearnerKind::fixed},         {"cem", LearnerKind::cem},
    {"ddpg", LearnerKind::ddpg},           {"td3", LearnerKind::td3},
    {"unex_ctde", LearnerKind::unex_ctde}, {"unex_cic", LearnerKind::unex_cic}};

struct MultiStageRlOpts {
  LearnerKind learner = LearnerKind::unex_cic;
  std::vector<int64_t> keep = {30, 12, 6};
  int64_t pool = 100;
  std::vector<double> prediction_noise = {1.0, 0.6, 0.3};
  std::vector<double> reward_weights = {0, 0, 0, 0, 0, 0, 0, 1};
  double return_weight = 0.0;
  int64_t episodes = 10;
  int64_t episode_users = 20;
  int64_t eval_users = 50;
  int64_t test_users = 200;
  int64_t retention_days = 1;
  int64_t depth_bins = 40;
  std::vector<double> weights = {0, 0, 0, 0, 0, 0, 0, 1};
  std::vector<double> group_weights = {};  // fixed: 8 per user activity group (every stage)
  // Actor–critic.
  bool session_terminal = true;
  bool stop_gradient = true;
  bool cic_critic_current = true;
  bool cic_actor = true;
  bool critic_downstream_obs = true;
  bool cqr = false;
  std::vector<int64_t> hidden = {32, 32};
  double actor_lr = 1e-3, critic_lr = 1e-3, gamma = 0.9, tau = 0.01;
  int64_t batch = 32;
  int64_t policy_delay = 2;
  double target_noise = 0.2, noise_clip = 0.5, exploration = 0.2;
  int64_t replay = 20000;
  int64_t update_every = 1;
  double temperature = 0.5;
  double action_l2 = 0.3;
  bool actor_init = false;
  // CEM.
  int64_t cem_population = 12;
  int64_t cem_elites = 3;
  int64_t cem_users = 10;
};

OptionGroup<MultiStageRlOpts> options() {
  using O = MultiStageRlOpts;
  OptionGroup<O> g;
  g.add("learner", &O::learner,
        "fixed | cem | ddpg | td3 (single agent) | unex_ctde | unex_cic (one actor per stage)",
        kLearners)
      .add("keep", &O::keep,
           "candidates each stage keeps (matching, pre-rank, rank); the last is the slate and "
           "must equal the world's `slate`")
      .add("pool", &O::pool, "stage-1 candidates per request (0 = the whole catalogue)",
           between<int64_t>(0, 1e8))
      .add("prediction_noise", &O::prediction_noise,
           "logit error sd of each stage's predictor (one per stage)")
      .add("reward_weights", &O::reward_weights,
           "training reward per item: weights of (click, long_view, like, comment, forward, "
           "follow, hate, play minutes)")
      .add("return_weight", &O::return_weight,
           "retention reward −return_weight · return_day / max_return_day at a session's end",
           at_least<double>(0))
      .add("episodes", &O::episodes, "training episodes (CEM: iterations)",
           between<int64_t>(1, 1e6))
      .add("episode_users", &O::episode_users, "training users per episode",
           between<int64_t>(1, 1e8))
      .add("eval_users", &O::eval_users, "fresh users of each learning-curve evaluation",
           between<int64_t>(1, 1e8))
      .add("test_users", &O::test_users, "fresh users of the final evaluation",
           between<int64_t>(1, 1e8))
      .add("retention_days", &O::retention_days,
           "retention = share of returns within this many days", between<int64_t>(1, 10000))
      .add("depth_bins", &O::depth_bins, "bins of the depth histogram (1..bins, last = more)",
           between<int64_t>(1, 100000))
      .add("weights", &O::weights,
           "fixed: fusion weights in [−1, 1], 8 (every stage) or 8 per stage; cem: the initial "
           "mean")
      .add("group_weights", &O::group_weights,
           "fixed: 8 fusion weights per user activity group (row-major, every stage; a per-user "
           "reference policy that reads the one-hot group of τ); [] = `weights` for everyone")
      .add("session_terminal", &O::session_terminal,
           "actor–critic learners: a session's last request is terminal in the TD target (true: "
           "the value is the rest of the session, so a session that ends early loses it; false: "
           "only the user's last session ends, and the next session's start follows a leave)")
      .add("stop_gradient", &O::stop_gradient,
           "unex_cic: SG (actor i's gradient only through its own action input)")
      .add("cic_critic_current", &O::cic_critic_current,
           "unex_cic: the critic's inputs re-derive a²…ᴺ under the current actors (true) or keep "
           "the stored actions (false: CIC then acts on the TD targets and the actor updates)")
      .add("cic_actor", &O::cic_actor,
           "unex_cic: actor updates on the chain re-derived under the current actors (true) or "
           "on the stored observations (false: CIC then acts on the TD targets only)")
      .add("critic_downstream_obs", &O::critic_downstream_obs,
           "unex: the global critic sees τ²…ᴺ (true, the spec's Q(τ¹…ᴺ, a¹…ᴺ)) or zeros in their "
           "place (false: Q(τ¹, a¹…ᴺ); diagnosis)")
      .add("cqr", &O::cqr,
           "actor–critic learners: train on each item reward's quantile within (user activity "
           "group, item first-tag group)")
      .add("hidden", &O::hidden, "hidden widths of actors and critics")
      .add("actor_lr", &O::actor_lr, "actor Adam learning rate", greater_than<double>(0))
      .add("critic_lr", &O::critic_lr, "critic Adam learning rate", greater_than<double>(0))
      .add("gamma", &O::gamma, "discount γ", between<double>(0, 1))
      .add("tau", &O::tau, "Polyak rate of the target networks", between<double>(0, 1))
      .add("batch", &O::batch, "replay batch", between<int64_t>(1, 1e6))
      .add("policy_delay", &O::policy_delay,
           "td3/unex: critic updates per actor and target update (ddpg: 1)",
           between<int64_t>(1, 1000))
      .add("target_noise", &O::target_noise, "td3/unex: target-policy smoothing sd",
           at_least<double>(0))
      .add("noise_clip", &O::noise_clip, "td3/unex: clip of the smoothing noise",
           at_least<double>(0))
      .add("exploration", &O::exploration, "behaviour noise sd on the actions", at_least<double>(0))
      .add("replay", &O::replay, "replay capacity (transitions)", between<int64_t>(1, 1e8))
      .add("update_every", &O::update_every, "requests per gradient update",
           between<int64_t>(1, 1e6))
      .add("temperature", &O::temperature,
           "unex_cic without SG: temperature of the relaxed selection (× score sd)",
           greater_than<double>(0))
      .add("action_l2", &O::action_l2,
           "actor–critic learners: penalty λ·‖a‖² on the actions (keeps tanh out of saturation; "
           "a fused score depends only on the direction of a)",
           at_least<double>(0))
      .add("actor_init", &O::actor_init,
           "actor–critic learners: start the actors at `weights` (output biases atanh(weights), "
           "CEM's starting point) instead of an almost random ranking")
      .add("cem_population", &O::cem_population, "cem: candidates per iteration",
           between<int64_t>(1, 1e5))
      .add("cem_elites", &O::cem_elites, "cem: elites per iteration", between<int64_t>(1, 1e5))
      .add("cem_users", &O::cem_users, "cem: training users scoring each candidate",
           between<int64_t>(1, 1e8));
  return g;
}

constexpr int J = kObjectives;

// The session loop shared by training and evaluation.
class Simulation {
 public:
  Simulation(const KuairandSessionWorld& w, const MultiStageRlOpts& o)
      : w_(w), o_(o), p_(w.params()) {
    shape_.keep.assign(o.keep.begin(), o.keep.end());
    shape_.context_dim = w.feature_dim() + 2;
    shape_.objectives = J;
  }
  const CascadeShape& shape() const { return shape_; }
  using Tables = std::vector<RowMatrixXd>;

  struct Step {  // what one request produced
    RequestKey key;
    const CascadeTrace* trace = nullptr;
    const RowMatrixXd* responses = nullptr;
    double reward = 0;  // raw training reward of the request (retention reward included)
    bool session_end = false, last = false;
  };

  // Runs every session of user u; `policy` acts, `on_step` sees each request (may be empty).
  void run_user(const SessionUser& u, std::int64_t index, const Eigen::VectorXd& aff,
                const Tables* tabs, const PolicyFn& policy,
                const std::function<void(const Step&)>& on_step, SessionSummary& summary) {
    std::int64_t request = 0;
    const std::int64_t S = p_.max_sessions;
    if (!tabs) {
      tables(aff, eval_tables_);
      tabs = &eval_tables_;
    }
    const PredictFn predict = predictor(*tabs);
    summary.begin_user();
    for (std::int64_t session = 0; session < S; ++session) {
      SessionState st;
      w_.start_session(u, st);
      double session_reward = 0;
      bool more = true;
      while (more) {
        context_.resize(shape_.context_dim);
        context_.head(w_.feature_dim()) = u.features;
        context_[w_.feature_dim()] = static_cast<double>(st.depth) / 10.0;
        context_[w_.feature_dim() + 1] = static_cast<double>(session) / static_cast<double>(S);
        w_.pool(u, request, static_cast<int>(o_.pool), pool_);
        run_cascade(shape_, context_, pool_, predict, policy, trace_);
        w_.respond(u, aff, request, trace_.served(), resp_);
        double r = 0;
        for (Eigen::Index l = 0; l < resp_.rows(); ++l) r += item_reward(l);
        session_reward += r;
        more = w_.update(u, request, resp_, st);
        Step s;
        s.key = {index, request};
        s.trace = &trace_;
        s.responses = &resp_;
        s.reward = r;
        if (!more) {
          s.session_end = true;
          s.last = session + 1 == S;
          if (!s.last) {
            const int day = w_.return_day(u, session, st);
            summary.add_return(day, static_cast<int>(o_.retention_days));
            s.reward -= o_.return_weight * day / static_cast<double>(p_.max_return_day);
          }
        }
        if (on_step) on_step(s);
        ++request;
      }
      summary.add_session(st.depth, session_reward, st.play);
    }
  }

  double item_reward(Eigen::Index l) const {
    double r = 0;
    for (int b = 0; b < kBehaviours; ++b) r += o_.reward_weights[b] * resp_(l, b);
    return r + o_.reward_weights[kPlayTime] * resp_(l, kPlayTime) / 60.0;
  }

  // Every stage's predictions of every item for one user (one table per stage): computed once
  // per user, so the cascade and its CIC re-runs only gather rows.
  void tables(const Eigen::VectorXd& aff, Tables& t) const {
    t.resize(static_cast<std::size_t>(shape_.stages()));
    if (all_.size() != static_cast<std::size_t>(w_.items())) {
      all_.resize(static_cast<std::size_t>(w_.items()));
      for (int i = 0; i < w_.items(); ++i) all_[i] = i;
    }
    for (int k = 0; k < shape_.stages(); ++k) w_.predict(aff, all_, k, t[k]);
  }
  static PredictFn predictor(const Tables& t) {
    return [&t](int stage, std::span<const int> items, RowMatrixXd& out) {
      const RowMatrixXd& tab = t[static_cast<std::size_t>(stage)];
      out.resize(static_cast<Eigen::Index>(items.size()), tab.cols());
      for (std::size_t k = 0; k < items.size(); ++k) out.row(k) = tab.row(items[k]);
    };
  }

 private:
  const KuairandSessionWorld& w_;
  const MultiStageRlOpts& o_;
  const SessionWorldParams& p_;
  CascadeShape shape_;
  Eigen::RowVectorXd context_;
  std::vector<int> pool_;
  CascadeTrace trace_;
  RowMatrixXd resp_;
  mutable std::vector<int> all_;
  Tables eval_tables_;
};

enum Output : std::size_t {
  kDepth,
  kDepthQ10,
  kDepthQ50,
  kDepthQ90,
  kDepthHistogram,
  kTotalReward,
  kAverageReward,
  kPlayTime,
  kPlayTimeSe,
  kReturnDay,
  kRetention,
  kUserRetention,
  kEvalPlayTime,
  kEvalDepth,
  kMeanAction,
  kTrainRequests,
  kUpdates,
  kOutputs
};

class MultiStageRlJob final : public Job {
 public:
  MultiStageRlJob(const MultiStageRlOpts& o, const SessionWorldParams& p, std::uint64_t world_scope)
      : o_(o), p_(p), world_scope_(world_scope) {}

  void run(JobContext& ctx) override {
    const StreamKey& key = ctx.key();
    const StreamKey wkey{key.master_seed, world_scope_, key.replication};
    const KuairandSessionWorld world(p_, wkey.seed_for("world"), o_.prediction_noise);
    Simulation sim(world, o_);
    const int N = sim.shape().stages();
    const std::vector<SessionUser> train = world.make_users(0, 0, p_.users);
    std::vector<Eigen::VectorXd> train_aff(train.size());
    std::vector<Simulation::Tables> train_tab(train.size());
    for (std::size_t k = 0; k < train.size(); ++k) {
      world.affinity(train[k], train_aff[k]);
      sim.tables(train_aff[k], train_tab[k]);
    }
    Rng rng = key.stream("learner");

    const std::vector<SessionUser> eval_users = world.make_users(1, 0, o_.eval_users);
    const std::vector<SessionUser> test_users = world.make_users(2, 0, o_.test_users);
    Eigen::VectorXd aff;
    auto evaluate = [&](const std::vector<SessionUser>& users, const PolicyFn& policy,
                        SessionSummary& s, Eigen::RowVectorXd* action_sum, double* count) {
      for (std::size_t k = 0; k < users.size(); ++k) {
        world.affinity(users[k], aff);
        std::function<void(const Simulation::Step&)> see;
        if (action_sum)
          see = [&](const Simulation::Step& st) {
            for (int i = 0; i < N; ++i) action_sum->segment(i * J, J) += st.trace->action[i];
            *count += 1;
          };
        sim.run_user(users[k], static_cast<std::int64_t>(k), aff, nullptr, policy, see, s);
      }
    };
    auto fixed_policy = [N](const Eigen::RowVectorXd& w) -> PolicyFn {
      return [w, N](int stage, const Eigen::RowVectorXd&, Eigen::RowVectorXd& a) {
        a = w.size() == J ? w : w.segment(stage * J, J);
      };
    };
    // group_weights: the row of the user's activity group, read from τ's one-hot head.
    const int G = static_cast<int>(p_.user_groups);
    auto group_policy = [G](const std::vector<double>& gw) -> PolicyFn {
      return [gw, G](int, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a) {
        int g = 0;
        for (int k = 1; k < G; ++k)
          if (obs[k] > obs[g]) g = k;
        a = Eigen::Map<const Eigen::RowVectorXd>(gw.data() + static_cast<std::size_t>(g) * J, J);
      };
    };
    auto record_eval = [&](std::int64_t episode, const PolicyFn& policy) {
      SessionSummary s;
      evaluate(eval_users, policy, s, nullptr, nullptr);
      ctx.output(kEvalPlayTime)[static_cast<std::size_t>(episode)] = s.play_time();
      ctx.output(kEvalDepth)[static_cast<std::size_t>(episode)] = s.depth();
    };

    Eigen::RowVectorXd w0(static_cast<Eigen::Index>(o_.weights.size()));
    for (std::size_t j = 0; j < o_.weights.size(); ++j) w0[j] = o_.weights[j];
    if (w0.size() == J && o_.learner == LearnerKind::cem) w0 = w0.replicate(1, N).eval();
    PolicyFn final_policy;
    std::unique_ptr<ActorCritic> ac;
    double requests = 0;
    std::int64_t next_user = 0;
    auto next_train_user = [&]() {
      const std::int64_t k = next_user % p_.users;
      ++next_user;
      return k;
    };

    switch (o_.learner) {
      case LearnerKind::fixed: {
        final_policy = o_.group_weights.empty() ? fixed_policy(w0) : group_policy(o_.group_weights);
        for (std::int64_t e = 0; e < o_.episodes; ++e) {
          record_eval(e, final_policy);
          ctx.advance(1);
        }
        break;
      }
      case LearnerKind::cem: {
        CemOptions co;
        co.population = static_cast<int>(o_.cem_population);
        co.elites = static_cast<int>(o_.cem_elites);
        co.iterations = static_cast<int>(o_.episodes);
        std::vector<std::int64_t> batch(static_cast<std::size_t>(o_.cem_users));
        int batch_of = -1;
        const CemResult res = run_cem(
            w0, co, rng,
            [&](const Eigen::RowVectorXd& w, int it, int) {
              // The iteration's users: every candidate is scored on the same ones.
              if (it != batch_of) {
                for (auto& k : batch) k = next_train_user();
                batch_of = it;
              }
              SessionSummary s;
              for (std::int64_t k : batch)
                sim.run_user(train[static_cast<std::size_t>(k)], k,
                             train_aff[static_cast<std::size_t>(k)],
                             &train_tab[static_cast<std::size_t>(k)], fixed_policy(w), nullptr, s);
              requests += s.requests();
              return s.total_reward();
            },
            [&](int it, const Eigen::RowVectorXd& mean) {
              record_eval(it, fixed_policy(mean));
              ctx.advance(1);
            });
        final_policy = fixed_policy(res.mean);
        break;
      }
      default: {
        ActorCriticOptions ao;
        ao.kind = o_.learner == LearnerKind::ddpg  ? ActorCriticKind::ddpg
                  : o_.learner == LearnerKind::td3 ? ActorCriticKind::td3
                                                   : ActorCriticKind::unex;
        ao.cic = o_.learner == LearnerKind::unex_cic;
        ao.stop_gradient = o_.stop_gradient;
        ao.cic_critic_current = o_.cic_critic_current;
        ao.cic_actor = o_.cic_actor;
        ao.critic_downstream_obs = o_.critic_downstream_obs;
        ao.hidden.assign(o_.hidden.begin(), o_.hidden.end());
        ao.actor_lr = o_.actor_lr;
        ao.critic_lr = o_.critic_lr;
        ao.gamma = o_.gamma;
        ao.tau = o_.tau;
        ao.batch = static_cast<int>(o_.batch);
        ao.policy_delay = static_cast<int>(o_.policy_delay);
        ao.target_noise = o_.target_noise;
        ao.noise_clip = o_.noise_clip;
        ao.exploration = o_.exploration;
        ao.replay = o_.replay;
        ao.temperature = o_.temperature;
        ao.action_l2 = o_.action_l2;
        if (o_.actor_init) {
          Eigen::RowVectorXd wa = w0;
          if (wa.size() == J) wa = w0.replicate(1, N);
          ao.init_action.assign(wa.data(), wa.data() + wa.size());
        }
        Rng init = key.stream("init");
        ac = std::make_unique<ActorCritic>(sim.shape(), ao, init);
        CategoryQuantile cqr(static_cast<int>(p_.user_groups), static_cast<int>(p_.item_groups));
        RequestSource source = [&](const RequestKey& k, RequestInputs& in) {
          world.pool(train[static_cast<std::size_t>(k.user)], k.request, static_cast<int>(o_.pool),
                     in.pool);
          in.predict = Simulation::predictor(train_tab[static_cast<std::size_t>(k.user)]);
        };
        Eigen::RowVectorXd noise;
        PolicyFn behaviour = ac->policy(&noise, &rng);
        std::int64_t since_update = 0;
        for (std::int64_t e = 0; e < o_.episodes; ++e) {
          for (std::int64_t n = 0; n < o_.episode_users; ++n) {
            const std::int64_t k = next_train_user();
            const SessionUser& u = train[static_cast<std::size_t>(k)];
            Transition pending;
            bool has_pending = false;
            SessionSummary s;
            sim.run_user(
                u, k, train_aff[static_cast<std::size_t>(k)],
                &train_tab[static_cast<std::size_t>(k)], behaviour,
                [&](const Simulation::Step& st) {
                  const CascadeTrace& tr = *st.trace;
                  if (has_pending) {
                    pending.next_key = st.key;
                    pending.next_obs = tr.obs;
                    ac->store(std::move(pending));
                  }
                  Transition t;
                  t.key = st.key;
                  t.obs = tr.obs;
                  t.action.resize(N * J);
                  for (int i = 0; i < N; ++i) t.action.segment(i * J, J) = tr.action[i];
                  t.noise = noise;
                  double r = st.reward;
                  if (o_.cqr) {
                    // Replace the slate's raw item rewards by their quantiles.
                    for (Eigen::Index l = 0; l < st.responses->rows(); ++l) {
                      const double raw = sim.item_reward(l);
                      r +=
                          cqr.add_and_rescale(u.group, world.item_group(tr.served()[l]), raw) - raw;
                    }
                  }
                  t.reward = r;
                  t.done = st.last || (o_.session_terminal && st.session_end);
                  if (t.done) {
                    ac->store(std::move(t));
                    has_pending = false;
                  } else {
                    pending = std::move(t);
                    has_pending = true;
                  }
                  requests += 1;
                  if (++since_update >= o_.update_every) {
                    since_update = 0;
                    ac->update(source, rng);
                  }
                },
                s);
          }
          record_eval(e, ac->policy(nullptr, nullptr));
          ctx.advance(1);
        }
        final_policy = ac->policy(nullptr, nullptr);
        break;
      }
    }

    SessionSummary s;
    Eigen::RowVectorXd action_sum = Eigen::RowVectorXd::Zero(N * J);
    double count = 0;
    evaluate(test_users, final_policy, s, &action_sum, &count);
    ctx.output(kDepth)[0] = s.depth();
    ctx.output(kDepthQ10)[0] = s.depth_quantile(0.1);
    ctx.output(kDepthQ50)[0] = s.depth_quantile(0.5);
    ctx.output(kDepthQ90)[0] = s.depth_quantile(0.9);
    const std::vector<double> h = s.depth_histogram(static_cast<int>(o_.depth_bins));
    std::copy(h.begin(), h.end(), ctx.output(kDepthHistogram).begin());
    ctx.output(kTotalReward)[0] = s.total_reward();
    ctx.output(kAverageReward)[0] = s.average_reward();
    ctx.output(kPlayTime)[0] = s.play_time();
    ctx.output(kPlayTimeSe)[0] = s.play_time_se();
    ctx.output(kReturnDay)[0] = s.return_day();
    ctx.output(kRetention)[0] = s.retention();
    ctx.output(kUserRetention)[0] = s.user_retention();
    for (int j = 0; j < N * J; ++j)
      ctx.output(kMeanAction)[static_cast<std::size_t>(j)] =
          count > 0 ? action_sum[j] / count : NAN;
    ctx.output(kTrainRequests)[0] = requests;
    ctx.output(kUpdates)[0] = ac ? static_cast<double>(ac->updates()) : 0.0;
  }

 private:
  MultiStageRlOpts o_;
  SessionWorldParams p_;
  std::uint64_t world_scope_;
};

JobBuild build(MultiStageRlOpts& o, const ParseContext& ctx) {
  if (!ctx.world_table || !ctx.world)
    throw KeyError("learner",
                   "needs a session world: add [world] type = \"kuairand_session\" to the file");
  const toml::node* type = ctx.world_table->get("type");
  if (!type || type->value_or(std::string()) != "kuairand_session")
    throw KeyError("learner", "needs [world] type = \"kuairand_session\" (the session world)");
  const SessionWorldParams p =
      session_world_params_from_table(*ctx.world_table, "world", ctx.data_dir, ctx.config_dir);
  const std::size_t N = o.keep.size();
  if (N < 1) throw KeyError("keep", "is empty; give one count per stage, e.g. [30, 12, 6]");
  for (std::size_t i = 0; i < N; ++i) {
    if (o.keep[i] < 1) throw KeyError("keep", "has a count < 1; every stage keeps at least one");
    if (i > 0 && o.keep[i] > o.keep[i - 1])
      throw KeyError("keep", "must not grow from stage to stage (each stage keeps a subset)");
  }
  if (o.keep.back() != p.slate)
    throw KeyError("keep", "ends with " + std::to_string(o.keep.back()) +
                               " but the world's slate is " + std::to_string(p.slate) +
                               "; the last stage keeps the slate");
  const int64_t pool = o.pool <= 0 || o.pool >= p.items ? p.items : o.pool;
  if (o.keep.front() > pool)
    throw KeyError("keep", "starts with " + std::to_string(o.keep.front()) +
                               " but a request has only " + std::to_string(pool) +
                               " candidates (pool / items)");
  if (o.prediction_noise.size() != N)
    throw KeyError("prediction_noise", "has " + std::to_string(o.prediction_noise.size()) +
                                           " values; give one per stage (" + std::to_string(N) +
                                           ")");
  for (double v : o.prediction_noise)
    if (!(v >= 0)) throw KeyError("prediction_noise", "values must be >= 0");
  if (o.reward_weights.size() != J)
    throw KeyError("reward_weights", "has " + std::to_string(o.reward_weights.size()) +
                                         " values; give 8 (7 behaviours, play minutes)");
  if (o.weights.size() != J && o.weights.size() != J * N)
    throw KeyError("weights", "has " + std::to_string(o.weights.size()) + " values; give 8 or " +
                                  std::to_string(J * N) + " (8 per stage)");
  for (double v : o.weights)
    if (!(v >= -1 && v <= 1)) throw KeyError("weights", "values must be in [-1, 1] (tanh bound)");
  if (!o.group_weights.empty() &&
      o.group_weights.size() != J * static_cast<std::size_t>(p.user_groups))
    throw KeyError("group_weights", "has " + std::to_string(o.group_weights.size()) +
                                        " values; give 8 per user activity group (" +
                                        std::to_string(J * p.user_groups) + ") or []");
  for (double v : o.group_weights)
    if (!(v >= -1 && v <= 1))
      throw KeyError("group_weights", "values must be in [-1, 1] (tanh bound)");
  if (o.cem_elites > o.cem_population)
    throw KeyError("cem_elites", "exceeds cem_population; elites are chosen among the candidates");
  for (int64_t h : o.hidden)
    if (h < 1 || h > 4096) throw KeyError("hidden", "widths must be in [1, 4096]");

  // The world's streams are keyed by its resolved table (not by the learner): common random
  // numbers across learners of a replication.
  std::stringstream ws;
  ws << session_world_table(p);
  const std::uint64_t world_scope = hash_text("kuairand_session\n" + ws.str());
  JobBuild b;
  b.make = [o, p, world_scope] { return std::make_unique<MultiStageRlJob>(o, p, world_scope); };
  std::vector<double> episodes, bins, weights;
  for (int64_t e = 1; e <= o.episodes; ++e) episodes.push_back(static_cast<double>(e));
  for (int64_t d = 1; d <= o.depth_bins; ++d) bins.push_back(static_cast<double>(d));
  for (std::size_t j = 0; j < N * J; ++j) weights.push_back(static_cast<double>(j));
  b.axes = {{"episode", "episodes", episodes},
            {"depth", "requests", bins},
            {"weight", "stage·8 + objective", weights}};
  b.outputs = {
      {"depth", "requests", "mean requests per session (test users)", {}},
      {"depth_q10", "requests", "10 % quantile of requests per session", {}},
      {"depth_q50", "requests", "median requests per session", {}},
      {"depth_q90", "requests", "90 % quantile of requests per session", {}},
      {"depth_histogram", "share", "share of sessions with each depth (last bin: more)", {"depth"}},
      {"total_reward", "reward", "mean total reward per session (reward_weights, raw)", {}},
      {"average_reward", "reward", "mean reward per request", {}},
      {"play_time", "s", "mean play time per session", {}},
      {"play_time_se", "s", "standard error of play time per session over test sessions", {}},
      {"return_day", "days", "mean gap before the next session", {}},
      {"retention", "share", "share of returns within retention_days (over sessions)", {}},
      {"user_retention", "share", "share of users whose first return is within retention_days", {}},
      {"eval_play_time",
       "s",
       "play time per session of fresh users after each episode",
       {"episode"}},
      {"eval_depth",
       "requests",
       "requests per session of fresh users after each episode",
       {"episode"}},
      {"mean_action", "weight", "mean fusion weight at test (stage-major)", {"weight"}},
      {"train_requests", "requests", "requests served in training", {}},
      {"updates", "updates", "critic updates", {}}};
  // Requests per user: sessions × the depth satisfaction allows at a typical request (the
  // initial level over the fatigue; 10 on the default world, where the constants below were
  // calibrated), capped by the leave hazard and max_requests.
  const double depth_guess = static_cast<double>(p.max_sessions) *
                             std::min({p.initial_satisfaction / std::max(p.fatigue, 1e-9),
                                       p.leave_hazard > 0 ? 1.0 / p.leave_hazard : INFINITY,
                                       static_cast<double>(p.max_requests)});
  const double cascade = static_cast<double>(pool) * (p.dim + 20.0 * J);
  const double users =
      static_cast<double>(o.episodes) * (o.learner == LearnerKind::cem
                                             ? static_cast<double>(o.cem_population * o.cem_users)
                                             : static_cast<double>(o.episode_users)) +
      static_cast<double>(o.episodes * o.eval_users + o.test_users);
  const bool ac = o.learner != LearnerKind::fixed && o.learner != LearnerKind::cem;
  // Per update: 3·batch cascade re-runs (CIC), their actor passes and the critics' backward —
  // about 8 cascades' worth each (calibrated on main.toml: 550 s at 2 threads).
  b.cost =
      users * depth_guess * cascade *
      (ac ? 1.0 + 24.0 * static_cast<double>(o.batch) / static_cast<double>(o.update_every) : 1.0);
  b.bytes = static_cast<double>(p.users * p.items) * 8.0 * (1.0 + J * static_cast<double>(N)) +
            static_cast<double>(o.replay) * 2000.0;
  b.work = o.episodes;
  b.work_units = "episodes";
  return b;
}

}  // namespace

JobEntry multi_stage_rl_job_entry() {
  return make_entry<JobBuild>(
      "job", "multi_stage_rl",
      "multi-stage RL on the KuaiRand-shaped session world: a 3-stage fused-score cascade whose "
      "stages' fusion weights are set by fixed weights, CEM, DDPG, TD3 or UNEX-RL (CTDE, CIC; "
      "SG, CQR); KuaiSim's session metrics on fresh users",
      options(), [](MultiStageRlOpts& o, const ParseContext& ctx) { return build(o, ctx); });
}

}  // namespace stagesim
