// Top-K metric variants on hand-computed rankings.
#include <gtest/gtest.h>

#include <cmath>

#include "learners/ranking/topk_metrics.hpp"

namespace stagesim::ranking {
namespace {

TEST(RankingMetrics, HandComputedVariants) {
  TopKAccumulator acc({2, 4});
  // User A: ranking 7 3 9 1, positives {1, 3}: hits at ranks 2 and 4.
  acc.add_user(std::vector<int>{7, 3, 9, 1}, std::vector<int>{1, 3});
  // User B: ranking 5 6 8 2, positives {4}: no hit.
  acc.add_user(std::vector<int>{5, 6, 8, 2}, std::vector<int>{4});
  // User C: no test positive: not evaluated.
  acc.add_user(std::vector<int>{1, 2, 3, 4}, std::vector<int>{});
  EXPECT_EQ(acc.users(), 2);
  EXPECT_EQ(acc.skipped_users(), 1);
  const auto v = acc.values();
  const double l3 = 1.0 / std::log2(3.0), l5 = 1.0 / std::log2(5.0);
  // K = 2: A has 1 hit (rank 2); B none.
  EXPECT_DOUBLE_EQ(v[0].hr, 0.5);
  EXPECT_DOUBLE_EQ(v[0].precision, (1.0 / 2 + 0) / 2);
  EXPECT_DOUBLE_EQ(v[0].recall, (1.0 / 2 + 0) / 2);
  EXPECT_DOUBLE_EQ(v[0].recall_micro, 1.0 / 3);
  EXPECT_DOUBLE_EQ(v[0].dcg, l3 / 2);
  EXPECT_DOUBLE_EQ(v[0].ndcg, (l3 / (1 + l3) + 0) / 2);
  // K = 4: A has 2 hits (ranks 2, 4); IDCG over min(4, 2) = 2 positions.
  EXPECT_DOUBLE_EQ(v[1].hr, 0.5);
  EXPECT_DOUBLE_EQ(v[1].precision, (2.0 / 4) / 2);
  EXPECT_DOUBLE_EQ(v[1].recall, (2.0 / 2) / 2);
  EXPECT_DOUBLE_EQ(v[1].recall_micro, 2.0 / 3);
  EXPECT_DOUBLE_EQ(v[1].dcg, (l3 + l5) / 2);
  EXPECT_DOUBLE_EQ(v[1].ndcg, ((l3 + l5) / (1 + l3)) / 2);
}

TEST(RankingMetrics, MacroAndMicroRecallDiffer) {
  TopKAccumulator acc({1});
  acc.add_user(std::vector<int>{1}, std::vector<int>{1});           // 1 of 1
  acc.add_user(std::vector<int>{9}, std::vector<int>{2, 3, 4, 5});  // 0 of 4
  const auto v = acc.values();
  EXPECT_DOUBLE_EQ(v[0].recall, 0.5);
  EXPECT_DOUBLE_EQ(v[0].recall_micro, 0.2);
  EXPECT_DOUBLE_EQ(v[0].ndcg, 0.5);
  EXPECT_DOUBLE_EQ(v[0].hr, 0.5);
}

TEST(RankingMetrics, ShortRankingAndNoUsers) {
  TopKAccumulator none({5});
  none.add_user({}, {});
  EXPECT_EQ(none.users(), 0);
  EXPECT_EQ(none.values()[0].hr, 0.0);
  TopKAccumulator acc({5});
  acc.add_user(std::vector<int>{4, 2}, std::vector<int>{2});  // a pool of 2 items
  EXPECT_DOUBLE_EQ(acc.values()[0].precision, 1.0 / 5);
  EXPECT_DOUBLE_EQ(acc.values()[0].ndcg, 1.0 / std::log2(3.0));
  EXPECT_THROW(TopKAccumulator({0}), std::invalid_argument);
}

}  // namespace
}  // namespace stagesim::ranking
