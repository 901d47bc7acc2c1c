#pragma once
// Strategic-parameter problems (our reconstruction of the PASTO formulation, see
// docs/strategic-parameters.md): K candidate parameter vectors β_1..β_K, each with an expected
// metric vector μ(β_k) ∈ ℝ^m (row 0 the primary metric, rows 1.. guardrails), collected as the
// columns of U ∈ ℝ^{m×K}. Applying β_k to a bucket of traffic yields a noisy, unbiased
// observation of μ(β_k); nothing else is observed. A mixture p ∈ Δ_K (each request samples
// β ~ p) is worth f(U p) under one of three objective forms:
//   primary  f(v) = v_0
//   hard     f(v) = v_0 if v_j >= c_j for every guardrail j, −∞ otherwise
//   soft     f(v) = v_0 − λ Σ_j min(0, v_j − c_j)²
// All three are concave and coordinate-wise non-decreasing in v.
#include <Eigen/Core>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.hpp"
#include "sim/enum_table.hpp"

namespace stagesim::strategic {

enum class ObjectiveForm { primary, hard, soft };

// The one conversion table between the forms' names ("primary", "hard", "soft") and the enum.
const EnumTable<ObjectiveForm>& objective_forms();

// How a candidate metric vector ranks when f can be −∞ (hard guardrails): the smaller worst
// shortfall first, then the larger value. Under primary/soft the violation is always 0.
struct ObjectiveRank {
  double violation = 0;
  double value = 0;
  bool operator>(const ObjectiveRank& o) const {
    return violation < o.violation || (violation == o.violation && value > o.value);
  }
};

struct Objective {
  ObjectiveForm form = ObjectiveForm::soft;
  Eigen::VectorXd thresholds;  // c_j, one per guardrail (metrics 1..m-1)
  double lambda = 10.0;        // soft-guardrail weight

  int metrics() const { return static_cast<int>(thresholds.size()) + 1; }
  double value(const Eigen::Ref<const Eigen::VectorXd>& v) const;
  // max_j (c_j − v_j)_+: 0 when every guardrail holds.
  double violation(const Eigen::Ref<const Eigen::VectorXd>& v) const;
  ObjectiveRank rank(const Eigen::Ref<const Eigen::VectorXd>& v) const;
  // The direction learners ascend along: ∇f(v) for primary and soft. The hard form has no
  // gradient where it is finite but constrained, so it gives the switching (sub)gradient of
  // constrained convex optimisation: e_0 when every guardrail holds, otherwise e_j of the most
  // violated guardrail (first on ties).
  void ascent(const Eigen::Ref<const Eigen::VectorXd>& v, Eigen::Ref<Eigen::VectorXd> out) const;
  // Throws std::invalid_argument when the parts do not fit (m, λ < 0, non-finite thresholds).
  void validate(int m) const;
};

struct Problem {
  Eigen::MatrixXd mean;              // U, m × K; column k = μ(β_k), row 0 the primary metric
  std::vector<std::string> metrics;  // one name per row
  Objective objective;
  Eigen::VectorXd noise_std;  // per metric: observation = μ(β_k) + noise_std ⊙ z, z ~ N(0, I)

  int parameters() const { return static_cast<int>(mean.cols()); }
  int metric_count() const { return static_cast<int>(mean.rows()); }
  double value(const Eigen::Ref<const Eigen::VectorXd>& p) const {
    return objective.value(mean * p);
  }
  // Observation of parameter k given a standard-normal draw z (m values). The caller draws z so
  // that every learner sees the same noise in the same (round, bucket): common random numbers.
  void observe(int k, const double* z, double* out) const {
    for (int j = 0; j < metric_count(); ++j) out[j] = mean(j, k) + noise_std[j] * z[j];
  }
  // Throws std::invalid_argument on inconsistent sizes, non-finite means or negative noise.
  void validate() const;
};

// The worked example of spec §1: μ(β_1) = (2, −1), μ(β_2) = (0, 1), hard guardrail c = 0, no
// noise. Every one-hot p is worse (−∞ and 0) than p = (½, ½) (f = 1).
Problem worked_example_problem();

// K parameters whose m metrics are iid uniform on [lo, hi) (spec §3 B), drawn from `rng` column
// by column. Objective and noise are left at defaults for the caller to set.
Problem uniform_problem(int parameters, int metrics, double lo, double hi, Rng& rng);

// The metric table of a file, one row per parameter vector (K × m, i.e. Uᵀ), as pandas or numpy
// write it:
//   *.csv  header row; `columns` names the metric columns, primary first (empty: every column
//          but `parameter`, in header order); other columns (e.g. the β values) are ignored;
//   *.npy  a 2-D numeric array of shape (K, m); `columns`, when given, must have m names.
// Returns U (m × K) and the metric names (CSV header names; "metric_<j>" for .npy without
// names). data::DataError naming the file (and line) on a missing column, a non-finite or
// missing value, a wrong shape or an unknown extension.
struct MetricTable {
  Eigen::MatrixXd mean;
  std::vector<std::string> metrics;
};
MetricTable read_metric_table(const std::filesystem::path& path,
                              const std::vector<std::string>& columns = {});

// The inverse, for tests and for exporting a problem: a CSV with a `parameter` column and one
// column per metric (full precision, so reading it back gives the same U).
void write_metric_table_csv(const std::filesystem::path& path, const Eigen::MatrixXd& mean,
                            const std::vector<std::string>& metrics);

}  // namespace stagesim::strategic
