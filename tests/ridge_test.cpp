// Ridge regression state kept by Sherman–Morrison against direct linear algebra.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>

#include "policies/ridge.hpp"
#include "sim/random.hpp"

using namespace stagesim;

TEST(Ridge, ShermanMorrisonMatchesDirectInverseAfter1000Updates) {
  const int m = 12;
  const double lambda = 1.0;
  Ridge ridge(m, lambda);
  Rng rng(7);
  boost::random::normal_distribution<double> n01;
  Eigen::MatrixXd gram = lambda * Eigen::MatrixXd::Identity(m, m);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(m);
  for (int t = 0; t < 1000; ++t) {
    Eigen::VectorXd z(m);
    for (int j = 0; j < m; ++j) z[j] = n01(rng);
    const double r = n01(rng);
    const double w = (t % 7 == 0) ? 0.0 : (t % 5 == 0 ? 2.0 : 1.0);  // weights of train_on modes
    ridge.update(z.data(), r, w);
    gram += w * z * z.transpose();
    b += w * r * z;
  }
  const Eigen::MatrixXd direct = gram.inverse();
  // 1000 rank-one updates accumulate rounding of order (updates × eps × cond); cond(gram) here is
  // about 1e3/1 (eigenvalues ~ n·1 vs λ), so 1e-9 relative leaves a wide margin above
  // 1e-16·1e3·1e3.
  const double rel = (ridge.sigma() - direct).norm() / direct.norm();
  EXPECT_LT(rel, 1e-9);
  const Eigen::VectorXd theta = gram.ldlt().solve(b);
  EXPECT_LT((ridge.theta() - theta).norm() / theta.norm(), 1e-9);
  // Σ must stay symmetric (the kernels rely on rows == columns).
  EXPECT_LT((ridge.sigma() - ridge.sigma().transpose()).norm(), 1e-12 * ridge.sigma().norm());
}

TEST(Ridge, ScoreIsIndependentOfBatchComposition) {
  const int m = 9, n = 23;
  Ridge ridge(m, 0.5);
  Rng rng(3);
  boost::random::normal_distribution<double> n01;
  std::vector<double> z(m);
  for (int t = 0; t < 50; ++t) {
    for (double& v : z) v = n01(rng);
    ridge.update(z.data(), n01(rng));
  }
  std::vector<double> rows(n * m);
  for (double& v : rows) v = n01(rng);
  std::vector<double> all(n);
  ridge.score(rows.data(), n, 0.3, all.data());
  // Every row scored alone, and every suffix scored as its own batch, must agree bit for bit.
  for (int i = 0; i < n; ++i) {
    double one;
    ridge.score(rows.data() + i * m, 1, 0.3, &one);
    EXPECT_EQ(one, all[i]) << "row " << i;
    std::vector<double> tail(n - i);
    ridge.score(rows.data() + i * m, n - i, 0.3, tail.data());
    EXPECT_EQ(tail[0], all[i]) << "row " << i;
  }
  // And the bonus is the textbook quadratic form.
  for (int i = 0; i < n; ++i) {
    Eigen::Map<const Eigen::VectorXd> zi(rows.data() + i * m, m);
    const double expect = zi.dot(ridge.theta()) + 0.3 * std::sqrt(zi.dot(ridge.sigma() * zi));
    EXPECT_NEAR(all[i], expect, 1e-12 * (1 + std::abs(expect)));
  }
}

TEST(Ridge, ZeroWeightUpdateLeavesStateUnchanged) {
  Ridge ridge(4, 1.0);
  double z[4] = {1, 2, 3, 4};
  ridge.update(z, 1.0);
  Eigen::MatrixXd before = ridge.sigma();
  ridge.update(z, 5.0, 0.0);
  EXPECT_EQ((ridge.sigma() - before).norm(), 0.0);
}
