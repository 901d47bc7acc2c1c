// The GPRP worked example, relabelling of a hand-built stage log, the synthetic world and the
// leak-free splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "environments/fully_observed.hpp"
#include "learners/ranking/gprp.hpp"
#include "learners/ranking/pipeline.hpp"
#include "learners/ranking/stage_labels.hpp"

namespace stagesim::ranking {
namespace {

TEST(Gprp, WorkedExample) {
  const double eps = 1e-3;
  // v1..v4: (p^4, r) = (0.1, 1), (0.2, 1), (0.5, ε), (0, 0); c_3 = 3, c_4 = 1.
  const std::vector<double> p = {0.1, 0.2, 0.5, 0.0}, r = {1.0, 1.0, eps, 0.0};
  std::vector<int> prp = prp_select(r, 3), gprp = gprp_select(p, r, 3, 1);
  std::sort(prp.begin(), prp.end());
  std::sort(gprp.begin(), gprp.end());
  EXPECT_EQ(prp, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(gprp, (std::vector<int>{0, 1, 3}));
  EXPECT_DOUBLE_EQ(cascade_utility(prp, p, r, 1), eps);   // stage 4 keeps v3
  EXPECT_DOUBLE_EQ(cascade_utility(gprp, p, r, 1), 1.0);  // stage 4 keeps v2
  // Stage 4's score is not a survival probability here, so w = p·r (Assumption 1) keeps v3 and
  // fails exactly like PRP: the example needs the set-level GPRP.
  std::vector<int> w = survival_weighted_select(p, r, 3);
  std::sort(w.begin(), w.end());
  EXPECT_EQ(w, (std::vector<int>{0, 1, 2}));
}

RequestLog hand_log() {
  RequestLog log;
  log.begin_request(7);
  log.add(10, kExposed, true);
  log.add(11, kExposed, false);
  log.add(12, kRerankDropped, false);
  log.add(13, kRankDropped, false);
  log.add(14, kPrerankDropped, false);
  log.add(15, kRandomSample, false);
  log.add(16, kRankDropped, true);  // feedback on an unexposed row is ignored
  log.end_request();
  return log;
}

TEST(StageLabels, FsLtrScheme) {
  const RequestLog log = hand_log();
  EXPECT_EQ(log.click[6], 0);
  LabelScheme s;
  EXPECT_EQ(relabel(log, s), (std::vector<double>{5, 4, 3, 2, 1, 0, 2}));
  s.z = {0, 1, 2, 3, 4, 6};  // the paper's alternative
  EXPECT_EQ(relabel(log, s), (std::vector<double>{6, 4, 3, 2, 1, 0, 2}));
  s.z = {0, 1, 3, 2, 4, 5};
  EXPECT_NE(s.check(), "");
}

TEST(StageLabels, RecFlowScheme) {
  LabelScheme s;
  s.kind = LabelSchemeKind::kRecFlow;
  EXPECT_EQ(relabel(hand_log(), s), (std::vector<double>{6, 5, 4, 3, 1, 0, 3}));
}

struct Small {
  FullyObservedWorld world;
  std::optional<PipelineModels> models;
  CascadeOptions cascade;
  Small() {
    SyntheticFullyObservedOptions o;
    o.users = 200;
    o.items = 600;
    o.latent_dim = 16;
    o.pool_share = 0.3;
    o.noise_share = 0.3;
    o.popularity_effect = 0.2;
    o.popularity_exponent = 0.8;
    Rng rng(5);
    world = make_synthetic_fully_observed(o, rng);
    PipelineOptions po;
    po.tower_widths = {16, 8};
    po.rank_widths = {16};
    po.examples = 20000;
    models.emplace(world, po, rng);
    cascade.candidates = 150;
    cascade.prerank_keep = 40;
    cascade.rank_keep = 10;
    cascade.prerank_negatives = 40;
    cascade.rank_negatives = 10;
  }
};

TEST(FullyObservedWorld, SyntheticShape) {
  SyntheticFullyObservedOptions o;
  o.users = 300;
  o.items = 1000;
  o.popularity_exponent = 0.8;
  Rng rng(1);
  const FullyObservedWorld w = make_synthetic_fully_observed(o, rng);
  EXPECT_NEAR(w.label_rate(), o.label_rate, 1e-3);
  EXPECT_NEAR(static_cast<double>(w.pool_items.size()) / (o.users * o.items), o.pool_share, 0.03);
  // Popularity skew: the most frequent item is in many more pools than the median one.
  std::vector<int> count(o.items);
  for (int v : w.pool_items) ++count[v];
  std::sort(count.begin(), count.end());
  EXPECT_GT(count.back(), 2 * count[o.items / 2]);
  for (int u = 0; u < w.users; ++u) {
    const auto p = w.pool(u);
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
    EXPECT_EQ(std::adjacent_find(p.begin(), p.end()), p.end());
  }
}

TEST(Cascade, RequestShapeAndLevels) {
  Small s;
  RequestLog log;
  Rng rng(3);
  const auto pos = simulate_request(*s.models, s.world, 0, s.world.pool(0), s.world.labels(0),
                                    s.cascade, rng, &log);
  ASSERT_EQ(log.requests(), 1u);
  int counts[5] = {};
  for (std::size_t i = 0; i < log.rows(); ++i) ++counts[log.level[i]];
  EXPECT_EQ(counts[kExposed], 10);
  EXPECT_EQ(counts[kRankDropped], 10);
  EXPECT_EQ(counts[kPrerankDropped], 40);
  std::set<int> items(log.item.begin(), log.item.end());
  EXPECT_EQ(items.size(), log.rows());  // no item twice in a request
  std::int64_t clicks = 0;
  for (auto c : log.click) clicks += c;
  EXPECT_EQ(clicks, static_cast<std::int64_t>(pos.size()));
}

// Items the pipeline cannot tell apart (KuaiRec items with the same tags) tie in both scores; the
// tie goes to the random draw order, so different requests expose different items. Ties by item
// id would expose the lowest ids of nearly every candidate set: about rank_keep items in all.
TEST(Cascade, TiesGoToTheRandomDrawOrder) {
  Small s;
  FullyObservedWorld w = s.world;
  for (Eigen::Index v = 0; v < w.item_features.rows(); ++v)
    w.item_features.row(v) = s.world.item_features.row(0);
  PipelineOptions po;
  po.tower_widths = {8};
  po.rank_widths = {8};
  po.examples = 2000;
  Rng rng(9);
  const PipelineModels tied(w, po, rng);
  std::set<int> exposed;
  for (int r = 0; r < 20; ++r) {
    RequestLog log;
    simulate_request(tied, w, 0, w.pool(0), w.labels(0), s.cascade, rng, &log);
    for (std::size_t i = 0; i < log.rows(); ++i)
      if (log.level[i] == kExposed) exposed.insert(log.item[i]);
  }
  EXPECT_GT(exposed.size(), 5u * static_cast<std::size_t>(s.cascade.rank_keep));
}

// The pipeline is better than chance at exposing positives (it learned the world): request 1 on
// the full pools. (Later requests draw from pools without the best-scored positives.)
TEST(Cascade, PipelineExposesMorePositivesThanChance) {
  Small s;
  const LtrSplit sp = simulate_splits(*s.models, s.world, s.cascade, 9);
  double test = 0;
  for (const auto& t : sp.test) test += static_cast<double>(t.size());
  const double rate = test / (s.world.users * s.cascade.rank_keep);
  // Binomial SE of a 2000-draw share is about 0.01: 0.05 above the label rate is > 4 SE.
  EXPECT_GT(rate, s.world.label_rate() + 0.05) << rate;
}

TEST(Cascade, LeakFreeSplits) {
  Small s;
  const LtrSplit sp = simulate_splits(*s.models, s.world, s.cascade, 9);
  std::int64_t test = 0;
  for (int u = 0; u < s.world.users; ++u) {
    const std::set<int> t(sp.test[u].begin(), sp.test[u].end());
    const std::set<int> v(sp.validation[u].begin(), sp.validation[u].end());
    test += static_cast<std::int64_t>(t.size());
    for (int x : v) EXPECT_EQ(t.count(x), 0u);
    for (int x : sp.pool(u)) {
      EXPECT_EQ(t.count(x), 0u);
      EXPECT_EQ(v.count(x), 0u);
    }
    for (int x : sp.known[u]) EXPECT_EQ(t.count(x) + v.count(x), 0u);
  }
  EXPECT_GT(test, 0);
  // No training row of any user is one of that user's test or validation positives.
  for (std::size_t r = 0; r < sp.train.requests(); ++r) {
    const int u = sp.train.user[r];
    for (std::int64_t i = sp.train.begin(r); i < sp.train.end(r); ++i) {
      EXPECT_FALSE(std::binary_search(sp.test[u].begin(), sp.test[u].end(), sp.train.item[i]));
      EXPECT_FALSE(
          std::binary_search(sp.validation[u].begin(), sp.validation[u].end(), sp.train.item[i]));
    }
  }
  EXPECT_EQ(sp.train.requests(),
            static_cast<std::size_t>(s.world.users * s.cascade.train_requests));
}

}  // namespace
}  // namespace stagesim::ranking
