// Time per policy-gradient step of the early-stage ranker (spec early-stage-pg §10, paper Fig. 4):
// B = 128 users, default synthetic world, one thread, in exactly the configurations the experiment
// files use (experiments/early_stage_pg/table{1,2,3,6}.toml): every estimator samples with
// `gumbel_float32`, V-PG and CA-PG score with `precision = "float32_reference"`, V-PG-SwR and
// CA-PG-SwR with the (default) double path. Arguments: K, M, L, GRPO group (0 = off):
//   10/1/1/0   Tables 1 and 2 (K = 10; Table 1 also K = 5, 20)
//   10/5/5/0   Table 3's heaviest cell (M = 5, L = 5)
//   200/5/1/8  Table 6's heaviest cell (GRPO 16 × 8)
// Phase benchmarks (Phase*) time the parts of one K = 10 step separately, and Engine* the same
// step through the engine (experiments/early_stage_pg/table1.toml, short horizon): the marginal
// cost of an engine step is (time of Engine*/250 − time of Engine*/50) / 200, to compare with the
// Step* time of the same estimator.
//   pg_step_bench --benchmark_filter='Step' --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <memory>
#include <numeric>

#include "environments/generators/embedding_world.hpp"
#include "learners/pg/pl_mixture.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/top_k.hpp"
#include "learners/pg/trainer.hpp"
#include "learners/pg/user_logits.hpp"
#include "sim/runner.hpp"

namespace {

using namespace stagesim::pg;
using stagesim::Rng;

const EmbeddingWorld& world() {
  static const EmbeddingWorld w = make_embedding_world(0);
  return w;
}

void run_steps(benchmark::State& state, Estimator estimator) {
  const int n_candidates = static_cast<int>(state.range(0));
  const int n_models = static_cast<int>(state.range(1));
  const int n_picks = static_cast<int>(state.range(2));
  const int group = static_cast<int>(state.range(3));
  Rng init(1);
  PLMixture policy(n_models, 1000, 1000, 10, init);
  TrainerOptions options;
  options.n_candidates = n_candidates;
  options.n_picks = n_picks;
  options.estimator.estimator = estimator;
  // As the experiment files: float32_reference where it applies (V-PG, CA-PG), gumbel_float32
  // sampling everywhere.
  options.estimator.precision = estimator == Estimator::kVPg || estimator == Estimator::kCaPg
                                    ? Precision::kFloat32Reference
                                    : Precision::kStableDouble;
  options.sampler = SamplerKind::kGumbelTopKFloat32;
  options.grpo_group_size = group;
  options.learning_rate =
      estimator == Estimator::kCaPg || estimator == Estimator::kCaPgSwr ? 1e-2 : 1e-1;
  Trainer trainer(policy, world().tables, options);
  Rng batch(2), esr(3), lsr(4), reward(5);
  const StepRngs rngs{batch, esr, lsr, reward};
  int overflows = 0;
  for (auto _ : state) overflows += trainer.step(rngs).overflow;
  state.counters["overflows"] = overflows;
}

void args(benchmark::internal::Benchmark* b) {
  b->Args({10, 1, 1, 0})->Args({10, 5, 5, 0})->Args({200, 5, 1, 8});
  b->ArgNames({"K", "M", "L", "G"})->Unit(benchmark::kMillisecond)->MinTime(0.2);
}

void StepVPg(benchmark::State& s) {
  run_steps(s, Estimator::kVPg);
}
void StepVPgSwr(benchmark::State& s) {
  run_steps(s, Estimator::kVPgSwr);
}
void StepCaPg(benchmark::State& s) {
  run_steps(s, Estimator::kCaPg);
}
void StepCaPgSwr(benchmark::State& s) {
  run_steps(s, Estimator::kCaPgSwr);
}

BENCHMARK(StepVPg)->Apply(args);
BENCHMARK(StepVPgSwr)->Apply(args);
BENCHMARK(StepCaPg)->Apply(args);
BENCHMARK(StepCaPgSwr)->Apply(args);

// ---- Phases of one K = 10, M = 1 step, each for the whole batch of 128 rows ----
constexpr int kBatch = 128;

struct PhaseFixture {
  Rng init{1};
  PLMixture policy{1, 1000, 1000, 10, init};
  std::vector<int> users;
  std::vector<stagesim::RowMatrixXd> logits;
  PhaseFixture() {
    Rng r(7);
    for (int i = 0; i < kBatch; ++i) users.push_back(static_cast<int>(r() % 1000));
    policy.batch_logits(users, logits);
  }
};

// U[users] Vᵀ: 128 × 10 × 1000 multiply-adds.
void PhaseLogits(benchmark::State& state) {
  PhaseFixture f;
  for (auto _ : state) {
    f.policy.batch_logits(f.users, f.logits);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(PhaseLogits)->Unit(benchmark::kMillisecond);

// The engine's serving logits (pg::user_logits, separate multiply and add so a row's bits do not
// depend on the batch): Arg 1 = the 128 requests of one update in one call, as the ranker does
// with lookahead; Arg 0 = one call per request, as without it.
void PhaseUserLogits(benchmark::State& state) {
  PhaseFixture f;
  const stagesim::RowMatrixXd vt = f.policy.item_table(0).transpose();
  stagesim::RowMatrixXd out;
  for (auto _ : state) {
    if (state.range(0) == 1) {
      user_logits(f.policy.user_table(0), f.users, vt, 1.0, out);
    } else {
      for (int i = 0; i < kBatch; ++i)
        user_logits(f.policy.user_table(0), std::span<const int>(&f.users[i], 1), vt, 1.0, out);
    }
    benchmark::ClobberMemory();
  }
}
BENCHMARK(PhaseUserLogits)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Softmax statistics of 128 rows (1000 exp each).
void PhaseSoftmax(benchmark::State& state) {
  PhaseFixture f;
  RowSoftmax sm;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) sm.compute(f.logits, i);
    benchmark::DoNotOptimize(sm.sum(0));
  }
}
BENCHMARK(PhaseSoftmax)->Unit(benchmark::kMillisecond);

// gumbel_float32 sampling of K = 10 out of 1000 for 128 rows (softmax precomputed).
void PhaseGumbelSample(benchmark::State& state) {
  PhaseFixture f;
  std::vector<RowSoftmax> sm(kBatch);
  for (int i = 0; i < kBatch; ++i) sm[i].compute(f.logits, i);
  CandidateSampler sampler(1000);
  const std::vector<int> blocks = {10};
  std::vector<int> out(10);
  Rng rng(3);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i)
      sampler.sample(SamplerKind::kGumbelTopKFloat32, sm[i], blocks, rng, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(PhaseGumbelSample)->Unit(benchmark::kMillisecond);

// Top-10 of 1000 Gumbel-perturbed keys, 128 times (the selection part of sampling).
void PhaseTopK(benchmark::State& state) {
  PhaseFixture f;
  std::vector<double> keys(static_cast<std::size_t>(kBatch) * 1000);
  Rng rng(3);
  for (int i = 0; i < kBatch; ++i)
    for (int b = 0; b < 1000; ++b)
      keys[i * 1000 + b] =
          f.logits[0](i, b) - std::log(-std::log((rng() >> 11) * 0x1p-53 + 1e-300));
  TopSelector top;
  std::vector<int> out(10);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) top.select(keys.data() + i * 1000, 1000, 10, out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(PhaseTopK)->Unit(benchmark::kMillisecond);

// Chain rule from 128 × 1000 logit gradients to the tables (two GEMMs of 128 × 10 × 1000).
void PhaseBackprop(benchmark::State& state) {
  PhaseFixture f;
  stagesim::models::ParameterSet grads;
  for (auto _ : state) {
    f.policy.backprop(f.users, f.logits, grads);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(PhaseBackprop)->Unit(benchmark::kMillisecond);

// ---- Through the engine: Table 1's file, K = 10, one variant, 50 or 250 steps, one tiny
// evaluation ----
void engine_steps(benchmark::State& state, const std::string& variant) {
  using namespace stagesim;
  // Two lengths (Arg = steps): the difference of their times over the difference of their steps
  // is the marginal cost of a step, without the world's set-up and the final evaluation.
  const int kSteps = static_cast<int>(state.range(0));
  LoadOptions lo;
  lo.set = {"experiment.replications=1", "experiment.horizon=" + std::to_string(kSteps * 128),
            "experiment.checkpoints=1", "experiment.checkpoint_start=false",
            "metrics.policy_value.requests=1"};
  Experiment ex =
      load_experiment(std::string(STAGESIM_SOURCE_DIR) + "/experiments/early_stage_pg/table1.toml",
                      lo, builtin_registry());
  Unit u = plan_units(ex)[0];
  u.configs.clear();
  for (const Config& c : ex.configs)
    if (c.variant == variant && c.grid.at(0).second == "10") u.configs.push_back(c.index);
  if (u.configs.size() != 1) throw std::runtime_error("pg_step_bench: no K = 10 " + variant);
  for (auto _ : state) benchmark::DoNotOptimize(run_unit(ex, u));
  state.counters["ms_per_step"] = benchmark::Counter(
      kSteps, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
void EngineVPg(benchmark::State& s) {
  engine_steps(s, "V-PG");
}
void EngineVPgSwr(benchmark::State& s) {
  engine_steps(s, "V-PG-SwR");
}
void EngineCaPg(benchmark::State& s) {
  engine_steps(s, "CA-PG");
}
void EngineCaPgSwr(benchmark::State& s) {
  engine_steps(s, "CA-PG-SwR");
}
BENCHMARK(EngineVPg)->Arg(50)->Arg(250)->Unit(benchmark::kMillisecond);
BENCHMARK(EngineVPgSwr)->Arg(50)->Arg(250)->Unit(benchmark::kMillisecond);
BENCHMARK(EngineCaPg)->Arg(50)->Arg(250)->Unit(benchmark::kMillisecond);
BENCHMARK(EngineCaPgSwr)->Arg(50)->Arg(250)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);  // the spec's figure is one core
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
