// Optimiser update equations on hand-computed steps, state checks, Polyak averaging.
#include <gtest/gtest.h>

#include <cmath>

#include "models/optimizers.hpp"

namespace stagesim::models {
namespace {

RowMatrixXd row(std::initializer_list<double> v) {
  RowMatrixXd m(1, static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) m(0, i++) = x;
  return m;
}

TEST(Sgd, PlainAndMomentumSteps) {
  ParameterSet p, g;
  p.add("x", row({1.0, -2.0}));
  g.add("x", row({0.5, 4.0}));
  Sgd plain({.learning_rate = 0.1});
  plain.step(p, g);
  EXPECT_DOUBLE_EQ(p[0](0, 0), 1.0 - 0.1 * 0.5);
  EXPECT_DOUBLE_EQ(p[0](0, 1), -2.0 - 0.1 * 4.0);
  EXPECT_TRUE(plain.velocity().empty());

  ParameterSet q;
  q.add("x", row({1.0, -2.0}));
  Sgd heavy({.learning_rate = 0.1, .momentum = 0.9});
  heavy.step(q, g);  // v = g
  EXPECT_DOUBLE_EQ(q[0](0, 0), 0.95);
  g[0] = row({-1.0, 0.0});
  heavy.step(q, g);  // v = 0.9·0.5 − 1 = −0.55, 0.9·4 = 3.6
  EXPECT_DOUBLE_EQ(heavy.velocity()[0](0, 0), -0.55);
  EXPECT_DOUBLE_EQ(q[0](0, 0), 0.95 + 0.055);
  EXPECT_DOUBLE_EQ(q[0](0, 1), -2.0 - 0.4 - 0.36);
  EXPECT_EQ(heavy.steps(), 2);
  EXPECT_THROW(Sgd({.learning_rate = 0.1, .momentum = 1.0}), std::invalid_argument);
}

// Lazy Adam: the first step from zero state is the dense step (a zero-gradient row does not move
// either way); afterwards a row outside `rows` keeps θ, m and v, where dense Adam moves it by its
// decaying momentum.
TEST(Adam, LazyRowsStep) {
  RowMatrixXd x(2, 2), g1(2, 2), g2(2, 2);
  x << 1.0, -2.0, 0.5, 3.0;
  g1 << 0.3, -0.1, 0.0, 0.0;  // step 1: row 0 only
  g2 << 0.0, 0.0, 0.7, 0.2;   // step 2: row 1 only
  ParameterSet dense_p, lazy_p, g;
  dense_p.add("x", x);
  lazy_p.add("x", x);
  g.add("x", g1);
  Adam dense({0.01}), lazy({0.01});
  const std::vector<std::vector<int>> row0 = {{0}}, row1 = {{1}};
  dense.step(dense_p, g);
  lazy.step_rows(lazy_p, g, row0);
  EXPECT_EQ(lazy_p[0], dense_p[0]);
  const RowMatrixXd after1 = lazy_p[0];
  g[0] = g2;
  dense.step(dense_p, g);
  lazy.step_rows(lazy_p, g, row1);
  EXPECT_EQ(lazy_p[0].row(0), after1.row(0));  // untouched
  EXPECT_NE(dense_p[0](0, 0), after1(0, 0));   // dense: momentum moves it
  EXPECT_DOUBLE_EQ(lazy.first_moments()[0](0, 0), dense.first_moments()[0](0, 0) / 0.9);
  // Row 1's first update: the same values either way (its state was zero in both).
  EXPECT_EQ(lazy_p[0].row(1), dense_p[0].row(1));
  EXPECT_EQ(lazy.steps(), 2);
  const std::vector<std::vector<int>> bad = {{2}};
  EXPECT_THROW(lazy.step_rows(lazy_p, g, bad), std::invalid_argument);
}

TEST(Adam, TwoHandComputedSteps) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  ParameterSet p, g;
  p.add("x", row({1.0, -3.0, 0.0}));
  g.add("x", row({0.2, -5.0, 0.0}));
  Adam adam({lr, b1, b2, eps});
  adam.step(p, g);
  // Textbook form: m̂ = g, v̂ = g² after one step, so θ −= lr·g / (|g| + eps).
  EXPECT_NEAR(p[0](0, 0), 1.0 - lr * 0.2 / (0.2 + eps), 1e-15);
  EXPECT_NEAR(p[0](0, 1), -3.0 + lr * 5.0 / (5.0 + eps), 1e-15);
  EXPECT_EQ(p[0](0, 2), 0.0);
  g[0] = row({-0.4, 1.0, 2.0});
  adam.step(p, g);
  const auto second = [&](double g1, double g2, double theta1) {
    const double m = b1 * (1 - b1) * g1 + (1 - b1) * g2;
    const double v = b2 * (1 - b2) * g1 * g1 + (1 - b2) * g2 * g2;
    const double mhat = m / (1 - b1 * b1), vhat = v / (1 - b2 * b2);
    return theta1 - lr * mhat / (std::sqrt(vhat) + eps);
  };
  EXPECT_NEAR(p[0](0, 0), second(0.2, -0.4, 1.0 - lr * 0.2 / (0.2 + eps)), 1e-14);
  EXPECT_NEAR(p[0](0, 1), second(-5.0, 1.0, -3.0 + lr * 5.0 / (5.0 + eps)), 1e-14);
  EXPECT_NEAR(p[0](0, 2), second(0.0, 2.0, 0.0), 1e-14);
  EXPECT_NEAR(adam.first_moments()[0](0, 2), 0.2, 1e-15);
  EXPECT_EQ(adam.steps(), 2);
}

// The spec formula of the early-stage ranker's optimiser (moved from the PG tests unchanged).
TEST(Adagrad, FollowsTheSpecFormula) {
  RowMatrixXd theta(1, 2), g1(1, 2), g2(1, 2);
  theta << 1.0, -2.0;
  g1 << 0.5, 0.0;
  g2 << -1.0, 2.0;
  Adagrad opt(0.1);
  std::vector<RowMatrixXd*> params{&theta};
  std::vector<const RowMatrixXd*> grads{&g1};
  opt.step(params, grads);
  EXPECT_DOUBLE_EQ(theta(0, 0), 1.0 - 0.1 * 0.5 / (0.5 + 1e-10));
  EXPECT_EQ(theta(0, 1), -2.0);  // zero gradient: unchanged (so sparse rows stay put)
  grads[0] = &g2;
  opt.step(params, grads);
  EXPECT_DOUBLE_EQ(theta(0, 0),
                   1.0 - 0.1 * 0.5 / (0.5 + 1e-10) + 0.1 * 1.0 / (std::sqrt(1.25) + 1e-10));
  EXPECT_DOUBLE_EQ(theta(0, 1), -2.0 - 0.1 * 2.0 / (2.0 + 1e-10));
  EXPECT_DOUBLE_EQ(opt.accumulators()[0](0, 0), 1.25);
}

TEST(Optimizer, StateShapesAreChecked) {
  ParameterSet p, g;
  p.add("a", RowMatrixXd::Ones(2, 2));
  g.add("a", RowMatrixXd::Ones(2, 2));
  for (OptimizerKind k : {OptimizerKind::kSgd, OptimizerKind::kAdam, OptimizerKind::kAdagrad}) {
    OptimizerOptions o;
    o.kind = k;
    o.momentum = 0.5;
    auto opt = make_optimizer(o);
    opt->step(p, g);
    ParameterSet wrong;
    wrong.add("a", RowMatrixXd::Ones(2, 3));
    EXPECT_THROW(opt->step(p, wrong), std::invalid_argument) << optimizer_name(k);
    ParameterSet p3 = p, g3 = g;
    p3.add("b", RowMatrixXd::Ones(1, 1));
    g3.add("b", RowMatrixXd::Ones(1, 1));
    EXPECT_THROW(opt->step(p3, g3), std::invalid_argument) << optimizer_name(k);
    EXPECT_EQ(optimizer_from_name(optimizer_name(k)), k);
  }
  EXPECT_FALSE(optimizer_from_name("rmsprop").has_value());
  OptimizerOptions bad;
  bad.learning_rate = 0;
  EXPECT_THROW(make_optimizer(bad), std::invalid_argument);
}

TEST(Parameters, PolyakAveragingAndCopies) {
  ParameterSet online, target;
  online.add("w", row({1.0, 2.0}));
  target.add("w", row({0.0, 10.0}));
  polyak_update(target, online, 0.25);
  EXPECT_DOUBLE_EQ(target[0](0, 0), 0.25);
  EXPECT_DOUBLE_EQ(target[0](0, 1), 0.25 * 2.0 + 0.75 * 10.0);
  target[0](0, 0) = NAN;
  polyak_update(target, online, 1.0);  // a copy, even over NaN
  EXPECT_EQ(target[0], online[0]);
  polyak_update(target, online, 0.0);
  EXPECT_EQ(target[0], online[0]);
  EXPECT_THROW(polyak_update(target, online, 1.5), std::invalid_argument);
  ParameterSet other;
  other.add("w", RowMatrixXd::Ones(2, 1));
  EXPECT_THROW(polyak_update(target, other, 0.5), std::invalid_argument);
  EXPECT_THROW(copy_values(target, other), std::invalid_argument);
  const ParameterSet z = online.zeros_like();
  EXPECT_TRUE(z[0].isZero());
  EXPECT_EQ(z.name(0), "w");
  EXPECT_EQ(online.scalar_count(), 2);
  EXPECT_EQ(online.pointers(1).size(), 0u);
}

// Moved from the PG tests unchanged: the overflow check before an update.
TEST(Parameters, FiniteCheck) {
  std::vector<RowMatrixXd> t{RowMatrixXd::Zero(2, 2), RowMatrixXd::Ones(1, 3)};
  EXPECT_TRUE(all_finite(t));
  t[1](0, 2) = std::nan("");
  EXPECT_FALSE(all_finite(t));
  t[1](0, 2) = -INFINITY;
  EXPECT_FALSE(all_finite(t));
  ParameterSet p;
  p.add("x", t[1]);
  EXPECT_FALSE(p.all_finite());
  // The flat form, with the miss at each end and −0, denormals and the largest double finite.
  std::vector<double> v{-0.0, 4.9e-324, 1.7976931348623157e308, 1.0, 2.0};
  EXPECT_TRUE(all_finite(std::span<const double>(v)));
  v.front() = INFINITY;
  EXPECT_FALSE(all_finite(std::span<const double>(v)));
  v.front() = 0.0;
  v.back() = std::nan("");
  EXPECT_FALSE(all_finite(std::span<const double>(v)));
  EXPECT_TRUE(all_finite(std::span<const double>()));
}

}  // namespace
}  // namespace stagesim::models
