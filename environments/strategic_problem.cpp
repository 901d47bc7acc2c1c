#include "environments/strategic_problem.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <boost/random/uniform_real_distribution.hpp>

#include "environments/data/csv.hpp"
#include "environments/data/data_error.hpp"
#include "environments/data/npy.hpp"

namespace stagesim::strategic {

const EnumTable<ObjectiveForm>& objective_forms() {
  static const EnumTable<ObjectiveForm> table{{"primary", ObjectiveForm::primary},
                                              {"hard", ObjectiveForm::hard},
                                              {"soft", ObjectiveForm::soft}};
  return table;
}

double Objective::value(const Eigen::Ref<const Eigen::VectorXd>& v) const {
  switch (form) {
    case ObjectiveForm::primary:
      return v[0];
    case ObjectiveForm::hard:
      return violation(v) > 0 ? -std::numeric_limits<double>::infinity() : v[0];
    case ObjectiveForm::soft: {
      double pen = 0;
      for (Eigen::Index j = 0; j < thresholds.size(); ++j) {
        const double s = std::min(0.0, v[j + 1] - thresholds[j]);
        pen += s * s;
      }
      return v[0] - lambda * pen;
    }
  }
  return v[0];
}

double Objective::violation(const Eigen::Ref<const Eigen::VectorXd>& v) const {
  double worst = 0;
  for (Eigen::Index j = 0; j < thresholds.size(); ++j)
    worst = std::max(worst, thresholds[j] - v[j + 1]);
  return worst;
}

ObjectiveRank Objective::rank(const Eigen::Ref<const Eigen::VectorXd>& v) const {
  if (form == ObjectiveForm::hard) return {violation(v), v[0]};
  return {0.0, value(v)};
}

void Objective::ascent(const Eigen::Ref<const Eigen::VectorXd>& v,
                       Eigen::Ref<Eigen::VectorXd> out) const {
  out.setZero();
  switch (form) {
    case ObjectiveForm::primary:
      out[0] = 1;
      return;
    case ObjectiveForm::soft:
      out[0] = 1;
      for (Eigen::Index j = 0; j < thresholds.size(); ++j)
        out[j + 1] = -2.0 * lambda * std::min(0.0, v[j + 1] - thresholds[j]);
      return;
    case ObjectiveForm::hard: {
      Eigen::Index worst = -1;
      double w = 0;
      for (Eigen::Index j = 0; j < thresholds.size(); ++j)
        if (thresholds[j] - v[j + 1] > w) {
          w = thresholds[j] - v[j + 1];
          worst = j;
        }
      out[worst < 0 ? 0 : worst + 1] = 1;
      return;
    }
  }
}

void Objective::validate(int m) const {
  if (m < 1) throw std::invalid_argument("a problem needs at least one metric");
  if (thresholds.size() != m - 1)
    throw std::invalid_argument("the objective has " + std::to_string(thresholds.size()) +
                                " guardrail thresholds but the problem has " +
                                std::to_string(m - 1) + " guardrail metrics");
  if (!thresholds.allFinite()) throw std::invalid_argument("guardrail thresholds must be finite");
  if (!(lambda >= 0) || !std::isfinite(lambda))
    throw std::invalid_argument("the soft-guardrail weight lambda must be finite and >= 0");
}

void Problem::validate() const {
  if (mean.rows() < 1 || mean.cols() < 1)
    throw std::invalid_argument("a problem needs at least one metric and one parameter");
  if (static_cast<Eigen::Index>(metrics.size()) != mean.rows())
    throw std::invalid_argument("metric names do not match the rows of U");
  if (!mean.allFinite()) throw std::invalid_argument("the expected metrics U must be finite");
  if (noise_std.size() != mean.rows() || !noise_std.allFinite() || (noise_std.array() < 0).any())
    throw std::invalid_argument("noise_std needs one finite value >= 0 per metric");
  objective.validate(metric_count());
}

Problem worked_example_problem() {
  Problem p;
  p.mean.resize(2, 2);
  p.mean << 2.0, 0.0, -1.0, 1.0;
  p.metrics = {"x", "y"};
  p.objective.form = ObjectiveForm::hard;
  p.objective.thresholds = Eigen::VectorXd::Zero(1);
  p.noise_std = Eigen::VectorXd::Zero(2);
  return p;
}

Problem uniform_problem(int parameters, int metrics, double lo, double hi, Rng& rng) {
  if (parameters < 1 || metrics < 1 || !(lo < hi))
    throw std::invalid_argument("uniform_problem needs K >= 1, m >= 1 and lo < hi");
  Problem p;
  p.mean.resize(metrics, parameters);
  boost::random::uniform_real_distribution<double> u(lo, hi);
  for (int k = 0; k < parameters; ++k)
    for (int j = 0; j < metrics; ++j) p.mean(j, k) = u(rng);
  for (int j = 0; j < metrics; ++j) p.metrics.push_back("metric_" + std::to_string(j));
  p.objective.thresholds = Eigen::VectorXd::Zero(metrics - 1);
  p.noise_std = Eigen::VectorXd::Zero(metrics);
  return p;
}

namespace {

MetricTable read_csv_table(const std::filesystem::path& path,
                           const std::vector<std::string>& columns) {
  data::CsvReader r(path);
  MetricTable t;
  t.metrics = columns;
  if (t.metrics.empty())
    for (const std::string& h : r.header())
      if (h != "parameter") t.metrics.push_back(h);
  if (t.metrics.empty())
    throw data::DataError(path.string(), 1, "no metric columns",
                          "add one column per metric (primary first) besides 'parameter'");
  std::vector<std::size_t> cols;
  for (const std::string& c : t.metrics) cols.push_back(r.column(c));
  std::vector<double> values;  // row-major K × m
  while (r.next())
    for (std::size_t j = 0; j < cols.size(); ++j) {
      const double v = r.required_double(cols[j]);
      if (!std::isfinite(v))
        throw r.error("column '" + t.metrics[j] + "' is not finite",
                      "every expected metric must be a finite number");
      values.push_back(v);
    }
  if (r.records() == 0)
    throw data::DataError(path.string(), "no rows", "add one row per candidate parameter vector");
  const Eigen::Index m = static_cast<Eigen::Index>(cols.size());
  const Eigen::Index k = static_cast<Eigen::Index>(r.records());
  t.mean = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
               values.data(), k, m)
               .transpose();
  return t;
}

MetricTable read_npy_table(const std::filesystem::path& path,
                           const std::vector<std::string>& columns) {
  const data::DenseMatrix<double> a = data::read_npy_matrix<double>(path);
  if (a.rows < 1 || a.cols < 1)
    throw data::DataError(path.string(), "empty array",
                          "store U transposed: shape (K, m), one row per parameter vector");
  if (!columns.empty() && static_cast<std::int64_t>(columns.size()) != a.cols)
    throw data::DataError(path.string(),
                          "the array has " + std::to_string(a.cols) + " metric columns but " +
                              std::to_string(columns.size()) + " names were given",
                          "give one name per column of the (K, m) array, or none");
  MetricTable t;
  t.mean = a.eigen().transpose();
  if (!t.mean.allFinite())
    throw data::DataError(path.string(), "the array has non-finite values",
                          "every expected metric must be a finite number");
  t.metrics = columns;
  if (t.metrics.empty())
    for (std::int64_t j = 0; j < a.cols; ++j) t.metrics.push_back("metric_" + std::to_string(j));
  return t;
}

}  // namespace

MetricTable read_metric_table(const std::filesystem::path& path,
                              const std::vector<std::string>& columns) {
  const std::string ext = path.extension().string();
  if (ext == ".csv") return read_csv_table(path, columns);
  if (ext == ".npy") return read_npy_table(path, columns);
  throw data::DataError(path.string(), "unknown metric-table format '" + ext + "'",
                        "use a .csv (one row per parameter, a column per metric) or a .npy of "
                        "shape (K, m)");
}

void write_metric_table_csv(const std::filesystem::path& path, const Eigen::MatrixXd& mean,
                            const std::vector<std::string>& metrics) {
  std::ofstream out(path);
  if (!out) throw data::DataError(path.string(), "cannot be written", "check the directory exists");
  out << "parameter";
  for (const std::string& m : metrics) out << ',' << m;
  out << '\n';
  char buf[64];
  for (Eigen::Index k = 0; k < mean.cols(); ++k) {
    out << k;
    for (Eigen::Index j = 0; j < mean.rows(); ++j) {
      // Shortest text that reads back to the same double.
      auto res = std::to_chars(buf, buf + sizeof buf, mean(j, k));
      out << ',' << std::string_view(buf, static_cast<std::size_t>(res.ptr - buf));
    }
    out << '\n';
  }
  if (!out) throw data::DataError(path.string(), "write failed", "check the disk is not full");
}

}  // namespace stagesim::strategic
