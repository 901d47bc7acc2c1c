// Cost of one Fig. 3 run (experiments/two_stage/fig3.toml): K = 100 items, d = 40 features, N = 5
// LinUCB nominators on s features and a LinUCB ranker (U+U), T = 1000 requests.
//   BM_TwoStageRun/s      one replication as the runner does it: world + system + metrics
//   BM_TwoStageUnitOfSixSystems/s  the six systems of fig3.toml on one shared world
//   BM_LinearWorld        generating the 1000 requests (100 × 40 normals each); a system's own
//                         cost is BM_TwoStageRun minus this (requests are served while in cache,
//                         so timing a system on stored requests would overstate it)
//   ./build/bench/two_stage_bench
#include <benchmark/benchmark.h>

#include "sim/runner.hpp"

using namespace stagesim;

namespace {

Experiment fig3_point(int s, const std::string& items = "100") {
  LoadOptions lo;
  lo.set = {"experiment.replications=1", "world.items=[" + items + "]",
            "setting=[{\"world.dim\" = 40, \"stages.nominators.features\" = " + std::to_string(s) +
                ", \"stages.nominators.replicas\" = 5}]"};
  return load_experiment(std::string(STAGESIM_SOURCE_DIR) + "/experiments/two_stage/fig3.toml", lo,
                         builtin_registry());
}

std::size_t uu(const Experiment& ex) {
  for (const Config& c : ex.configs)
    if (c.variant == "U+U") return c.index;
  throw std::runtime_error("fig3.toml has no U+U variant");
}

void BM_TwoStageRun(benchmark::State& state) {
  Experiment ex = fig3_point(static_cast<int>(state.range(0)));
  Unit u = plan_units(ex)[0];
  u.configs = {uu(ex)};
  for (auto _ : state) benchmark::DoNotOptimize(run_unit(ex, u));
}
BENCHMARK(BM_TwoStageRun)->Arg(40)->Arg(20)->Arg(8)->Arg(4)->Unit(benchmark::kMillisecond);

// All six systems of one grid point (G, U, U+U, U+G, G+U, G+G) in one unit: the world is generated
// once and shared, as the runner does for every (K, d) of fig3.toml.
void BM_TwoStageUnitOfSixSystems(benchmark::State& state) {
  Experiment ex = fig3_point(static_cast<int>(state.range(0)));
  const Unit u = plan_units(ex)[0];
  if (u.configs.size() != 6) throw std::runtime_error("expected the six systems in one unit");
  for (auto _ : state) benchmark::DoNotOptimize(run_unit(ex, u));
}
BENCHMARK(BM_TwoStageUnitOfSixSystems)
    ->Arg(40)
    ->Arg(20)
    ->Arg(8)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond);

void BM_LinearWorld(benchmark::State& state) {
  Experiment ex = fig3_point(20);
  const Config& c = ex.configs[0];
  Request req;
  for (auto _ : state) {
    auto world = c.world.make(StreamKey{ex.seed, c.world_scope, 0});
    for (std::int64_t i = 0; i < c.horizon; ++i) world->next(req, 1);
    benchmark::DoNotOptimize(req.features.data());
  }
}
BENCHMARK(BM_LinearWorld)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
