// FS-LR against the spec by hand: the |ΔNDCG| pair weights and the gradient of a 3-item group
// worked out on paper, and the training groups of a hand-built stage log (which rows are sampled,
// their stage labels, the padding mask and the pair count of spec §2 / §3).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "environments/fully_observed.hpp"
#include "learners/ranking/losses.hpp"
#include "learners/ranking/ltr_learner.hpp"

namespace stagesim::ranking {
namespace {

double softplus_ref(double x) {
  return std::log1p(std::exp(x));
}
double sigmoid_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// Scores s = (0, 1, −1), labels L = (2, 0, 1). Current ranking: item 1 (rank 1), item 0 (rank 2),
// item 2 (rank 3); discounts 1, 1/log2 3, 1/2. Gains 2^L − 1 = (3, 0, 1); ideal order 3, 1, 0:
// IDCG = 3 + 1/log2 3. Pairs with L_a > L_b: (0, 1), (0, 2), (2, 1), each weighted by the NDCG
// change of swapping the two items' positions:
//   w01 = |3 − 0|·(1 − 1/log2 3) / IDCG, w02 = |3 − 1|·(1/log2 3 − 1/2) / IDCG,
//   w21 = |1 − 0|·(1 − 1/2) / IDCG.
// Loss = (w01·softplus(−(s0 − s1)) + w02·softplus(−(s0 − s2)) + w21·softplus(−(s2 − s1))) / 3.
TEST(FsLrByHand, DeltaNdcgWeightsAndGradient) {
  const double l3 = 1.0 / std::log2(3.0);
  const double idcg = 3.0 + l3;
  const double w01 = 3.0 * (1.0 - l3) / idcg, w02 = 2.0 * (l3 - 0.5) / idcg, w21 = 1.0 * 0.5 / idcg;
  // The numbers, so that a reader can check the arithmetic: IDCG = 3.6309, w = 0.3049, 0.0721,
  // 0.1377.
  EXPECT_NEAR(idcg, 3.63093, 1e-5);
  EXPECT_NEAR(w01, 0.304939, 1e-5);
  EXPECT_NEAR(w02, 0.072119, 1e-5);
  EXPECT_NEAR(w21, 0.137706, 1e-5);
  const std::vector<double> s = {0.0, 1.0, -1.0}, l = {2, 0, 1};
  std::vector<double> g(3);
  std::int64_t pairs = 0;
  const double loss = lambdarank_loss(s, l, {}, g, &pairs);
  EXPECT_EQ(pairs, 3);
  const double want =
      (w01 * softplus_ref(1.0) + w02 * softplus_ref(-1.0) + w21 * softplus_ref(2.0)) / 3.0;
  EXPECT_NEAR(loss, want, 1e-14);
  // λ of a pair (a, b): ∂/∂s_a = −w·σ(−(s_a − s_b)) / pairs, ∂/∂s_b the opposite.
  const double l01 = w01 * sigmoid_ref(1.0) / 3.0;   // d = s0 − s1 = −1
  const double l02 = w02 * sigmoid_ref(-1.0) / 3.0;  // d = s0 − s2 = 1
  const double l21 = w21 * sigmoid_ref(2.0) / 3.0;   // d = s2 − s1 = −2
  EXPECT_NEAR(g[0], -l01 - l02, 1e-14);
  EXPECT_NEAR(g[1], l01 + l21, 1e-14);
  EXPECT_NEAR(g[2], l02 - l21, 1e-14);
  // RankNet: the same pairs with weight 1 (FS-RN).
  std::vector<double> gr(3);
  std::int64_t rn_pairs = 0;
  const double rn = ranknet_loss(s, l, {}, gr, &rn_pairs);
  EXPECT_EQ(rn_pairs, pairs);
  EXPECT_NEAR(rn, (softplus_ref(1.0) + softplus_ref(-1.0) + softplus_ref(2.0)) / 3.0, 1e-14);
  EXPECT_NEAR(gr[0], -(sigmoid_ref(1.0) + sigmoid_ref(-1.0)) / 3.0, 1e-14);
}

// The weights follow the current ranking: after the scores reorder, the same pair gets the
// ΔNDCG of its new positions (here the pair (0, 1) of labels 1 > 0 with the top two swapped).
TEST(FsLrByHand, WeightsFollowTheCurrentRanking) {
  const std::vector<double> l = {1, 0, 0};
  std::vector<double> g(3);
  const double idcg = 1.0;  // one gain-1 item, ideally at rank 1
  // Item 0 at rank 1, item 1 at rank 2: weights to items 1 and 2 (rank 3) are
  // (1 − 1/log2 3) and (1 − 1/2).
  double a = lambdarank_loss(std::vector<double>{2.0, 1.0, 0.0}, l, {}, g);
  const double l3 = 1.0 / std::log2(3.0);
  EXPECT_NEAR(a, ((1 - l3) * softplus_ref(-1.0) + 0.5 * softplus_ref(-2.0)) / idcg / 2.0, 1e-14);
  // Item 0 at rank 3 (last): weights to item 1 (rank 1) 1 − 1/2, to item 2 (rank 2) 1/log2 3 − 1/2.
  a = lambdarank_loss(std::vector<double>{0.0, 2.0, 1.0}, l, {}, g);
  EXPECT_NEAR(a, (0.5 * softplus_ref(2.0) + (l3 - 0.5) * softplus_ref(1.0)) / 2.0, 1e-14);
}

// A world of 20 items, user 0's pool {0..11}; one training request of user 0 logging items 0–1
// exposed positives, 2 an exposed negative, 3–4 rank negatives, 5–6 pre-rank negatives; a
// second request of user 0 with one exposed positive (item 7) and nothing else logged.
struct HandLog {
  FullyObservedWorld world;
  LtrSplit split;
  HandLog() {
    world.users = 1;
    world.items = 20;
    for (int v = 0; v < 12; ++v) world.pool_items.push_back(v), world.pool_labels.push_back(0);
    world.pool_offsets = {0, 12};
    RequestLog& log = split.train;
    log.begin_request(0);
    log.add(0, kExposed, true);
    log.add(1, kExposed, true);
    log.add(2, kExposed, false);
    log.add(3, kRankDropped, false);
    log.add(4, kRankDropped, false);
    log.add(5, kPrerankDropped, false);
    log.add(6, kPrerankDropped, false);
    log.end_request();
    log.begin_request(0);
    log.add(7, kExposed, true);
    log.end_request();
    split.test = split.validation = {{}};
    split.known = {{0, 1, 7}};
    split.pool_items = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    split.pool_offsets = {0, 12};
  }
};

TEST(FsLrByHand, GroupsFromAStageLog) {
  const HandLog h;
  LtrOptions o;
  o.method = LtrMethod::kFsLambdaRank;  // default x,y,z = 1,1,2, 1 exposed negative
  for (LtrStage stage : {LtrStage::kRetrieval, LtrStage::kPrerank}) {
    o.stage = stage;
    Rng rng(5);
    const LtrGroups g = make_groups(h.world, h.split, o, rng);
    ASSERT_EQ(g.size, 6);      // positive + 1 exposed + 1 rank + 1 pre-rank + 2 random
    ASSERT_EQ(g.count(), 3u);  // one group per exposed positive
    const std::set<int> rank_neg = {3, 4}, pre_neg = {5, 6};
    for (std::size_t k = 0; k < 2; ++k) {  // the first request: every kind present
      const std::size_t o0 = k * 6;
      EXPECT_EQ(g.items[o0], static_cast<int>(k));  // the positive, z_5
      EXPECT_EQ(g.labels[o0], 5.0);
      EXPECT_EQ(g.items[o0 + 1], 2);  // the exposed negative, z_4
      EXPECT_EQ(g.labels[o0 + 1], 4.0);
      EXPECT_TRUE(rank_neg.count(g.items[o0 + 2]));  // a rank negative (S = 2), z_2
      EXPECT_EQ(g.labels[o0 + 2], 2.0);
      EXPECT_TRUE(pre_neg.count(g.items[o0 + 3]));  // a pre-rank negative (S = 1), z_1
      EXPECT_EQ(g.labels[o0 + 3], 1.0);
      for (int e = 4; e < 6; ++e) {  // random samples, z_0, from the stage's pool
        EXPECT_EQ(g.labels[o0 + e], 0.0);
        if (stage == LtrStage::kPrerank) EXPECT_LT(g.items[o0 + e], 12);
        EXPECT_LT(g.items[o0 + e], 20);
      }
      for (int e = 0; e < 6; ++e) EXPECT_EQ(g.mask[o0 + e], 1);
    }
    // The second request has no exposed, rank or pre-rank negatives: masked padding, never a
    // fake negative; the random samples are real.
    EXPECT_EQ(g.items[12], 7);
    EXPECT_EQ(g.labels[12], 5.0);
    for (int e = 1; e < 4; ++e) EXPECT_EQ(g.mask[12 + e], 0) << e;
    for (int e = 4; e < 6; ++e) EXPECT_EQ(g.mask[12 + e], 1) << e;
    // Pairs L_a > L_b: labels (5, 4, 2, 1, 0, 0) give 5 + 4 + 3 + 2 = 14 per full group; the
    // padded group (5, 0, 0) gives 2.
    EXPECT_EQ(g.pairs, 14 + 14 + 2);
  }
}

// The RecFlow scheme on the same log: click 6, exposed 5, rank-neg 3, prerank-neg 1, random 0.
TEST(FsLrByHand, GroupsWithRecFlowLabels) {
  const HandLog h;
  LtrOptions o;
  o.labels.kind = LabelSchemeKind::kRecFlow;
  Rng rng(5);
  const LtrGroups g = make_groups(h.world, h.split, o, rng);
  const std::vector<double> want = {6, 5, 3, 1, 0, 0};
  for (int e = 0; e < 6; ++e) EXPECT_EQ(g.labels[e], want[e]) << e;
}

}  // namespace
}  // namespace stagesim::ranking
