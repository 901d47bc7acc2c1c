// Mixture-of-Experts pool learning (spec §7, paper Fig. 5) on the synthetic AmazonCat-13K
// stand-in (environments/synthetic_multilabel.hpp; 400 feature columns, categories ranked
// 3rd..102nd kept = 100 items).
//   MoeTrain:  training throughput (examples/s) of one epoch, args N, d_e, s, threads.
//   MoeFig5:   one Fig. 5 grid point (N, d_e, c, s) per benchmark, P@5 / R@5 of MoE and random
//              pools as counters; docs/moe.md shows how to run the grid. Heavy: filter it.
// Data size: STAGESIM_MOE_PRODUCTS (default 70000) products, of which STAGESIM_MOE_TEST (default
// 50000, the paper's test set size) are held out in MoeFig5.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "environments/multilabel_data.hpp"
#include "environments/synthetic_multilabel.hpp"
#include "learners/moe/pool_learning.hpp"

namespace {

using namespace stagesim::moe;
using stagesim::Rng;

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::stoll(v) : fallback;
}

const LabeledProducts& products() {
  static const LabeledProducts data = [] {
    stagesim::SyntheticMultilabelOptions o;
    o.products = env_int("STAGESIM_MOE_PRODUCTS", 70000);
    o.dim = 400;
    stagesim::MultilabelData d = stagesim::PrepareMultilabel(
        stagesim::generate_synthetic_multilabel(o), stagesim::data::CategorySelection{3, 100});
    return from_multilabel(d.features, d.categories.labels,
                          static_cast<int>(d.categories.original.size()));
  }();
  return data;
}

void MoeTrain(benchmark::State& state) {
  const auto& data = products();
  const int experts = static_cast<int>(state.range(0));
  Rng rng(1);
  MoeConfig c;
  c.features = static_cast<int>(data.features.cols());
  c.items = data.items;
  c.item_dim = static_cast<int>(state.range(1));
  c.subsets = random_feature_subsets(experts, c.features, static_cast<int>(state.range(2)), rng);
  c.threads = static_cast<int>(state.range(3));
  std::vector<std::int64_t> users(static_cast<std::size_t>(data.products()));
  for (std::size_t i = 0; i < users.size(); ++i) users[i] = static_cast<std::int64_t>(i);
  const Examples train = sample_examples(data, users, 100, rng);  // 10 000 examples, 40 batches
  MoeModel model(c, rng);
  TrainOptions o;
  o.max_epochs = 1;
  std::int64_t examples = 0;
  for (auto _ : state) examples += train_moe(model, data, train, Examples{}, o, rng).examples_seen;
  state.counters["examples/s"] =
      benchmark::Counter(static_cast<double>(examples), benchmark::Counter::kIsRate);
}
BENCHMARK(MoeTrain)
    ->ArgsProduct({{10, 20}, {5, 50}, {10, 100, 400}, {1, 2}})
    ->ArgNames({"N", "de", "s", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void MoeFig5(benchmark::State& state) {
  const auto& data = products();
  const PoolLearningPoint point{.experts = static_cast<int>(state.range(0)),
                                .item_dim = static_cast<int>(state.range(1)),
                                .per_item = static_cast<int>(state.range(2)),
                                .subset = static_cast<int>(state.range(3))};
  PoolLearningOptions o;
  o.test_users = env_int("STAGESIM_MOE_TEST", 50000);
  o.seed = static_cast<std::uint64_t>(env_int("STAGESIM_MOE_SEED", 1));
  o.threads = static_cast<int>(env_int("STAGESIM_MOE_THREADS", 1));
  PoolLearningResult r;
  for (auto _ : state) r = run_pool_learning(data, point, o);
  state.counters["P5_moe"] = r.moe.precision;
  state.counters["P5_random"] = r.random.precision;
  state.counters["R5_moe"] = r.moe.recall;
  state.counters["R5_random"] = r.random.recall;
  state.counters["P5_moe_se"] = r.moe.precision_se;
  state.counters["P5_random_se"] = r.random.precision_se;
  state.counters["R5_moe_se"] = r.moe.recall_se;
  state.counters["R5_random_se"] = r.random.recall_se;
  state.counters["epochs_moe"] = r.moe_train.epochs;
  state.counters["epochs_random"] = r.random_train.epochs;
  state.counters["pools"] = static_cast<double>(r.learned_pools.size());
  state.SetLabel(pools_to_toml(r.learned_pools));
}
BENCHMARK(MoeFig5)
    ->ArgsProduct({{10, 20}, {5, 10, 20, 50}, {100, 1000, 10000}, {10, 20, 50, 100, 200, 400}})
    ->ArgNames({"N", "de", "c", "s"})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
