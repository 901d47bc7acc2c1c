// The `strategic_rounds` job: a strategic-parameter learner (PASTO, S-SCGD, the bandits, the
// oracle) on an offline problem (environments/strategic_problem.hpp) for a number of rounds of Q
// buckets, recording the true value f(U p) of what it would deploy (the averaged iterate p̄) and
// of its last iterate, their worst guardrail shortfall and the relative gain
//   (f(U p) − f(best single)) / (f(U p*) − f(best single))
// against rounds. Problems: the worked example of spec §1 (problem A once it has noise and a
// soft guardrail), the uniform problem B (K × m means iid U[low, high)), or U from a file.
//
// One task = one configuration × replication. The problem's means and the observation noise are
// drawn from streams keyed by the problem's own options and the replication, not by the learner:
// every learner of a replication faces the same U and the same noise in the same (round, bucket)
// (common random numbers); the learner's own sampling has the task's stream.
#include <cmath>
#include <cstdint>
#include <limits>

#include "environments/data/data_error.hpp"
#include "environments/strategic_problem.hpp"
#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/learner_options.hpp"
#include "learners/strategic/optimum.hpp"
#include "learners/strategic/rounds.hpp"
#include "sim/errors.hpp"
#include "sim/job.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

using namespace strategic;

enum class ProblemSource { worked_example, uniform, file };
enum class Spacing { linear, log };

const EnumTable<ProblemSource> kSources{{"worked_example", ProblemSource::worked_example},
                                        {"uniform", ProblemSource::uniform},
                                        {"file", ProblemSource::file}};
const EnumTable<Spacing> kSpacings{{"linear", Spacing::linear}, {"log", Spacing::log}};

struct StrategicRoundsOpts : LearnerOptions {
  ProblemSource problem = ProblemSource::worked_example;
  int64_t parameters = 100;  // uniform: K
  int64_t metrics = 3;       // uniform: m
  double low = -1.0, high = 1.0;
  std::string file;
  std::vector<std::string> columns;
  ObjectiveForm form = ObjectiveForm::soft;
  std::vector<double> thresholds;  // [] = the problem's own (worked example 0, otherwise 0.5)
  double lambda = 10.0;
  double noise = 0.5;  // observation noise std of every metric
  int64_t rounds = 1000;
  int64_t buckets = 10;
  int64_t records = 50;
  Spacing spacing = Spacing::linear;
};

OptionGroup<StrategicRoundsOpts> options() {
  using O = StrategicRoundsOpts;
  OptionGroup<O> g;
  g.add("problem", &O::problem,
        "worked_example (spec §1: μ₁ = (2, −1), μ₂ = (0, 1)), uniform (K × m means iid "
        "U[low, high), problem B), or file (U from `file`)",
        kSources)
      .add("parameters", &O::parameters, "uniform: K, the candidate parameter vectors",
           between<int64_t>(1, 100000))
      .add("metrics", &O::metrics, "uniform: m, metrics per parameter (primary first)",
           between<int64_t>(1, 1000))
      .add("low", &O::low, "uniform: lower end of the means")
      .add("high", &O::high, "uniform: upper end of the means (> low)")
      .add("file", &O::file,
           "file: the metric table, one row per parameter vector (.csv with a header, or .npy "
           "of shape (K, m))")
      .add("columns", &O::columns,
           "file: the metric columns, primary first ([] = every column but `parameter`)")
      .add("form", &O::form, "objective form: primary | hard | soft (guardrails)",
           objective_forms())
      .add("thresholds", &O::thresholds,
           "guardrail thresholds c_j, one per metric after the primary one ([] = the "
           "problem's: 0 for the worked example, 0.5 otherwise)")
      .add("lambda", &O::lambda, "soft-guardrail weight λ", at_least<double>(0))
      .add("noise", &O::noise,
           "σ: observation = μ(β_k) + σ z per metric, z ~ N(0, 1) (Gaussian, unbiased)",
           at_least<double>(0))
      .add("rounds", &O::rounds, "T: rounds to run", between<int64_t>(1, 1'000'000'000))
      .add("buckets", &O::buckets, "Q: buckets (parallel queries) per round",
           between<int64_t>(1, 1'000'000))
      .add("records", &O::records, "points of the curves over rounds (plus round 0)",
           between<int64_t>(1, 100000))
      .add("spacing", &O::spacing,
           "where the points lie: linear (the engine's checkpoint spacing) or log (geometric, "
           "for rounds up to 10⁵)",
           kSpacings);
  add_learner_options(g);
  return g;
}

// Recorded round counts, ascending and distinct, starting at 0.
std::vector<std::int64_t> record_rounds(std::int64_t rounds, std::int64_t records, Spacing s) {
  std::vector<std::int64_t> r = {0};
  for (std::int64_t j = 1; j <= records; ++j) {
    std::int64_t t = s == Spacing::linear
                         ? (j * rounds) / records
                         : static_cast<std::int64_t>(std::llround(
                               std::pow(static_cast<double>(rounds),
                                        static_cast<double>(j) / static_cast<double>(records))));
    t = std::min(t, rounds);
    if (t > r.back()) r.push_back(t);
  }
  return r;
}

// The options that define U (not the learner, the objective or σ): the scope of the means' and
// the standard-normal noise's streams, so that every learner, step size and noise level of a
// replication faces the same U and the same z in the same (round, bucket).
std::uint64_t problem_scope(const StrategicRoundsOpts& o) {
  std::string s = "strategic_problem\n" + kSources.name(o.problem) + "\n";
  if (o.problem == ProblemSource::uniform)
    s += std::to_string(o.parameters) + " " + std::to_string(o.metrics) + " " +
         format_number(o.low) + " " + format_number(o.high) + "\n";
  if (o.problem == ProblemSource::file) s += o.file + "\n" + join_words(o.columns) + "\n";
  return hash_text(s);
}

// The problem with its objective and noise; U drawn from `means` for the uniform problem.
Problem make_problem(const StrategicRoundsOpts& o, const MetricTable* table, Rng& means) {
  Problem p;
  switch (o.problem) {
    case ProblemSource::worked_example:
      p = worked_example_problem();
      break;
    case ProblemSource::uniform:
      p = uniform_problem(static_cast<int>(o.parameters), static_cast<int>(o.metrics), o.low,
                          o.high, means);
      break;
    case ProblemSource::file:
      p.mean = table->mean;
      p.metrics = table->metrics;
      break;
  }
  const int m = p.metric_count();
  p.objective.form = o.form;
  p.objective.lambda = o.lambda;
  if (!o.thresholds.empty())
    p.objective.thresholds = Eigen::Map<const Eigen::VectorXd>(
        o.thresholds.data(), static_cast<Eigen::Index>(o.thresholds.size()));
  else if (o.problem == ProblemSource::worked_example)
    p.objective.thresholds = Eigen::VectorXd::Zero(m - 1);
  else
    p.objective.thresholds = Eigen::VectorXd::Constant(m - 1, 0.5);
  p.noise_std = Eigen::VectorXd::Constant(m, o.noise);
  if (p.metrics.size() != static_cast<std::size_t>(m)) {
    p.metrics.clear();
    for (int j = 0; j < m; ++j) p.metrics.push_back("metric_" + std::to_string(j));
  }
  return p;
}

enum Output : std::size_t {
  kDeployedValue,
  kCurrentValue,
  kDeployedViolation,
  kCurrentViolation,
  kDeployedGain,
  kCurrentGain,
  kOptimumValue,
  kBestSingleValue,
  kDeployed,
  kOutputs
};

class StrategicRoundsJob final : public Job {
 public:
  StrategicRoundsJob(const StrategicRoundsOpts& o, std::shared_ptr<const MetricTable> table)
      : o_(o), table_(std::move(table)) {}

  void run(JobContext& ctx) override {
    const StreamKey& key = ctx.key();
    const StreamKey problem_key{key.master_seed, problem_scope(o_), key.replication};
    Rng means = problem_key.stream("means");
    const Problem p = make_problem(o_, table_.get(), means);
    const int K = p.parameters();
    LearnerContext lc;
    lc.parameters = K;
    lc.objective = p.objective;
    lc.mean = &p.mean;
    lc.width_unit = p.noise_std;
    std::unique_ptr<Learner> learner = make_learner(o_, lc);

    const MixtureOptimum best = solve_mixture(p.mean, p.objective);
    const int single = best_single_parameter(p.mean, p.objective);
    const double f_single = p.objective.value(p.mean.col(single));
    ctx.output(kOptimumValue)[0] = best.value;
    ctx.output(kBestSingleValue)[0] = f_single;
    // NaN when no mixture beats the best single parameter (nothing to gain) or f is −∞.
    const double gap = best.value - f_single;
    const bool has_gain = std::isfinite(gap) && gap > 1e-12 * std::max(1.0, std::abs(best.value));

    RoundsOptions ro;
    ro.rounds = o_.rounds;
    ro.buckets = static_cast<int>(o_.buckets);
    ro.record_at = record_rounds(o_.rounds, o_.records, o_.spacing);
    std::int64_t done = 0;
    ro.on_record = [&](std::int64_t t) {
      ctx.advance(t - done);
      done = t;
    };
    Rng choices = key.stream("choices");
    Rng noise = problem_key.stream("noise");
    const RoundsRecord rec = run_rounds(p, *learner, ro, choices, noise);

    auto copy = [&](Output out, const std::vector<double>& v) {
      std::span<double> s = ctx.output(out);
      for (std::size_t i = 0; i < v.size() && i < s.size(); ++i) s[i] = v[i];
    };
    copy(kDeployedValue, rec.deployed_value);
    copy(kCurrentValue, rec.current_value);
    copy(kDeployedViolation, rec.deployed_violation);
    copy(kCurrentViolation, rec.current_violation);
    auto gain = [&](const std::vector<double>& v) {
      std::vector<double> g(v.size(), std::numeric_limits<double>::quiet_NaN());
      if (has_gain)
        for (std::size_t i = 0; i < v.size(); ++i) g[i] = (v[i] - f_single) / gap;
      return g;
    };
    copy(kDeployedGain, gain(rec.deployed_value));
    copy(kCurrentGain, gain(rec.current_value));
    std::span<double> dep = ctx.output(kDeployed);
    for (int k = 0; k < K && k < static_cast<int>(dep.size()); ++k) dep[k] = rec.deployed[k];
  }

 private:
  StrategicRoundsOpts o_;
  std::shared_ptr<const MetricTable> table_;
};

// K and m of the configured problem, reading the file (once per process, through the cache).
JobBuild build(StrategicRoundsOpts& o, const ParseContext& ctx) {
  std::shared_ptr<const MetricTable> table;
  int K = 0, m = 0;
  switch (o.problem) {
    case ProblemSource::worked_example:
      K = 2;
      m = 2;
      break;
    case ProblemSource::uniform:
      if (!(o.high > o.low))
        throw KeyError("high",
                       "= " + format_number(o.high) + " must exceed low = " + format_number(o.low));
      K = static_cast<int>(o.parameters);
      m = static_cast<int>(o.metrics);
      break;
    case ProblemSource::file: {
      if (o.file.empty())
        throw KeyError("file",
                       "is needed with problem = \"file\": the metric table's path (a .csv or "
                       ".npy with one row per parameter vector)");
      const std::string path = ctx.data_path(o.file);
      auto load = [&] { return read_metric_table(path, o.columns); };
      try {
        table = ctx.cache ? ctx.cache->get<MetricTable>(
                                "metric_table\n" + path + "\n" + join_words(o.columns), load)
                          : std::make_shared<const MetricTable>(load());
      } catch (const data::DataError& e) {
        throw KeyError("file", std::string("cannot be read: ") + e.what());
      }
      K = static_cast<int>(table->mean.cols());
      m = static_cast<int>(table->mean.rows());
      break;
    }
  }
  if (!o.thresholds.empty() && static_cast<int>(o.thresholds.size()) != m - 1)
    throw KeyError("thresholds", "has " + std::to_string(o.thresholds.size()) +
                                     " values but the problem has " + std::to_string(m - 1) +
                                     " guardrail metric(s); give one per metric after the "
                                     "primary one, or [] for the default");
  // The learner's own misfits (initial of the wrong length, parameter out of range) at check time.
  {
    Rng none(0);
    StrategicRoundsOpts probe = o;
    if (probe.problem == ProblemSource::uniform) probe.parameters = K, probe.metrics = m;
    Problem p = make_problem(probe, table.get(), none);
    try {
      p.objective.validate(m);
      LearnerContext lc{K, p.objective, &p.mean, p.noise_std};
      (void)make_learner(o, lc);
    } catch (const std::invalid_argument& e) {
      throw KeyError("learner", std::string("does not fit the problem: ") + e.what());
    }
  }

  JobBuild b;
  b.make = [o, table] { return std::make_unique<StrategicRoundsJob>(o, table); };
  std::vector<double> rounds;
  for (std::int64_t t : record_rounds(o.rounds, o.records, o.spacing))
    rounds.push_back(static_cast<double>(t));
  std::vector<double> params;
  for (int k = 0; k < K; ++k) params.push_back(k);
  b.axes = {{"round", "rounds", rounds}, {"parameter", "index", params}};
  b.outputs = {
      {"deployed_value",
       "f",
       "f(U p̄) of the deployed distribution (PASTO: averaged iterate)",
       {"round"}},
      {"current_value", "f", "f(U p_t) of the last iterate", {"round"}},
      {"deployed_violation", "metric", "worst guardrail shortfall of U p̄", {"round"}},
      {"current_violation", "metric", "worst guardrail shortfall of U p_t", {"round"}},
      {"deployed_gain",
       "1",
       "relative gain (f(U p̄) − f(best single)) / (f(U p*) − f(best single)); NaN when no "
       "mixture beats the best single parameter",
       {"round"}},
      {"current_gain", "1", "relative gain of the last iterate", {"round"}},
      {"optimum_value", "f", "f(U p*), the exact optimum over mixtures", {}},
      {"best_single_value", "f", "f of the best single parameter on the noise-free U", {}},
      {"deployed", "probability", "the deployed distribution after the last round", {"parameter"}}};
  // Per round: Q draws and observations, an O(K m) update (PASTO's Ūᵀ∇f); plus the solver.
  b.cost =
      static_cast<double>(o.rounds) * (static_cast<double>(o.buckets) * (m + 8) + 4.0 * K * m) +
      1e4 * K * m;
  b.work = o.rounds;
  b.work_units = "rounds";
  return b;
}

}  // namespace

JobEntry strategic_rounds_job_entry() {
  return make_entry<JobBuild>(
      "job", "strategic_rounds",
      "a strategic-parameter learner (PASTO, S-SCGD, UCB, ...) on an offline problem (worked "
      "example, uniform problem B, or U from a file): f(U p) and relative gain against rounds",
      options(), [](StrategicRoundsOpts& o, const ParseContext& ctx) { return build(o, ctx); });
}

}  // namespace stagesim
