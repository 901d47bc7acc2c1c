// Pool allocation helpers, export formats and the top-k metrics on hand-computed cases.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>

#include "environments/generators/labeled_products.hpp"
#include "learners/moe/pools.hpp"
#include "learners/moe/top_k_metrics.hpp"

namespace stagesim::moe {
namespace {

TEST(MoePools, RandomAssignmentIsBalancedAndDisjoint) {
  Rng rng(1);
  const auto a = random_pool_assignment(103, 10, rng);
  ASSERT_EQ(a.size(), 103u);
  const Pools pools = pools_from_assignment(a, 10);
  ASSERT_EQ(pools.size(), 10u);
  std::size_t total = 0;
  for (const auto& p : pools) {
    EXPECT_TRUE(p.size() == 10 || p.size() == 11);
    total += p.size();
  }
  EXPECT_EQ(total, 103u);  // every item in exactly one pool
  Rng other(2);
  EXPECT_NE(random_pool_assignment(103, 10, other), a);
}

TEST(MoePools, DistillTakesArgmaxAndDropsEmptyPools) {
  RowMatrixXd gate(4, 3);
  gate << 0.2, 0.5, 0.3,  //
      0.6, 0.2, 0.2,      //
      0.4, 0.4, 0.2,      // tie: lower expert
      0.1, 0.8, 0.1;
  const auto a = distill_assignment(gate);
  EXPECT_EQ(a, (std::vector<int>{1, 0, 0, 1}));
  EXPECT_EQ(pools_from_assignment(a, 3), (Pools{{1, 2}, {0, 3}}));
  EXPECT_EQ(pools_from_assignment(a, 3, false).size(), 3u);
}

TEST(MoePools, TomlStringIsPipelineSyntax) {
  EXPECT_EQ(pools_to_toml({{0, 3, 7}, {1, 2}}), "[[0, 3, 7], [1, 2]]");
  EXPECT_THROW(pools_to_toml({{0}, {}}), std::invalid_argument);
}

TEST(MoePools, Hdf5RoundTrip) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("moe_pools_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "pools.h5";
  const Pools pools{{0, 4}, {1, 2, 5}, {3}};
  write_pools_hdf5(file, "moe/pools", pools);
  EXPECT_EQ(read_pools_hdf5(file, "moe/pools"), pools);
  write_pools_hdf5(file, "moe/pools", Pools{{1}, {0}});  // replaces the dataset
  EXPECT_EQ(read_pools_hdf5(file, "moe/pools"), (Pools{{1}, {0}}));
  EXPECT_THROW(read_pools_hdf5(file, "missing"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(MoePools, AgreementScores) {
  const std::vector<int> truth{0, 0, 1, 1, 2, 2};
  const std::vector<int> relabelled{2, 2, 0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(purity(relabelled, truth), 1.0);
  EXPECT_DOUBLE_EQ(adjusted_rand_index(relabelled, truth), 1.0);
  const std::vector<int> merged{0, 0, 0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(purity(merged, truth), 4.0 / 6.0);
  const std::vector<int> split{0, 1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(purity(split, truth), 1.0);         // purity rewards over-splitting ...
  EXPECT_LT(adjusted_rand_index(split, truth), 0.01);  // ... ARI does not
  // Hand-computed ARI (sklearn gives 0.2424... for this pair).
  EXPECT_NEAR(
      adjusted_rand_index(std::vector<int>{0, 0, 1, 1, 2, 2}, std::vector<int>{0, 0, 1, 2, 2, 2}),
      0.4444444444444444, 1e-12);
}

TEST(MoeTopK, TopItemsBreaksTiesByLowerId) {
  Eigen::RowVectorXd s(5);
  s << 1.0, 3.0, 3.0, 0.5, 2.0;
  EXPECT_EQ(top_items(s, 3), (std::vector<int>{1, 2, 4}));
}

TEST(MoeTopK, PrecisionAndRecallByHand) {
  // One expert, d = d_e = 1, W = 1: score(u, a) = z_u · e_a with e = (3, 2, 1, 0, −1, −2).
  LabeledProducts data;
  data.items = 6;
  data.features.resize(3, 1);
  data.features << 1.0f, -1.0f, 1.0f;
  data.labels = {{0, 5}, {}, {1, 2, 3}};
  MoeConfig c;
  c.features = 1;
  c.items = 6;
  c.item_dim = 1;
  c.subsets = {{0}};
  c.fixed_pool_of_item = {0, 0, 0, 0, 0, 0};
  Rng rng(1);
  MoeModel model(c, rng);
  model.params()[model.w_index(0)].setOnes();
  model.params()[model.e_index(0)] = Eigen::VectorXd::LinSpaced(6, 3.0, -2.0);
  const std::vector<std::int64_t> users{0, 1, 2};
  const TopKMetrics m = evaluate_top_k(model, data, users, 5, /*batch=*/2);
  // user 0: top5 = {0..4}, hits {0} → P 1/5, R 1/2; user 1: no label → 0, 0;
  // user 2: hits {1,2,3} → P 3/5, R 1.
  EXPECT_NEAR(m.precision, (0.2 + 0.0 + 0.6) / 3, 1e-12);
  EXPECT_NEAR(m.recall, (0.5 + 0.0 + 1.0) / 3, 1e-12);
  EXPECT_EQ(m.users, 3);
  EXPECT_GT(m.precision_se, 0.0);
}

}  // namespace
}  // namespace stagesim::moe
