// FS-LTR throughput, one thread: training pairs per second of FS-RN and FS-LR (one epoch of Adam
// steps over the groups of the default synthetic world's stage log — Table 3's world: 1,000 users
// × 10,728 items, 3 training requests per user — batch 128, MF dim 64), and evaluation scores per
// second (users × items scored and ranked for the retrieval stage).
//   fsltr_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include "environments/fully_observed.hpp"
#include "learners/ranking/ltr_learner.hpp"
#include "learners/ranking/mf_scorer.hpp"
#include "learners/ranking/pipeline.hpp"

namespace {

using namespace stagesim;
using namespace stagesim::ranking;

struct Setup {
  FullyObservedWorld world;
  std::optional<PipelineModels> models;
  LtrSplit split;
  Setup() {
    const SyntheticFullyObservedOptions o;  // the defaults: Table 3's world
    Rng rng(1);
    world = make_synthetic_fully_observed(o, rng);
    PipelineOptions po;
    po.examples = 50000;
    po.epochs = 1;
    models.emplace(world, po, rng);
    split = simulate_splits(*models, world, CascadeOptions{}, 2);
  }
};

const Setup& setup() {
  static const Setup s;
  return s;
}

void training(benchmark::State& state, LtrMethod method, bool lazy = false) {
  const Setup& s = setup();
  LtrOptions o;
  o.method = method;
  o.lazy_adam = lazy;
  Rng rng(3);
  const LtrGroups g = make_groups(s.world, s.split, o, rng);
  MfScorer mf({s.world.users, s.world.items, o.dim, o.temperature, o.init_sd});
  mf.init(rng);
  models::Adam opt;
  std::int64_t pairs = 0, groups = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(train_epoch(mf, opt, g, o, rng));
    pairs += g.pairs;
    groups += static_cast<std::int64_t>(g.count());
  }
  state.counters["pairs/s"] =
      benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
  state.counters["groups/s"] =
      benchmark::Counter(static_cast<double>(groups), benchmark::Counter::kIsRate);
}

void BM_TrainFsRankNet(benchmark::State& state) {
  training(state, LtrMethod::kFsRankNet);
}
void BM_TrainFsLambdaRank(benchmark::State& state) {
  training(state, LtrMethod::kFsLambdaRank);
}
void BM_TrainBpr(benchmark::State& state) {
  training(state, LtrMethod::kBpr);
}
// The job's default: lazy Adam (only the batch's embedding rows per step).
void BM_TrainFsRankNetLazy(benchmark::State& state) {
  training(state, LtrMethod::kFsRankNet, true);
}
void BM_TrainFsLambdaRankLazy(benchmark::State& state) {
  training(state, LtrMethod::kFsLambdaRank, true);
}
BENCHMARK(BM_TrainFsRankNet)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainFsRankNetLazy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainFsLambdaRankLazy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainFsLambdaRank)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainBpr)->Unit(benchmark::kMillisecond);

void BM_EvaluateRetrieval(benchmark::State& state) {
  const Setup& s = setup();
  LtrOptions o;
  MfScorer mf({s.world.users, s.world.items, o.dim, o.temperature, o.init_sd});
  Rng rng(4);
  mf.init(rng);
  std::int64_t scores = 0, users = 0;
  for (auto _ : state) {
    const TopKAccumulator acc = evaluate_ranking(mf, s.world, s.split, o, s.split.test, true);
    benchmark::DoNotOptimize(acc.values());
    scores += acc.users() * s.world.items;
    users += acc.users();
  }
  state.counters["scores/s"] =
      benchmark::Counter(static_cast<double>(scores), benchmark::Counter::kIsRate);
  state.counters["users/s"] =
      benchmark::Counter(static_cast<double>(users), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EvaluateRetrieval)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
