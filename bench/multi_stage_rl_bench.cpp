// Multi-stage RL: environment throughput — requests per second through the 3-stage fused-score
// cascade over a 10 000-item catalogue (stage-1 pool = the whole catalogue, keep 500 / 50 / 6),
// with the world's responses and satisfaction update, one thread — and training steps per
// second of UNEX-RL-CIC, UNEX-RL-CTDE and TD3 (one critic update, every second one with an actor
// and target update; batch 32) on the job's default small world.
//   ./build/bench/multi_stage_rl_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include "environments/kuairand_session.hpp"
#include "learners/multi_stage/actor_critic.hpp"

using namespace stagesim;
using namespace stagesim::multistage;

namespace {

struct Setup {
  SessionWorldParams p;
  std::unique_ptr<KuairandSessionWorld> world;
  std::vector<SessionUser> users;
  std::vector<Eigen::VectorXd> aff;
  std::vector<std::vector<RowMatrixXd>> tables;
  CascadeShape shape;
  int pool = 0;

  Setup(int items, int users_n, std::vector<int> keep, int pool_size) : pool(pool_size) {
    p.items = items;
    p.users = users_n;
    world = std::make_unique<KuairandSessionWorld>(p, 5, std::vector<double>{1.0, 0.6, 0.3});
    users = world->make_users(0, 0, users_n);
    aff.resize(users.size());
    tables.resize(users.size());
    std::vector<int> all(items);
    for (int i = 0; i < items; ++i) all[i] = i;
    for (std::size_t u = 0; u < users.size(); ++u) {
      world->affinity(users[u], aff[u]);
      tables[u].resize(3);
      for (int k = 0; k < 3; ++k) world->predict(aff[u], all, k, tables[u][k]);
    }
    shape.keep = std::move(keep);
    shape.context_dim = world->feature_dim() + 2;
    shape.objectives = kObjectives;
  }
  PredictFn predictor(std::size_t u) const {
    const auto* t = &tables[u];
    return [t](int stage, std::span<const int> items, RowMatrixXd& out) {
      const RowMatrixXd& tab = (*t)[stage];
      out.resize(static_cast<Eigen::Index>(items.size()), tab.cols());
      for (std::size_t k = 0; k < items.size(); ++k) out.row(k) = tab.row(items[k]);
    };
  }
};

// One iteration = one request: pool, three stages (observation, fixed fusion weights, top-k),
// responses, satisfaction update (a new session when the last one ended).
void environment_requests(benchmark::State& state) {
  Setup s(10000, 20, {500, 50, 6}, 0);
  Eigen::RowVectorXd w = Eigen::RowVectorXd::Zero(kObjectives);
  w[kPlayTime] = 1;
  w[1] = 0.5;
  PolicyFn fixed = [&](int, const Eigen::RowVectorXd&, Eigen::RowVectorXd& a) { a = w; };
  CascadeTrace trace;
  std::vector<int> pool;
  RowMatrixXd resp;
  std::vector<PredictFn> pred;
  for (std::size_t u = 0; u < s.users.size(); ++u) pred.push_back(s.predictor(u));
  std::size_t u = 0;
  std::int64_t request = 0;
  SessionState st;
  s.world->start_session(s.users[0], st);
  Eigen::RowVectorXd ctx = Eigen::RowVectorXd::Zero(s.shape.context_dim);
  for (auto _ : state) {
    s.world->pool(s.users[u], request, s.pool, pool);
    ctx.head(s.world->feature_dim()) = s.users[u].features;
    run_cascade(s.shape, ctx, pool, pred[u], fixed, trace);
    s.world->respond(s.users[u], s.aff[u], request, trace.served(), resp);
    if (!s.world->update(s.users[u], request, resp, st)) {
      u = (u + 1) % s.users.size();
      s.world->start_session(s.users[u], st);
    }
    ++request;
    benchmark::DoNotOptimize(resp.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(environment_requests)->Unit(benchmark::kMicrosecond);

// One iteration = one training step (ActorCritic::update) from a replay of 2000 transitions.
void training_steps(benchmark::State& state, ActorCriticKind kind, bool cic) {
  Setup s(1000, 50, {30, 12, 6}, 100);
  ActorCriticOptions o;
  o.kind = kind;
  o.cic = cic;
  o.batch = 32;
  Rng init(1), rng(2);
  ActorCritic ac(s.shape, o, init);
  RequestSource source = [&](const RequestKey& k, RequestInputs& in) {
    s.world->pool(s.users[k.user], k.request, s.pool, in.pool);
    in.predict = s.predictor(static_cast<std::size_t>(k.user));
  };
  Eigen::RowVectorXd noise;
  PolicyFn behaviour = ac.policy(&noise, &rng);
  CascadeTrace prev, cur;
  for (std::int64_t k = 0; k < 2000; ++k) {
    const std::int64_t u = k % 50, r = k / 50;
    RequestInputs in;
    source({u, r}, in);
    Eigen::RowVectorXd ctx = Eigen::RowVectorXd::Zero(s.shape.context_dim);
    ctx.head(s.world->feature_dim()) = s.users[u].features;
    run_cascade(s.shape, ctx, in.pool, in.predict, behaviour, cur);
    Transition t;
    t.key = {u, r};
    t.next_key = {u, r + 1};
    t.obs = cur.obs;
    t.next_obs = cur.obs;
    t.action.resize(ac.action_dim());
    for (int i = 0; i < 3; ++i) t.action.segment(i * kObjectives, kObjectives) = cur.action[i];
    t.noise = noise;
    t.reward = 1.0;
    ac.store(std::move(t));
  }
  for (auto _ : state) ac.update(source, rng);
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(training_steps, unex_cic, ActorCriticKind::unex, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(training_steps, unex_ctde, ActorCriticKind::unex, false)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(training_steps, td3, ActorCriticKind::td3, false)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
