#include <gtest/gtest.h>

#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "models/gradient_check.hpp"
#include "pg_test_util.hpp"
#include "learners/pg/estimators.hpp"
#include "learners/pg/lsr.hpp"
#include "learners/pg/pl_mixture.hpp"

namespace stagesim::pg {
namespace {

// A small batch with valid sampled lists, LSR picks among them and positive rewards.
struct Batch {
  std::vector<int> blocks;
  std::vector<RowMatrixXd> logits;
  RowMatrixXi candidates, targets;
  RowMatrixXd rewards;
};

Batch make_batch(int n_models, int n_slots, int n_picks, int batch, int n_items, double scale,
                 std::uint64_t seed) {
  Rng rng(seed);
  Batch b;
  b.blocks = slot_block_sizes(n_slots, n_models);
  b.logits = testing::random_logits(n_models, batch, n_items, scale, rng);
  b.candidates.resize(batch, n_slots);
  b.targets.resize(batch, n_picks);
  b.rewards.resize(batch, n_picks);
  RowSoftmax softmax;
  CandidateSampler sampler(n_items);
  boost::random::uniform_real_distribution<double> reward(0.5, 2.0);
  for (int i = 0; i < batch; ++i) {
    softmax.compute(b.logits, i);
    sampler.sample(SamplerKind::kSequential, softmax, b.blocks, rng,
                   {b.candidates.row(i).data(), static_cast<std::size_t>(n_slots)});
    // L <= K: distinct picks (optimal LSR on random scores); L > K: uniform with replacement.
    LateStageRanker lsr({n_picks <= n_slots ? LsrKind::kOptimal : LsrKind::kUniform});
    const RowMatrixXd f = RowMatrixXd::Random(1, n_items);
    lsr.pick({b.candidates.row(i).data(), static_cast<std::size_t>(n_slots)}, f.data(), true, rng,
             {b.targets.row(i).data(), static_cast<std::size_t>(n_picks)});
    for (int l = 0; l < n_picks; ++l) b.rewards(i, l) = reward(rng);
  }
  return b;
}

double batch_loss(const EstimatorOptions& options, const Batch& b) {
  std::vector<RowMatrixXd> grad;
  return estimator_gradient(options, b.blocks, b.logits, b.candidates, b.targets, b.rewards, grad)
      .loss;
}

struct FdCase {
  std::string name;
  EstimatorOptions options;
};

EstimatorOptions stable(Estimator e, bool in_place = true,
                        SwrMixtureForm form = SwrMixtureForm::kReferenceSumOfPowers) {
  return {e, Precision::kStableDouble, in_place, form};
}

void PrintTo(const FdCase& c, std::ostream* os) {
  *os << c.name;
}

class GradientCheck : public ::testing::TestWithParam<FdCase> {};

// Central differences in double, h = 1e-5: truncation h²/6·|ℓ'''| ~ 1e-11 and rounding
// ~eps·|loss|/h ~ 1e-10 for these O(1) losses, so agreement to 1e-7 (relative to max(1, |g|))
// leaves three orders of margin while any wrong coefficient or missing term shows up at >= 1e-3.
constexpr models::GradientCheckOptions kCheck{
    .step = 1e-5, .tolerance = 1e-7, .abs_tolerance = 1e-7};

TEST_P(GradientCheck, MatchesCentralDifferences) {
  const EstimatorOptions& options = GetParam().options;
  for (int n_models : {1, 3}) {
    for (int n_slots : {1, 4}) {
      for (int n_picks : {1, 2}) {
        Batch b = make_batch(n_models, n_slots, n_picks, 3, 12, 1.5,
                             100 * n_models + 10 * n_slots + n_picks);
        std::vector<RowMatrixXd> grad;
        const ScoreResult r = estimator_gradient(options, b.blocks, b.logits, b.candidates,
                                                 b.targets, b.rewards, grad);
        ASSERT_TRUE(r.finite);
        std::vector<RowMatrixXd*> logits;
        for (RowMatrixXd& l : b.logits) logits.push_back(&l);
        const auto check = models::check_gradient(
            logits, grad, [&] { return batch_loss(options, b); }, kCheck);
        EXPECT_TRUE(check.passed())
            << "M=" << n_models << " K=" << n_slots << " L=" << n_picks << ": " << check.summary();
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Estimators, GradientCheck,
    ::testing::Values(FdCase{"VPg", stable(Estimator::kVPg)},
                      FdCase{"VPgSwr", stable(Estimator::kVPgSwr)},
                      FdCase{"CaPgInPlace", stable(Estimator::kCaPg, true)},
                      FdCase{"CaPgReordered", stable(Estimator::kCaPg, false)},
                      FdCase{"CaPgSwrSumOfPowers", stable(Estimator::kCaPgSwr)},
                      FdCase{"CaPgSwrInclusion", stable(Estimator::kCaPgSwr, true,
                                                        SwrMixtureForm::kInclusionProbability)}),
    [](const auto& info) { return info.param.name; });

// The chain from logits to the towers (temperature, repeated users) against differences of the
// whole pipeline: parameters → batch_logits → estimator loss.
TEST(GradientCheck, ChainToTowerTables) {
  Rng init(4);
  PLMixture policy(2, 4, 12, 3, init, 0.7);
  const std::vector<int> users{0, 2, 2};
  std::vector<RowMatrixXd> logits;
  policy.batch_logits(users, logits);
  Batch b = make_batch(2, 4, 2, 3, 12, 1.0, 77);  // lists and picks only; logits replaced below
  const EstimatorOptions options = stable(Estimator::kCaPg);
  const auto loss = [&]() {
    policy.batch_logits(users, b.logits);
    return batch_loss(options, b);
  };
  b.logits = logits;
  std::vector<RowMatrixXd> grad_logits;
  models::ParameterSet grads;
  estimator_gradient(options, b.blocks, logits, b.candidates, b.targets, b.rewards, grad_logits);
  policy.backprop(users, grad_logits, grads);
  ASSERT_EQ(policy.parameters().size(), grads.size());
  // Absolute 1e-7 whatever the size of the gradient.
  const auto check = models::check_gradient(policy.parameters(), grads, loss,
                                            {.step = 1e-5, .tolerance = 0, .abs_tolerance = 1e-7});
  EXPECT_TRUE(check.passed()) << check.summary();
  EXPECT_TRUE(grads[0].row(1).isZero());  // user 1 not in the batch
}

// V-PG's stable score is the log of the exact PL probability of the list; the SwR forms are their
// closed formulas. Losses use weight −r/(B·L) with B = 1, r = 1, so loss = −ℓ.
TEST(ScoreValues, MatchClosedForms) {
  std::vector<RowMatrixXd> logits(2, RowMatrixXd(1, 6));
  logits[0] << 1.0, 0.2, -0.5, 2.0, 0.0, -1.0;
  logits[1] << -0.3, 1.5, 0.4, 0.0, -2.0, 0.7;
  const std::vector<int> blocks{2, 1};
  RowMatrixXi cand(1, 3), target(1, 1);
  cand << 3, 0, 1;
  target << 0;
  const RowMatrixXd reward = RowMatrixXd::Ones(1, 1);
  std::vector<RowMatrixXd> grad;
  const std::vector<std::vector<double>> s = {{1.0, 0.2, -0.5, 2.0, 0.0, -1.0},
                                              {-0.3, 1.5, 0.4, 0.0, -2.0, 0.7}};
  const double exact = testing::exact_list_probability(s, {0, 0, 1}, {3, 0, 1});
  EXPECT_NEAR(
      -estimator_gradient(stable(Estimator::kVPg), blocks, logits, cand, target, reward, grad).loss,
      std::log(exact), 1e-12);

  const auto p = [&](int m, int a) {
    double z = 0.0;
    for (double v : s[m]) z += std::exp(v);
    return std::exp(s[m][a]) / z;
  };
  const double sum_of_powers = std::log(p(0, 0) * p(0, 0) + p(1, 0));
  const double inclusion = std::log(1 - std::pow(1 - p(0, 0), 2) * (1 - p(1, 0)));
  EXPECT_NEAR(
      -estimator_gradient(stable(Estimator::kCaPgSwr), blocks, logits, cand, target, reward, grad)
           .loss,
      sum_of_powers, 1e-12);
  EXPECT_NEAR(
      -estimator_gradient(stable(Estimator::kCaPgSwr, true, SwrMixtureForm::kInclusionProbability),
                          blocks, logits, cand, target, reward, grad)
           .loss,
      inclusion, 1e-12);
  const double swr = std::log(p(0, 3)) + std::log(p(0, 0)) + std::log(p(1, 1));
  EXPECT_NEAR(
      -estimator_gradient(stable(Estimator::kVPgSwr), blocks, logits, cand, target, reward, grad)
           .loss,
      swr, 1e-12);
}

// Ŝ_{−a} by hand: logits 3, 2, 1, 0, −1, K = 2, target a = item 0 (the best).
// Reordered: Ŝ = [1, 2]; [quirk] in place: top-3 = [0, 1, 2] with a replaced by item 2 → [2, 1].
TEST(ScoreValues, ArgTopKListAndInPlaceSubstitution) {
  std::vector<RowMatrixXd> logits(1, RowMatrixXd(1, 5));
  logits[0] << 3, 2, 1, 0, -1;
  RowSoftmax sm;
  sm.compute(logits, 0);
  double z = 0.0;
  for (int b = 0; b < 5; ++b) z += std::exp(logits[0](0, b));
  const double p1 = std::exp(3.0) / z;
  const auto ell = [&](double removed) {
    const double p2 = std::exp(3.0) / (z - std::exp(removed));
    return std::log(1 - (1 - p1) * (1 - p2));
  };
  const std::vector<int> blocks{2};
  EstimatorKernel reordered(stable(Estimator::kCaPg, false), blocks, 5);
  EstimatorKernel in_place(stable(Estimator::kCaPg, true), blocks, 5);
  EXPECT_NEAR(reordered.ca_log_inclusion(sm, 0), ell(2.0), 1e-13);
  EXPECT_NEAR(in_place.ca_log_inclusion(sm, 0), ell(1.0), 1e-13);
  // A target outside the top K: both give Ŝ = [0, 1].
  EXPECT_NEAR(in_place.ca_log_inclusion(sm, 3), reordered.ca_log_inclusion(sm, 3), 1e-15);
}

// Paper Table 5 regime: peaked logits (gaps of 6 nats before a contested boundary), where the
// arg-top-K path is nearly certain. The approximation is compared with inclusion frequencies of
// 10^6 exact PL lists for every item included with frequency >= 0.05 (relative MC noise <= 4e-3;
// observed approximation error 2–5e-3), at 1e-2 relative.
TEST(CaPgApproximation, MatchesMonteCarloInclusionOnPeakedLogits) {
  constexpr int kItems = 30, kSlots = 4, kSamples = 1000000;
  for (int n_models : {1, 2}) {
    Rng rng(42);
    boost::random::uniform_real_distribution<double> tail(-40.0, -25.0);
    const std::vector<double> head = n_models == 1
                                         ? std::vector<double>{0, -6, -12, -18, -18.5, -19, -20}
                                         : std::vector<double>{0, -6, -6.5, -7.5};
    std::vector<RowMatrixXd> logits(static_cast<std::size_t>(n_models), RowMatrixXd(1, kItems));
    for (int m = 0; m < n_models; ++m) {
      for (int b = 0; b < kItems; ++b) logits[m](0, b) = tail(rng);
      for (std::size_t j = 0; j < head.size(); ++j)
        logits[m](0, (7 * m + 3 * j) % kItems) = head[j];
    }
    RowSoftmax sm;
    sm.compute(logits, 0);
    const std::vector<int> blocks = slot_block_sizes(kSlots, n_models);
    CandidateSampler sampler(kItems);
    std::vector<int> out(kSlots), counts(kItems, 0);
    for (int i = 0; i < kSamples; ++i) {
      sampler.sample(SamplerKind::kSequential, sm, blocks, rng, out);
      for (int c : out) ++counts[c];
    }
    int tested = 0;
    for (bool in_place : {false, true}) {
      EstimatorKernel kernel(stable(Estimator::kCaPg, in_place), blocks, kItems);
      for (int a = 0; a < kItems; ++a) {
        const double mc = counts[a] / static_cast<double>(kSamples);
        if (mc < 0.05) continue;
        EXPECT_NEAR(std::exp(kernel.ca_log_inclusion(sm, a)), mc, 1e-2 * mc)
            << "M=" << n_models << " item " << a;
        ++tested;
      }
    }
    EXPECT_GE(tested, 2 * (n_models == 1 ? 7 : 8));  // the contested items are among them
  }
}

// Logit gap g between the best item and the rest: the float32 reference's log1p(−exp(B − A))
// meets log1p(−1) once exp(−g) is below float resolution (g ≳ 17); stable double does not.
TEST(Precision, Float32ReferenceOverflowsOnLargeGapStableDoesNot) {
  for (Estimator e : {Estimator::kVPg, Estimator::kCaPg}) {
    for (double gap : {10.0, 25.0, 200.0}) {
      Batch b = make_batch(1, 4, 1, 1, 20, 1.0, 5);
      b.logits[0](0, 7) = gap;  // item 7 dominates the row
      b.candidates << 7, 1, 2, 3;
      b.targets << 2;
      std::vector<RowMatrixXd> grad;
      EstimatorOptions reference{e, Precision::kFloat32Reference};
      const ScoreResult f32 = estimator_gradient(reference, b.blocks, b.logits, b.candidates,
                                                 b.targets, b.rewards, grad);
      EXPECT_EQ(f32.finite, gap < 17.0) << estimator_name(e) << " gap " << gap;
      const ScoreResult f64 = estimator_gradient(stable(e), b.blocks, b.logits, b.candidates,
                                                 b.targets, b.rewards, grad);
      EXPECT_TRUE(f64.finite) << estimator_name(e) << " gap " << gap;
      EXPECT_TRUE(grad[0].allFinite());
      // And still right: central difference on the gap item and on the target.
      for (int j : {7, 2}) {
        double& x = b.logits[0](0, j);
        const double x0 = x, h = 1e-5;
        x = x0 + h;
        const double up = batch_loss(stable(e), b);
        x = x0 - h;
        const double down = batch_loss(stable(e), b);
        x = x0;
        EXPECT_NEAR(grad[0](0, j), (up - down) / (2 * h), 1e-7) << "gap " << gap;
      }
    }
  }
}

// On moderate logits the float32 reference path computes the same gradient as stable double up to
// float rounding (observed < 1e-6; bound 1e-4 relative to the largest entry).
TEST(Precision, Float32ReferenceAgreesWithStableOnModerateLogits) {
  for (Estimator e : {Estimator::kVPg, Estimator::kCaPg}) {
    for (int n_models : {1, 3}) {
      const Batch b = make_batch(n_models, 6, 2, 4, 40, 1.0, 9);
      std::vector<RowMatrixXd> g32, g64;
      const ScoreResult r32 = estimator_gradient({e, Precision::kFloat32Reference}, b.blocks,
                                                 b.logits, b.candidates, b.targets, b.rewards, g32);
      const ScoreResult r64 = estimator_gradient(stable(e), b.blocks, b.logits, b.candidates,
                                                 b.targets, b.rewards, g64);
      ASSERT_TRUE(r32.finite);
      EXPECT_NEAR(r32.loss, r64.loss, 1e-5 * std::abs(r64.loss));
      for (int m = 0; m < n_models; ++m) {
        const double scale = g64[m].cwiseAbs().maxCoeff();
        EXPECT_LE((g32[m] - g64[m]).cwiseAbs().maxCoeff(), 1e-4 * scale)
            << estimator_name(e) << " M=" << n_models;
      }
    }
  }
}

TEST(EstimatorNames, RoundTrip) {
  for (Estimator e : {Estimator::kVPg, Estimator::kVPgSwr, Estimator::kCaPg, Estimator::kCaPgSwr}) {
    EXPECT_EQ(estimator_from_name(estimator_name(e)), e);
  }
  EXPECT_FALSE(estimator_from_name("top1").has_value());
}

}  // namespace
}  // namespace stagesim::pg
