// LinUCB per-round cost and the bonus kernel's GFLOP/s next to Eigen's GEMM on the same shapes.
//   ./build/bench/lin_ucb_bench
#include <benchmark/benchmark.h>

#include <numeric>

#include <Eigen/Core>
#include <boost/random/normal_distribution.hpp>

#include "policies/ridge.hpp"
#include "sim/experiment.hpp"

using namespace stagesim;

namespace {

const std::vector<std::pair<int, int>> kShapes = {{100, 10}, {1000, 40}, {1000, 400}};

void shapes(benchmark::internal::Benchmark* b) {
  for (auto [k, d] : kShapes) b->Args({k, d});
}

Config single_stage(int k, int d) {
  std::string text =
      "[experiment]\nhorizon = 1000\ncheckpoints = 1\n[world]\ntype = \"linear\"\n"
      "items = " +
      std::to_string(k) + "\ndim = " + std::to_string(d) + "\n[stages.policy]\ntype = \"linucb\"\n";
  return parse_experiment(text, "bench.toml", {}, builtin_registry()).configs[0];
}

// select (scores of all K items incl. bonus, argmax) + one Sherman–Morrison update per round.
void BM_LinUcbRound(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  Config c = single_stage(k, d);
  auto world = c.world.make(StreamKey{1, c.world_scope, 0});
  std::vector<Request> reqs(8);
  for (Request& r : reqs) world->next(r, 1);  // contexts generated outside the timed loop
  StageSetup setup;
  setup.num_items = k;
  setup.world_dim = d;
  auto stage = c.stages[0].build.make(setup);
  std::vector<int> all(k);
  Decision dec;
  const std::vector<int>& chosen = dec.ids;
  std::iota(all.begin(), all.end(), 0);
  Rng rng(3);
  double w = 1.0;
  std::size_t t = 0;
  for (auto _ : state) {
    const Request& req = reqs[t++ % reqs.size()];
    dec.clear();
    stage->select(req, all, 1, rng, dec);
    double r = world->reward(req, chosen[0], 0);
    Feedback fb;
    fb.request = &req;
    fb.candidates = all;
    fb.selected = chosen;
    fb.served = chosen;
    fb.rewards = {&r, 1};
    fb.weights = {&w, 1};
    stage->learn({&fb, 1});
    benchmark::DoNotOptimize(chosen.data());
  }
  state.counters["rounds/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LinUcbRound)->Apply(shapes)->Unit(benchmark::kMicrosecond);

// The batched bonus z_iᵀ Σ z_i for K rows: 2·K·d² flops (plus 4·K·d for the dot products).
void BM_BonusKernel(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  Ridge ridge(d, 1.0);
  Rng rng(1);
  boost::random::normal_distribution<double> n01;
  std::vector<double> z(static_cast<size_t>(k) * d), s(k);
  for (double& v : z) v = n01(rng);
  for (int i = 0; i < 20; ++i) ridge.update(z.data() + i * d, n01(rng));
  for (auto _ : state) {
    ridge.score(z.data(), k, 0.1, s.data());
    benchmark::DoNotOptimize(s.data());
  }
  const double flops = 2.0 * k * d * d + 4.0 * k * d;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BonusKernel)->Apply(shapes)->Unit(benchmark::kMicrosecond);

// Reference: Eigen GEMM of the same shape (K×d times d×d), the machine's practical peak.
void BM_EigenGemm(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  Eigen::MatrixXd Z = Eigen::MatrixXd::Random(k, d), S = Eigen::MatrixXd::Random(d, d), Q(k, d);
  for (auto _ : state) {
    Q.noalias() = Z * S;
    benchmark::DoNotOptimize(Q.data());
  }
  const double flops = 2.0 * k * d * d;
  state.counters["GFLOP/s"] = benchmark::Counter(
      flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EigenGemm)->Apply(shapes)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
