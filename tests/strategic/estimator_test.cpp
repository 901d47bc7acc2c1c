// The importance-weighted estimator is unbiased, and the log-space update stays finite.
#include <gtest/gtest.h>

#include <boost/random/normal_distribution.hpp>
#include <cmath>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/importance_estimate.hpp"
#include "learners/strategic/pasto.hpp"
#include "learners/strategic/simplex.hpp"

namespace stagesim::strategic {
namespace {

struct Moments {
  Eigen::MatrixXd mean, se;
};

// Mean and standard error of Û over n independent rounds of Q buckets sampled from p̃, with
// observations μ + N(0, σ²); `weights` are what each column is divided by (p̃ for the right
// estimator).
Moments estimator_moments(const Problem& pr, const Eigen::VectorXd& sampled_from,
                          const Eigen::VectorXd& weights, int buckets, int n, Rng& rng) {
  const int m = pr.metric_count(), K = pr.parameters();
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(m, K), sq = sum, u(m, K);
  Eigen::MatrixXd obs(m, buckets);
  Eigen::VectorXd z(m);
  std::vector<int> arms(static_cast<std::size_t>(buckets));
  IndexSampler sampler;
  sampler.set(sampled_from);
  boost::random::normal_distribution<double> n01;
  for (int i = 0; i < n; ++i) {
    for (int q = 0; q < buckets; ++q) {
      arms[static_cast<std::size_t>(q)] = sampler.draw(rng);
      for (int j = 0; j < m; ++j) z[j] = n01(rng);
      pr.observe(arms[static_cast<std::size_t>(q)], z.data(), obs.col(q).data());
    }
    u.setZero();
    add_importance_estimate(arms, obs, weights, 1.0, u);
    sum += u;
    sq += u.cwiseProduct(u);
  }
  Moments r;
  r.mean = sum / n;
  r.se = ((sq / n - r.mean.cwiseProduct(r.mean)) / (n - 1)).cwiseSqrt();
  return r;
}

Problem small_problem() {
  Problem pr;
  pr.mean.resize(2, 5);
  pr.mean << 1.0, -0.5, 2.0, 0.3, -1.2,  //
      0.4, 1.1, -0.7, 0.0, 0.9;
  pr.metrics = {"x", "y"};
  pr.objective.thresholds = Eigen::VectorXd::Zero(1);
  pr.noise_std = (Eigen::VectorXd(2) << 0.5, 0.3).finished();
  return pr;
}

class Unbiased : public ::testing::TestWithParam<std::tuple<double, int>> {};

TEST_P(Unbiased, MeanOfEstimatesEqualsUWithinThreeStandardErrors) {
  const auto [explore, buckets] = GetParam();
  const Problem pr = small_problem();
  // A skewed current p, so the exploration floor matters.
  Eigen::VectorXd p(5);
  p << 0.6, 0.25, 0.1, 0.05, 0.0;
  Eigen::VectorXd pt(5);
  smooth(p, explore, pt);
  Rng rng(1234 + buckets);
  const Moments mo = estimator_moments(pr, pt, pt, buckets, 40000, rng);
  for (int j = 0; j < 2; ++j)
    for (int k = 0; k < 5; ++k)
      EXPECT_LE(std::abs(mo.mean(j, k) - pr.mean(j, k)), 3 * mo.se(j, k))
          << "metric " << j << " parameter " << k << ": " << mo.mean(j, k) << " vs "
          << pr.mean(j, k) << " (se " << mo.se(j, k) << ")";
}

INSTANTIATE_TEST_SUITE_P(ExploreAndBuckets, Unbiased,
                         ::testing::Combine(::testing::Values(0.05, 0.3),
                                            ::testing::Values(1, 10)));

// The same check has power: weighting by p instead of the p̃ actually sampled from is detected.
TEST(Unbiased, WrongWeightsAreDetected) {
  const Problem pr = small_problem();
  Eigen::VectorXd p(5), pt(5);
  p << 0.6, 0.25, 0.1, 0.04, 0.01;
  smooth(p, 0.3, pt);
  Rng rng(99);
  const Moments mo = estimator_moments(pr, pt, p, 10, 40000, rng);
  int off = 0;
  for (int j = 0; j < 2; ++j)
    for (int k = 0; k < 5; ++k) off += std::abs(mo.mean(j, k) - pr.mean(j, k)) > 3 * mo.se(j, k);
  EXPECT_GE(off, 5);
}

bool on_simplex(const Eigen::VectorXd& p) {
  return p.allFinite() && (p.array() >= 0).all() && std::abs(p.sum() - 1) < 1e-12;
}

TEST(LogSpaceUpdate, StaysFiniteWithImportanceWeightsUpToKOverEpsilon) {
  const int K = 100;
  const double explore = 1e-3;  // importance weights up to K/ε = 1e5
  Rng draw(5);
  Problem pr = uniform_problem(K, 3, -1, 1, draw);
  pr.objective.form = ObjectiveForm::soft;
  pr.objective.thresholds = Eigen::VectorXd::Constant(2, 0.5);
  pr.objective.lambda = 10;
  pr.noise_std = Eigen::Vector3d::Constant(2.0);
  Pasto pasto(K, pr.objective, {50.0, 0.0, explore});
  std::vector<int> arms(10);
  Eigen::MatrixXd obs(3, 10);
  Eigen::Vector3d z;
  boost::random::normal_distribution<double> n01;
  Rng rng(6);
  double max_weight = 0, min_log = 0;
  for (int t = 0; t < 2000; ++t) {
    pasto.choose(rng, arms);
    Eigen::VectorXd pt(K);
    smooth(pasto.current(), explore, pt);
    for (int q = 0; q < 10; ++q) {
      for (int j = 0; j < 3; ++j) z[j] = n01(rng);
      pr.observe(arms[q], z.data(), obs.col(q).data());
      max_weight = std::max(max_weight, 1.0 / pt[arms[q]]);
    }
    pasto.update(arms, obs);
    ASSERT_TRUE(pasto.log_weights().allFinite()) << "round " << t;
    ASSERT_TRUE(on_simplex(pasto.current())) << "round " << t;
    ASSERT_TRUE(on_simplex(pasto.deployed())) << "round " << t;
    min_log = std::min(min_log, pasto.log_weights().minCoeff());
  }
  // The regime the test is about was reached: near-K/ε weights and probabilities that
  // underflow in linear space (a naive p ⊙ exp(γ g) / Σ would have produced inf/NaN or 0/0).
  EXPECT_GT(max_weight, 0.5 * K / explore);
  EXPECT_LT(min_log, -800.0);
}

TEST(LogSpaceUpdate, NormalisationHandlesExtremeLogWeights) {
  Eigen::VectorXd logw(4), p(4);
  logw << 1e6, 1e6 - 1, -1e300, 1e6 - 2000;
  normalise_log_weights(logw, p);
  EXPECT_TRUE(logw.allFinite());
  EXPECT_NEAR(p.sum(), 1.0, 1e-15);
  EXPECT_NEAR(p[0] / p[1], std::exp(1.0), 1e-12);
  EXPECT_EQ(p[2], 0.0);
  Eigen::VectorXd bad(2);
  bad << 0.0, std::numeric_limits<double>::infinity();
  EXPECT_THROW(normalise_log_weights(bad, p), std::domain_error);
}

}  // namespace
}  // namespace stagesim::strategic
