// Hand-written gradients of the spec §7 objective vs central finite differences, for every
// parameter block (W_n, e_n, G, h), with learned gating and with fixed random pools.
#include <gtest/gtest.h>

#include <string>

#include "models/gradient_check.hpp"

#include "moe_test_util.hpp"

namespace stagesim::moe {
namespace {

// Double precision, h = 1e-5: the central difference has truncation error O(h²·f''') ≈ 1e-10 and
// rounding error ≈ 1e-16/h ≈ 1e-11 for an objective of order 1, so 1e-7 (absolute, or 1e-6
// relative) is loose for a correct gradient and far below a missing factor or term.
constexpr models::GradientCheckOptions kCheck{
    .step = 1e-5, .tolerance = 1e-6, .abs_tolerance = 1e-7};

MoeConfig SmallConfig() {
  MoeConfig c;
  c.features = 6;
  c.items = 5;
  c.item_dim = 3;
  c.subsets = {{0, 1, 2, 3}, {2, 3, 4, 5}, {0, 5}};
  c.sigma = 0.7;
  return c;
}

void CheckAllBlocks(MoeModel& model, const test::Batch& batch, bool gating_trained) {
  const auto r = models::check_gradient(
      model.params(),
      [&](models::ParameterSet* grad) {
        return model.objective(batch.z, batch.items, batch.rewards, grad);
      },
      kCheck);
  EXPECT_TRUE(r.passed()) << r.summary();
  // A block whose true gradient is zero would pass vacuously: require signal where expected.
  for (std::size_t t = 0; t < r.names.size(); ++t) {
    const bool gating_block = t == model.g_index() || t == model.h_index();
    if (gating_block && !gating_trained)
      EXPECT_EQ(r.analytic_abs_sum[t], 0.0) << r.names[t];
    else
      EXPECT_GT(r.analytic_abs_sum[t], 1e-3) << r.names[t];
  }
  EXPECT_GT(r.checked, 100);
}

TEST(MoeGradient, LearnedGatingMatchesFiniteDifferences) {
  Rng rng(7);
  MoeModel model(SmallConfig(), rng);
  test::Scramble(model, 0.6, rng);
  CheckAllBlocks(model, test::RandomBatch(9, 6, 5, rng), true);
}

TEST(MoeGradient, ContinuousRewardsMatchFiniteDifferences) {
  Rng rng(8);
  MoeModel model(SmallConfig(), rng);
  test::Scramble(model, 0.6, rng);
  CheckAllBlocks(model, test::RandomBatch(9, 6, 5, rng, /*binary=*/false), true);
}

TEST(MoeGradient, FixedPoolsMatchFiniteDifferences) {
  Rng rng(9);
  MoeConfig c = SmallConfig();
  c.fixed_pool_of_item = {2, 0, 1, 0, 2};
  MoeModel model(c, rng);
  test::Scramble(model, 0.6, rng);
  // Every item appears, so every expert's embedding block has signal.
  test::Batch b = test::RandomBatch(10, 6, 5, rng);
  for (int i = 0; i < 5; ++i) b.items[static_cast<std::size_t>(i)] = i;
  CheckAllBlocks(model, b, false);
}

TEST(MoeGradient, ThreadCountDoesNotChangeResults) {
  Rng rng(10);
  MoeConfig c = SmallConfig();
  MoeModel one(c, rng);
  test::Scramble(one, 0.6, rng);
  c.threads = 2;
  Rng rng2(10);
  MoeModel two(c, rng2);
  two.params() = one.params();
  const test::Batch b = test::RandomBatch(33, 6, 5, rng);
  models::ParameterSet g1 = one.params().zeros_like(), g2 = g1;
  EXPECT_EQ(one.objective(b.z, b.items, b.rewards, &g1),
            two.objective(b.z, b.items, b.rewards, &g2));
  for (std::size_t t = 0; t < g1.size(); ++t) EXPECT_EQ(g1[t], g2[t]) << "tensor " << t;
  EXPECT_EQ(one.scores(b.z), two.scores(b.z));
}

}  // namespace
}  // namespace stagesim::moe
