// Time per policy-gradient step of the early-stage ranker (spec early-stage-pg §10, paper Fig. 4):
// B = 128 users, default synthetic world, one thread. Arguments: K, M, L.
//   pg_step_bench --benchmark_filter='CaPgSwr/10/1/1'
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <memory>

#include "environments/generators/embedding_world.hpp"
#include "learners/pg/trainer.hpp"

namespace {

using namespace stagesim::pg;
using stagesim::Rng;

const EmbeddingWorld& world() {
  static const EmbeddingWorld w = make_embedding_world(0);
  return w;
}

void run_steps(benchmark::State& state, EstimatorOptions estimator, SamplerKind sampler) {
  const int n_candidates = static_cast<int>(state.range(0));
  const int n_models = static_cast<int>(state.range(1));
  const int n_picks = static_cast<int>(state.range(2));
  Rng init(1);
  PLMixture policy(n_models, 1000, 1000, 10, init);
  TrainerOptions options;
  options.n_candidates = n_candidates;
  options.n_picks = n_picks;
  options.estimator = estimator;
  options.sampler = sampler;
  options.learning_rate = 1e-2;
  Trainer trainer(policy, world().tables, options);
  Rng batch(2), esr(3), lsr(4), reward(5);
  const StepRngs rngs{batch, esr, lsr, reward};
  int overflows = 0;
  for (auto _ : state) overflows += trainer.step(rngs).overflow;
  state.counters["overflows"] = overflows;
}

void args(benchmark::internal::Benchmark* b) {
  for (int k : {10, 20, 100, 200}) {
    for (int m : {1, 5}) {
      for (int l : {1, 5}) b->Args({k, m, l});
    }
  }
  b->ArgNames({"K", "M", "L"})->Unit(benchmark::kMillisecond)->MinTime(0.2);
}

constexpr Precision kStable = Precision::kStableDouble;
constexpr Precision kF32 = Precision::kFloat32Reference;

void VPg(benchmark::State& s) {
  run_steps(s, {Estimator::kVPg, kStable}, SamplerKind::kSequential);
}
void VPgSwr(benchmark::State& s) {
  run_steps(s, {Estimator::kVPgSwr, kStable}, SamplerKind::kSequential);
}
void CaPg(benchmark::State& s) {
  run_steps(s, {Estimator::kCaPg, kStable}, SamplerKind::kSequential);
}
void CaPgSwr(benchmark::State& s) {
  run_steps(s, {Estimator::kCaPgSwr, kStable}, SamplerKind::kSequential);
}
// The reference configuration: float32 score chain and float32 Gumbel top-k sampling.
void VPgFloat32Ref(benchmark::State& s) {
  run_steps(s, {Estimator::kVPg, kF32}, SamplerKind::kGumbelTopKFloat32);
}
void CaPgFloat32Ref(benchmark::State& s) {
  run_steps(s, {Estimator::kCaPg, kF32}, SamplerKind::kGumbelTopKFloat32);
}

BENCHMARK(VPg)->Apply(args);
BENCHMARK(VPgSwr)->Apply(args);
BENCHMARK(CaPg)->Apply(args);
BENCHMARK(CaPgSwr)->Apply(args);
BENCHMARK(VPgFloat32Ref)->Apply(args);
BENCHMARK(CaPgFloat32Ref)->Apply(args);

}  // namespace

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);  // the spec's figure is one core
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
