// Strategic-parameter learners: rounds per second of PASTO and S-SCGD on problem B (K = 100
// parameters, m = 3 metrics, soft guardrails) with Q = 10 buckets per round, including the
// noise draws and observations (what one round of the offline job costs); and the exact p*
// solver on the same problem.
//   ./build/bench/strategic_bench
#include <benchmark/benchmark.h>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner_options.hpp"
#include "learners/strategic/optimum.hpp"
#include "learners/strategic/rounds.hpp"

using namespace stagesim;
using namespace stagesim::strategic;

namespace {

Problem problem_b(int k) {
  Rng rng(42);
  Problem p = uniform_problem(k, 3, -1, 1, rng);
  p.objective.form = ObjectiveForm::soft;
  p.objective.thresholds = Eigen::Vector2d(0.5, 0.5);
  p.objective.lambda = 10;
  p.noise_std = Eigen::Vector3d::Constant(0.5);
  return p;
}

// One iteration = 1000 rounds (choose, Q·m normal draws, observe, update).
void rounds(benchmark::State& state, const char* kind) {
  const int k = static_cast<int>(state.range(0)), q = static_cast<int>(state.range(1));
  const Problem p = problem_b(k);
  LearnerOptions o;
  o.learner = *learner_kinds().find(kind);
  LearnerContext c{k, p.objective, &p.mean, p.noise_std};
  auto learner = make_learner(o, c);
  Rng choices(1), noise(2);
  RoundsOptions ro;
  ro.rounds = 1000;
  ro.buckets = q;
  for (auto _ : state) {
    RoundsRecord r = run_rounds(p, *learner, ro, choices, noise);
    benchmark::DoNotOptimize(r.deployed.data());
  }
  state.counters["rounds/s"] = benchmark::Counter(1000.0 * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

void BM_PastoRounds(benchmark::State& s) {
  rounds(s, "pasto");
}
void BM_ScgdRounds(benchmark::State& s) {
  rounds(s, "scgd");
}
void BM_ConcaveUcbRounds(benchmark::State& s) {
  rounds(s, "concave_ucb");
}
BENCHMARK(BM_PastoRounds)
    ->Args({100, 10})
    ->Args({2, 1})
    ->Args({1000, 10})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ScgdRounds)->Args({100, 10})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConcaveUcbRounds)->Args({100, 10})->Unit(benchmark::kMicrosecond);

void BM_SolveMixture(benchmark::State& state) {
  const Problem p = problem_b(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    MixtureOptimum o = solve_mixture(p.mean, p.objective);
    benchmark::DoNotOptimize(o.value);
  }
}
BENCHMARK(BM_SolveMixture)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
