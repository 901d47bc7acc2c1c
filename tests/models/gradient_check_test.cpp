// The finite-difference checker itself (a test of the test): it passes a right gradient, flags a
// wrong one (a dropped factor, a single wrong entry, a transposed block), and restores parameters.
#include <gtest/gtest.h>

#include <cmath>

#include "models/gradient_check.hpp"

namespace stagesim::models {
namespace {

// L(A, b) = Σ_ij sin(A_ij) b_j + ½‖b‖² ; ∂L/∂A_ij = cos(A_ij) b_j, ∂L/∂b_j = Σ_i sin(A_ij) + b_j.
struct Toy {
  ParameterSet params;
  Toy() {
    RowMatrixXd a(3, 2), b(1, 2);
    a << 0.3, -1.2, 0.8, 2.0, -0.4, 0.1;
    b << 1.5, -0.7;
    params.add("A", a);
    params.add("b", b);
  }
  double loss(ParameterSet* grad) const {
    const RowMatrixXd& a = params[0];
    const RowMatrixXd& b = params[1];
    double l = 0.5 * b.squaredNorm();
    for (Eigen::Index i = 0; i < a.rows(); ++i)
      for (Eigen::Index j = 0; j < a.cols(); ++j) l += std::sin(a(i, j)) * b(0, j);
    if (grad != nullptr) {
      for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < a.cols(); ++j) (*grad)[0](i, j) = std::cos(a(i, j)) * b(0, j);
      (*grad)[1] = b + a.array().sin().matrix().colwise().sum();
    }
    return l;
  }
};

TEST(GradientCheck, PassesTheRightGradient) {
  Toy toy;
  const RowMatrixXd before = toy.params[0];
  const auto r = check_gradient(toy.params, [&](ParameterSet* g) { return toy.loss(g); });
  EXPECT_TRUE(r.passed()) << r.summary();
  EXPECT_EQ(r.checked, 8);
  EXPECT_LT(r.max_rel_error, 1e-8);
  EXPECT_EQ(toy.params[0], before);  // restored bit for bit
  ASSERT_EQ(r.names.size(), 2u);
  EXPECT_EQ(r.names[1], "b");
  EXPECT_GT(r.analytic_abs_sum[0], 0.5);
}

TEST(GradientCheck, FlagsAMissingFactor) {
  Toy toy;
  ParameterSet grad = toy.params.zeros_like();
  toy.loss(&grad);
  grad[1] *= 0.5;  // e.g. a forgotten 2 in a derivative of a square
  const auto r = check_gradient(toy.params, grad, [&] { return toy.loss(nullptr); });
  EXPECT_FALSE(r.passed());
  EXPECT_EQ(r.failed, 2);
  ASSERT_TRUE(r.worst.has_value());
  EXPECT_EQ(r.worst->tensor, 1u);
  EXPECT_GT(r.max_rel_error, 0.4);
  EXPECT_NE(r.summary().find("worst b("), std::string::npos) << r.summary();
}

TEST(GradientCheck, FlagsOneWrongEntry) {
  Toy toy;
  ParameterSet grad = toy.params.zeros_like();
  toy.loss(&grad);
  grad[0](2, 1) += 1e-4;  // small but far above finite-difference noise
  const auto r = check_gradient(toy.params, grad, [&] { return toy.loss(nullptr); });
  EXPECT_EQ(r.failed, 1);
  ASSERT_TRUE(r.worst.has_value());
  EXPECT_EQ(r.worst->tensor, 0u);
  EXPECT_EQ(r.worst->row, 2);
  EXPECT_EQ(r.worst->col, 1);
}

TEST(GradientCheck, FlagsAGradientOfTheWrongEntries) {
  // The right numbers in the wrong places (a transposed or mis-indexed block).
  ParameterSet p;
  RowMatrixXd a(2, 2);
  a << 1.0, 2.0, 3.0, 4.0;
  p.add("A", a);
  const auto loss = [&] { return p[0](0, 1) * p[0](0, 1) + 3.0 * p[0](1, 0); };  // 2·a01, 3
  std::vector<RowMatrixXd> wrong{RowMatrixXd(2, 2)};
  wrong[0] << 0.0, 3.0, 4.0, 0.0;  // swapped
  const auto r = check_gradient(p.pointers(), wrong, loss);
  EXPECT_EQ(r.failed, 2);
  std::vector<RowMatrixXd> right{RowMatrixXd(2, 2)};
  right[0] << 0.0, 4.0, 3.0, 0.0;
  EXPECT_TRUE(check_gradient(p.pointers(), right, loss).passed());
}

TEST(GradientCheck, ToleranceFormAndNaN) {
  ParameterSet p;
  p.add("x", RowMatrixXd::Constant(1, 1, 2.0));
  const auto loss = [&] { return 1000.0 * p[0](0, 0); };  // gradient 1000
  std::vector<RowMatrixXd> g{RowMatrixXd::Constant(1, 1, 1000.0 + 5e-4)};
  GradientCheckOptions o;
  o.tolerance = 1e-6;  // allows 1e-3 at |g| = 1000
  EXPECT_TRUE(check_gradient(p.pointers(), g, loss, o).passed());
  o.tolerance = 0;  // absolute only: 1e-7
  EXPECT_FALSE(check_gradient(p.pointers(), g, loss, o).passed());
  g[0](0, 0) = NAN;
  const auto r = check_gradient(p.pointers(), g, loss);
  EXPECT_EQ(r.failed, 1);
  EXPECT_TRUE(std::isinf(r.worst_ratio));
}

TEST(GradientCheck, SubsetOfEntriesAndBadArguments) {
  ParameterSet p;
  p.add("big", RowMatrixXd::Ones(10, 10));
  const auto loss = [&] { return p[0].squaredNorm(); };
  std::vector<RowMatrixXd> g{2.0 * p[0]};
  GradientCheckOptions o;
  o.max_entries = 10;
  EXPECT_EQ(check_gradient(p.pointers(), g, loss, o).checked, 10);
  std::vector<RowMatrixXd> bad{RowMatrixXd::Ones(10, 9)};
  EXPECT_THROW(check_gradient(p.pointers(), bad, loss), std::invalid_argument);
  o.step = 0;
  EXPECT_THROW(check_gradient(p.pointers(), g, loss, o), std::invalid_argument);
}

}  // namespace
}  // namespace stagesim::models
