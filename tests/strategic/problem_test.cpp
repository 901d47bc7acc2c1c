// The strategic-parameter problem: objective forms, the worked example of spec §1, gradients
// (central differences), metric tables from CSV / .npy and their errors.
#include <gtest/gtest.h>

#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "environments/data/data_error.hpp"
#include "environments/data/npy.hpp"
#include "environments/strategic_problem.hpp"
#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/optimum.hpp"

namespace stagesim::strategic {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() /
           ("strategic_problem_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

TEST(WorkedExample, EveryDeterministicChoiceIsStrictlyWorseThanTheBestMixture) {
  const Problem pr = worked_example_problem();
  pr.validate();
  // Closed form: f(e_1) = −∞ (y = −1 < 0), f(e_2) = 0, f(½, ½) = x = 1 with y = 0 (feasible).
  EXPECT_EQ(pr.value(Eigen::Vector2d(1, 0)), -kInf);
  EXPECT_EQ(pr.value(Eigen::Vector2d(0, 1)), 0.0);
  EXPECT_EQ(pr.value(Eigen::Vector2d(0.5, 0.5)), 1.0);
  // The best mixture: max 2 p_1 s.t. −p_1 + (1 − p_1) >= 0, i.e. p_1 = ½, f* = 1.
  const MixtureOptimum opt = solve_mixture(pr.mean, pr.objective);
  ASSERT_TRUE(opt.feasible);
  EXPECT_NEAR(opt.p[0], 0.5, 1e-12);
  EXPECT_NEAR(opt.value, 1.0, 1e-12);
  for (int k = 0; k < pr.parameters(); ++k)
    EXPECT_LT(pr.value(Eigen::Vector2d::Unit(k)), opt.value) << "parameter " << k;
  EXPECT_EQ(best_single_parameter(pr.mean, pr.objective), 1);
}

TEST(WorkedExample, SoftGuardrailClosedForm) {
  // f(p) = 2p − λ min(0, 1 − 2p)²: maximised at p = ½ + 1/(4λ), f* = 1 + 1/(4λ); vertices give
  // 2 − λ and 0.
  Problem pr = worked_example_problem();
  pr.objective.form = ObjectiveForm::soft;
  for (double lambda : {2.0, 10.0, 100.0}) {
    pr.objective.lambda = lambda;
    const MixtureOptimum opt = solve_mixture(pr.mean, pr.objective);
    EXPECT_NEAR(opt.p[0], 0.5 + 0.25 / lambda, 1e-7) << lambda;
    EXPECT_NEAR(opt.value, 1.0 + 0.25 / lambda, 1e-10) << lambda;
    EXPECT_LE(opt.gap, 1e-9);
    EXPECT_DOUBLE_EQ(pr.value(Eigen::Vector2d(1, 0)), 2 - lambda);
    EXPECT_GT(opt.value, std::max(2 - lambda, 0.0));
  }
}

TEST(Objective, FormsAndNames) {
  Objective o;
  o.thresholds = Eigen::Vector2d(0.5, -1.0);
  o.lambda = 3;
  const Eigen::Vector3d v(1.0, 0.2, -1.5);  // shortfalls 0.3 and 0.5
  o.form = ObjectiveForm::primary;
  EXPECT_EQ(o.value(v), 1.0);
  o.form = ObjectiveForm::soft;
  EXPECT_NEAR(o.value(v), 1.0 - 3 * (0.09 + 0.25), 1e-15);
  o.form = ObjectiveForm::hard;
  EXPECT_EQ(o.value(v), -kInf);
  EXPECT_NEAR(o.violation(v), 0.5, 1e-15);
  EXPECT_EQ(o.value(Eigen::Vector3d(1.0, 0.5, -1.0)), 1.0);  // on the thresholds: feasible
  for (const std::string& n : objective_forms().names())
    EXPECT_EQ(objective_forms().name(*objective_forms().find(n)), n);
  EXPECT_FALSE(objective_forms().find("hardest"));
  EXPECT_THROW(o.validate(4), std::invalid_argument);
}

// Central differences of f against Objective::ascent (the gradient for primary and soft).
TEST(Objective, GradientMatchesCentralDifferences) {
  Rng rng(7);
  boost::random::uniform_real_distribution<double> u(-1.5, 1.5);
  Objective o;
  o.thresholds = Eigen::Vector3d(0.5, 0.0, -0.2);
  o.lambda = 4.0;
  const double h = 1e-6;
  int checked = 0, active = 0;
  for (ObjectiveForm form : {ObjectiveForm::primary, ObjectiveForm::soft}) {
    o.form = form;
    for (int trial = 0; trial < 200; ++trial) {
      Eigen::Vector4d v;
      for (int j = 0; j < 4; ++j) v[j] = u(rng);
      // Stay clear of the kink at v_j = c_j, where the second derivative jumps.
      bool near_kink = false;
      for (int j = 0; j < 3; ++j) near_kink |= std::abs(v[j + 1] - o.thresholds[j]) < 10 * h;
      if (near_kink) continue;
      Eigen::Vector4d g;
      o.ascent(v, g);
      for (int j = 0; j < 4; ++j) {
        Eigen::Vector4d a = v, b = v;
        a[j] += h;
        b[j] -= h;
        const double numeric = (o.value(a) - o.value(b)) / (2 * h);
        // Truncation error is 0 (f is piecewise quadratic); round-off ≈ 1e-16·|f|/h.
        EXPECT_NEAR(g[j], numeric, 1e-8)
            << "form " << objective_forms().name(form) << " coord " << j;
        ++checked;
        if (j > 0 && g[j] != 0) ++active;
      }
    }
  }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(active, 100);  // the penalty's gradient was exercised, not only e_0
}

TEST(Objective, HardFormAscendsTheWorstViolatedGuardrail) {
  Objective o;
  o.form = ObjectiveForm::hard;
  o.thresholds = Eigen::Vector2d(0.0, 1.0);
  Eigen::Vector3d d;
  o.ascent(Eigen::Vector3d(5, 0.1, 1.2), d);
  EXPECT_EQ(d, Eigen::Vector3d(1, 0, 0));
  o.ascent(Eigen::Vector3d(5, -0.1, 0.5), d);  // shortfalls 0.1 and 0.5
  EXPECT_EQ(d, Eigen::Vector3d(0, 0, 1));
  o.ascent(Eigen::Vector3d(5, -0.6, 0.5), d);
  EXPECT_EQ(d, Eigen::Vector3d(0, 1, 0));
  // Ranks: feasible beats any infeasible; among infeasible, the smaller shortfall.
  EXPECT_TRUE(o.rank(Eigen::Vector3d(-9, 0, 1)) > o.rank(Eigen::Vector3d(9, 0, 0.99)));
  EXPECT_TRUE(o.rank(Eigen::Vector3d(0, 0, 0.9)) > o.rank(Eigen::Vector3d(9, 0, 0.8)));
}

TEST(UniformProblem, DrawsInRangeAndIsReproducible) {
  Rng a(11), b(11);
  const Problem p = uniform_problem(100, 3, -1, 1, a);
  const Problem q = uniform_problem(100, 3, -1, 1, b);
  EXPECT_EQ(p.mean, q.mean);
  EXPECT_EQ(p.mean.rows(), 3);
  EXPECT_EQ(p.mean.cols(), 100);
  EXPECT_GE(p.mean.minCoeff(), -1);
  EXPECT_LT(p.mean.maxCoeff(), 1);
  // Mean of 300 uniforms on [−1, 1): sd 1/sqrt(3·300) ≈ 0.033.
  EXPECT_NEAR(p.mean.mean(), 0.0, 0.1);
}

TEST(MetricTable, CsvRoundTripAndColumnSelection) {
  const auto dir = temp_dir();
  Rng rng(3);
  const Problem p = uniform_problem(7, 3, -2, 2, rng);
  write_metric_table_csv(dir / "u.csv", p.mean, {"watch", "like", "share"});
  const MetricTable t = read_metric_table(dir / "u.csv");
  EXPECT_EQ(t.metrics, (std::vector<std::string>{"watch", "like", "share"}));
  EXPECT_EQ(t.mean, p.mean);  // bit-exact: shortest round-trip text
  const MetricTable s = read_metric_table(dir / "u.csv", {"share", "watch"});
  ASSERT_EQ(s.mean.rows(), 2);
  EXPECT_EQ(s.mean.row(0), p.mean.row(2));
  EXPECT_EQ(s.mean.row(1), p.mean.row(0));
}

TEST(MetricTable, NpyIsOneRowPerParameter) {
  const auto dir = temp_dir();
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};  // K = 3 rows × m = 2
  const std::int64_t shape[2] = {3, 2};
  data::write_npy<double>(dir / "u.npy", v, shape);
  const MetricTable t = read_metric_table(dir / "u.npy", {"x", "y"});
  ASSERT_EQ(t.mean.rows(), 2);
  ASSERT_EQ(t.mean.cols(), 3);
  EXPECT_EQ(t.mean(0, 1), 3);
  EXPECT_EQ(t.mean(1, 2), 6);
  EXPECT_EQ(read_metric_table(dir / "u.npy").metrics[1], "metric_1");
}

std::string error_of(const std::filesystem::path& p, std::vector<std::string> cols = {}) {
  try {
    read_metric_table(p, cols);
  } catch (const data::DataError& e) {
    return e.what();
  }
  return "";
}

TEST(MetricTable, BadFilesGiveOneLineErrors) {
  const auto dir = temp_dir();
  {
    std::ofstream(dir / "a.csv") << "parameter,x,y\n0,1,2\n1,nan,3\n";
    std::ofstream(dir / "b.csv") << "parameter,x,y\n0,1,2\n1,1,inf\n";
    std::ofstream(dir / "c.txt") << "x\n1\n";
    std::ofstream(dir / "d.csv") << "parameter,x\n";
  }
  const std::string missing = error_of(dir / "a.csv");
  EXPECT_NE(missing.find("a.csv:3"), std::string::npos) << missing;
  const std::string inf = error_of(dir / "b.csv");
  EXPECT_NE(inf.find("b.csv:3"), std::string::npos) << inf;
  EXPECT_NE(inf.find("not finite"), std::string::npos) << inf;
  const std::string col = error_of(dir / "a.csv", {"x", "like"});
  EXPECT_NE(col.find("like"), std::string::npos) << col;
  EXPECT_NE(error_of(dir / "c.txt").find("unknown metric-table format"), std::string::npos);
  EXPECT_NE(error_of(dir / "d.csv").find("no rows"), std::string::npos);
  const std::vector<double> v = {1, 2, 3, 4};
  const std::int64_t shape[2] = {2, 2};
  data::write_npy<double>(dir / "e.npy", v, shape);
  EXPECT_NE(error_of(dir / "e.npy", {"x", "y", "z"}).find("2 metric columns but 3"),
            std::string::npos);
  for (const std::string& e : {missing, inf, col}) EXPECT_EQ(e.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace stagesim::strategic
