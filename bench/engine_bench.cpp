// Event-engine overhead against a hand-written bandit loop on a single-stage LinUCB system
// (experiments/single_stage.toml, the first quickstart), and whole-run wall time of that file at 1
// and 2 threads (HDF5 output included).
//   ./build/bench/engine_bench
#include <benchmark/benchmark.h>

#include <filesystem>
#include <numeric>

#include "sim/runner.hpp"

using namespace stagesim;

namespace {

std::string quickstart_path() {
  return std::string(STAGESIM_SOURCE_DIR) + "/experiments/single_stage.toml";
}
// Single-stage LinUCB / Greedy / Random (the pre-two-stage quickstart): the hand-loop comparison.
std::string single_stage_path() {
  return std::string(STAGESIM_SOURCE_DIR) + "/experiments/single_stage.toml";
}

Experiment linucb_only() {
  LoadOptions lo;
  lo.set = {"experiment.replications=1"};
  Experiment ex = load_experiment(single_stage_path(), lo, builtin_registry());
  ex.configs.resize(1);  // the LinUCB variant
  return ex;
}

// The engine: world + pipeline + metrics + calendar, one replication of the LinUCB system.
void BM_EngineQuickstartLinUcb(benchmark::State& state) {
  Experiment ex = linucb_only();
  Unit u = plan_units(ex)[0];
  u.configs = {0};
  for (auto _ : state) benchmark::DoNotOptimize(run_unit(ex, u));
}
BENCHMARK(BM_EngineQuickstartLinUcb)->Unit(benchmark::kMillisecond);

// The same computation written as the textbook loop by hand (same world, stage and regret sum).
void BM_HandLoopQuickstartLinUcb(benchmark::State& state) {
  Experiment ex = linucb_only();
  const Config& c = ex.configs[0];
  for (auto _ : state) {
    auto world = c.world.make(StreamKey{ex.seed, c.world_scope, 0});
    StageSetup setup;
    setup.num_items = world->num_items();
    setup.world_dim = world->dim();
    auto stage = c.stages[0].build.make(setup);
    Rng rng = StreamKey{ex.seed, c.stages[0].scope, 0}.stream("stage:policy", 0);
    std::vector<int> all(world->num_items());
    Decision dec;
    const std::vector<int>& chosen = dec.ids;
    std::iota(all.begin(), all.end(), 0);
    Request req;
    double regret = 0, reward = 0, w = 1.0;
    for (int t = 0; t < c.horizon; ++t) {
      world->next(req, 1);
      dec.clear();
      stage->select(req, all, 1, rng, dec);
      double r = world->reward(req, chosen[0], 0);
      regret += req.mean.maxCoeff() - req.mean[chosen[0]];
      reward += r;
      Feedback fb;
      fb.request = &req;
      fb.candidates = all;
      fb.selected = chosen;
      fb.served = chosen;
      fb.rewards = {&r, 1};
      fb.weights = {&w, 1};
      stage->learn({&fb, 1});
    }
    benchmark::DoNotOptimize(regret + reward);
  }
}
BENCHMARK(BM_HandLoopQuickstartLinUcb)->Unit(benchmark::kMillisecond);

// The whole file (3 systems × 30 replications, HDF5 written) at 1 and 2 threads.
void BM_QuickstartWallTime(benchmark::State& state) {
  Experiment ex = load_experiment(quickstart_path(), {}, builtin_registry());
  auto dir = std::filesystem::temp_directory_path() / "stagesim_bench";
  std::filesystem::create_directories(dir);
  RunOptions ro;
  ro.out = (dir / "quickstart.h5").string();
  ro.threads = static_cast<int>(state.range(0));
  ro.progress = false;
  for (auto _ : state) run_experiment(ex, ro);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_QuickstartWallTime)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A 4-stage cascade over 10 000 items (keeps 1000 / 200 / 50 / 10) with decisions and the stage
// log on (scores reported by every scoring stage): requests per second, and the log's size.
void BM_CascadeStageLog(benchmark::State& state) {
  const bool log = state.range(0) != 0;
  std::string text = R"(
[experiment]
seed = 3
replications = 1
horizon = 200
checkpoints = 1
[world]
type = "linear"
items = 10000
dim = 8
[stages.retrieval]
type = "greedy"
keep = 1000
[stages.prerank]
type = "greedy"
input = "retrieval"
keep = 200
[stages.rank]
type = "linucb"
input = "prerank"
keep = 50
[stages.rerank]
type = "greedy"
input = "rank"
keep = 10
[metrics.regret]
)";
  if (log) text += "[metrics.stage_log]\n";
  Experiment ex = parse_experiment(text, "cascade.toml", {}, builtin_registry());
  const Unit u = plan_units(ex)[0];
  double bytes = 0, rows = 0;
  for (auto _ : state) {
    std::vector<CellResult> cells = run_unit(ex, u);
    if (log) {
      const TableData& t = cells[0].tables[0];
      rows = static_cast<double>(t.rows);
      bytes = 0;
      for (std::size_t c = 0; c < t.columns.size(); ++c) bytes += 8.0 * t.columns[c].size();
    }
    benchmark::DoNotOptimize(cells);
  }
  state.counters["requests/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 200.0,
                                                    benchmark::Counter::kIsRate);
  state.counters["log_bytes/request"] = bytes / 200.0;
  state.counters["log_rows/request"] = rows / 200.0;
}
BENCHMARK(BM_CascadeStageLog)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
