// The exact solver for p*: against a brute-force grid at K = 3, on known linear programs, and
// its certificates.
#include <gtest/gtest.h>

#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/linear_program.hpp"
#include "learners/strategic/optimum.hpp"

namespace stagesim::strategic {
namespace {

struct GridBest {
  double value = -std::numeric_limits<double>::infinity();
  Eigen::Vector3d p;
};

// Every p = (i, j, n − i − j)/n of Δ_3.
GridBest grid_search(const Eigen::MatrixXd& u, const Objective& obj, int n) {
  GridBest b;
  for (int i = 0; i <= n; ++i)
    for (int j = 0; i + j <= n; ++j) {
      const Eigen::Vector3d p(i / double(n), j / double(n), (n - i - j) / double(n));
      const double v = obj.value(u * p);
      if (v > b.value) {
        b.value = v;
        b.p = p;
      }
    }
  return b;
}

class GridCheck : public ::testing::TestWithParam<ObjectiveForm> {};

TEST_P(GridCheck, SolverOptimumMatchesBruteForceAtK3) {
  const ObjectiveForm form = GetParam();
  Rng rng(2024);
  int interior = 0, instances = 0;
  for (int trial = 0; trial < 40; ++trial) {
    Problem pr = uniform_problem(3, 3, -1, 1, rng);
    pr.objective.form = form;
    pr.objective.thresholds = (Eigen::VectorXd(2) << 0.0, -0.2).finished();
    pr.objective.lambda = 5;
    const MixtureOptimum opt = solve_mixture(pr.mean, pr.objective);
    const int n = 800;
    const GridBest g = grid_search(pr.mean, pr.objective, n);
    if (!std::isfinite(g.value)) {  // hard: no feasible grid point
      if (opt.feasible) {
        // A feasible set thinner than the grid: the solver's point must really be feasible.
        EXPECT_LE(pr.objective.violation(pr.mean * opt.p), 1e-9);
      }
      continue;
    }
    ++instances;
    ASSERT_TRUE(opt.feasible) << trial;
    // The solver is at least as good as every grid point (up to its certified gap) ...
    EXPECT_GE(opt.value + opt.gap + 1e-12, g.value) << "trial " << trial;
    // ... and no better than the grid's resolution allows: moving p by at most 2/n changes
    // f(U p) by at most (2/n)·max‖∇‖ (soft) or, for the LP, the nearest feasible grid point
    // loses at most about that much.
    EXPECT_LE(opt.value - g.value, 0.02) << "trial " << trial;
    EXPECT_LE(opt.gap, 1e-8);
    EXPECT_NEAR(opt.p.sum(), 1.0, 1e-12);
    EXPECT_GE(opt.p.minCoeff(), 0.0);
    const int best = best_single_parameter(pr.mean, pr.objective);
    EXPECT_GE(opt.value, pr.objective.value(pr.mean.col(best)) - 1e-12);
    interior += (opt.p.array() > 1e-6).count() >= 2;
  }
  EXPECT_GE(instances, 20);
  if (form != ObjectiveForm::primary) {
    EXPECT_GE(interior, 5);  // mixtures, not only vertices
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, GridCheck,
                         ::testing::Values(ObjectiveForm::primary, ObjectiveForm::hard,
                                           ObjectiveForm::soft),
                         [](const auto& info) { return objective_forms().name(info.param); });

TEST(Optimum, SoftAtK100ReachesATinyDualityGap) {
  Rng rng(1);
  Problem pr = uniform_problem(100, 3, -1, 1, rng);
  pr.objective.form = ObjectiveForm::soft;
  pr.objective.thresholds = Eigen::VectorXd::Constant(2, 0.5);
  pr.objective.lambda = 10;
  const MixtureOptimum opt = solve_mixture(pr.mean, pr.objective);
  EXPECT_LE(opt.gap, 1e-9);
  const int best = best_single_parameter(pr.mean, pr.objective);
  EXPECT_GT(opt.value, pr.objective.value(pr.mean.col(best)));
  // The hard-guardrail optimum is an upper bound on the soft one's primary metric at zero
  // violation, and the soft optimum is at least the hard one (the LP's point costs no penalty).
  Objective hard = pr.objective;
  hard.form = ObjectiveForm::hard;
  const MixtureOptimum lp = solve_mixture(pr.mean, hard);
  ASSERT_TRUE(lp.feasible);
  EXPECT_GE(opt.value, lp.value - 1e-9);
}

TEST(LinearProgram, KnownOptimaAndStatuses) {
  // max 3x + 2y s.t. x + y + s1 = 4, x + 3y + s2 = 6, x <= 3 (x + s3 = 3): optimum (3, 1) = 11.
  Eigen::MatrixXd a(3, 5);
  a << 1, 1, 1, 0, 0,  //
      1, 3, 0, 1, 0,   //
      1, 0, 0, 0, 1;
  Eigen::VectorXd b(3), c(5);
  b << 4, 6, 3;
  c << 3, 2, 0, 0, 0;
  LinearProgramResult r = maximise_linear_program(a, b, c);
  ASSERT_EQ(r.status, LinearProgramResult::Status::optimal);
  EXPECT_NEAR(r.value, 11, 1e-12);
  EXPECT_NEAR(r.x[0], 3, 1e-12);
  EXPECT_NEAR(r.x[1], 1, 1e-12);
  // Infeasible: x + y = 1 and x + y = 2.
  Eigen::MatrixXd a2(2, 2);
  a2 << 1, 1, 1, 1;
  EXPECT_EQ(maximise_linear_program(a2, Eigen::Vector2d(1, 2), Eigen::Vector2d(1, 0)).status,
            LinearProgramResult::Status::infeasible);
  // Redundant row (x + y = 1 twice) and a negative right-hand side (−x = −0.25).
  Eigen::MatrixXd a3(3, 2);
  a3 << 1, 1, 1, 1, -1, 0;
  r = maximise_linear_program(a3, Eigen::Vector3d(1, 1, -0.25), Eigen::Vector2d(0, 1));
  ASSERT_EQ(r.status, LinearProgramResult::Status::optimal);
  EXPECT_NEAR(r.value, 0.75, 1e-12);
  // Unbounded: max x s.t. x − y = 0.
  Eigen::MatrixXd a4(1, 2);
  a4 << 1, -1;
  EXPECT_EQ(maximise_linear_program(a4, Eigen::VectorXd::Zero(1), Eigen::Vector2d(1, 0)).status,
            LinearProgramResult::Status::unbounded);
}

TEST(Optimum, InfeasibleHardGuardrailsAreReported) {
  Problem pr = worked_example_problem();
  pr.objective.thresholds[0] = 2.0;  // y <= 1 for every mixture
  const MixtureOptimum opt = solve_mixture(pr.mean, pr.objective);
  EXPECT_FALSE(opt.feasible);
  EXPECT_EQ(opt.value, -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace stagesim::strategic
