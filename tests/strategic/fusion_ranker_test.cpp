// The simulator side of strategic parameters (spec §3 C): the multi-metric feed world, the
// fusion ranker's per-request decisions (payload round trip, buckets, rounds, late feedback),
// and PASTO against the deterministic parameters on the same requests.
#include <gtest/gtest.h>

#include <cmath>

#include "../test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

std::string feed_experiment(const std::string& rank_extra, std::int64_t horizon, int reps,
                            const std::string& tail = "") {
  return R"([experiment]
seed = 5
replications = )" +
         std::to_string(reps) + "\nhorizon = " + std::to_string(horizon) + R"(
checkpoints = 2
[world]
type = "multi_metric_feed"
users = 300
items = 300
[stages.retrieve]
type = "random"
keep = 50
[stages.rank]
type = "fusion_ranker"
input = "retrieve"
keep = 5
parameters = [[1.0, 0.0], [0.0, 1.0]]
buckets = 10
round_requests = 500
)" + rank_extra +
         "\n[metrics.stage_stats]\n" + tail;
}

double final_stat(const Experiment& ex, const Results& r, std::size_t c, std::size_t rep,
                  const std::string& stat) {
  return final_value(ex, r, c, rep, "rank_" + stat);
}

TEST(MultiMetricFeed, KuaiRecShapedMetricsWithATradeOff) {
  Experiment ex = parse(feed_experiment("", 10, 1));
  auto world = ex.configs[0].world.make(StreamKey{ex.seed, ex.configs[0].world_scope, 0});
  ASSERT_EQ(world->dim(), 2);
  const RowMatrix& watch = *world->tables().q;
  std::vector<double> w(watch.data(), watch.data() + watch.size());
  std::nth_element(w.begin(), w.begin() + w.size() / 2, w.end());
  EXPECT_NEAR(w[w.size() / 2], 0.8, 0.08);  // watch_median
  // Item-level means of the two metrics, estimated from impressions of random requests, are
  // negatively correlated (item_correlation = −0.6, item share ½).
  Rng rng(3);
  const int items = world->num_items(), n = 4000;
  Eigen::VectorXd sw = Eigen::VectorXd::Zero(items), sl = sw, pw = sw, pl = sw;
  std::vector<int> all(static_cast<std::size_t>(items));
  for (int i = 0; i < items; ++i) all[static_cast<std::size_t>(i)] = i;
  std::vector<double> out(2 * static_cast<std::size_t>(items));
  double ratio_sum = 0, ratio_sq = 0, like_sum = 0;
  for (int r = 0; r < n; ++r) {
    Request req;
    ASSERT_TRUE(world->sample_request(req, items, rng));
    world->outcomes(req, all, out);
    for (int i = 0; i < items; ++i) {
      sw[i] += out[2 * i];
      sl[i] += out[2 * i + 1];
      pw[i] += req.features(i, 0);
      pl[i] += req.features(i, 1);
      const double ratio = out[2 * i] / req.mean[i];
      ratio_sum += ratio;
      ratio_sq += ratio * ratio;
      like_sum += out[2 * i + 1];
    }
  }
  const double cnt = static_cast<double>(n) * items;
  // Watch noise is unbiased: E[realised / expected] = 1 (lognormal σ = 0.5: sd ≈ 0.53).
  const double mean_ratio = ratio_sum / cnt;
  const double se = std::sqrt((ratio_sq / cnt - mean_ratio * mean_ratio) / cnt);
  EXPECT_NEAR(mean_ratio, 1.0, 4 * se);
  EXPECT_GT(like_sum / cnt, 0.02);
  EXPECT_LT(like_sum / cnt, 0.08);
  auto corr = [](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    const Eigen::ArrayXd x = a.array() - a.mean(), y = b.array() - b.mean();
    return (x * y).sum() / std::sqrt((x * x).sum() * (y * y).sum());
  };
  EXPECT_LT(corr(sw, sl), -0.2);
  // The predictions track what they predict.
  EXPECT_GT(corr(pw, sw), 0.8);
  EXPECT_GT(corr(pl, sl), 0.6);
}

// The stage alone: decisions carry (parameter, bucket, round); buckets split the round's
// requests; a round's feedback drives one learner update; feedback of a closed round is late.
TEST(FusionRanker, PayloadBucketsRoundsAndLateFeedback) {
  Experiment ex = parse(feed_experiment("learner = \"ucb\"\nthresholds = [0.04]", 10, 1));
  const Config& c = ex.configs[0];
  auto world = c.world.make(StreamKey{ex.seed, c.world_scope, 0});
  const StageSpec& spec = c.stages[1];
  StageSetup setup;
  setup.num_items = world->num_items();
  setup.world_dim = world->dim();
  setup.features = {0, 1};
  setup.keep = 5;
  Rng init(1), rng(2);
  setup.init_rng = &init;
  setup.world = world.get();
  auto stage = spec.build.make(setup);
  std::vector<int> cand(50);
  for (int i = 0; i < 50; ++i) cand[static_cast<std::size_t>(i)] = 3 * i;
  const std::vector<std::string> objectives = {"watch_ratio", "like"};
  std::vector<int> bucket_count(10, 0);
  std::vector<double> outcomes(10);
  std::vector<Decision> decisions(1000);
  std::vector<std::unique_ptr<Request>> reqs;
  for (int r = 0; r < 1000; ++r) {
    reqs.push_back(std::make_unique<Request>());
    Request& req = *reqs.back();
    world->next(req, 5);
    req.index = r;
    Decision& d = decisions[static_cast<std::size_t>(r)];
    stage->select(req, cand, 5, rng, d);
    ASSERT_EQ(d.ids.size(), 5u);
    ASSERT_EQ(d.payload.size(), 3u);
    const int k = static_cast<int>(d.payload[0]), q = static_cast<int>(d.payload[1]);
    EXPECT_EQ(d.payload[2], r / 500);  // round
    ASSERT_GE(q, 0);
    ASSERT_LT(q, 10);
    ASSERT_TRUE(k == 0 || k == 1);
    if (r < 500) ++bucket_count[static_cast<std::size_t>(q)];
    // The ranking is the fusion of the predictions with β_k: β_0 = watch only.
    const int col = k == 0 ? 0 : 1;
    for (std::size_t i = 1; i < d.ids.size(); ++i)
      EXPECT_GE(req.features(d.ids[i - 1], col), req.features(d.ids[i], col));
    world->outcomes(req, d.ids, outcomes);
    Feedback f;
    f.request = &req;
    f.candidates = cand;
    f.selected = d.ids;
    f.decision = &d;
    f.served = d.ids;
    f.outcomes = outcomes;
    f.objectives = objectives;
    if (r < 500 || r >= 510) stage->learn({&f, 1});
  }
  // 500 requests over 10 buckets: each ~50 (binomial sd ≈ 6.7).
  for (int n : bucket_count) EXPECT_NEAR(n, 50, 25);
  std::vector<double> st = stage->stats();
  const auto& names = spec.build.stats;
  auto stat = [&](const std::string& n) {
    return st[static_cast<std::size_t>(std::find(names.begin(), names.end(), n) - names.begin())];
  };
  EXPECT_EQ(stat("rounds"), 1);  // round 0 closed when round 1 began
  EXPECT_EQ(stat("late_feedback"), 0);
  // Feedback of round 0 arriving now is late (the round is closed).
  Feedback f;
  f.request = reqs[5].get();
  f.decision = &decisions[5];
  f.served = decisions[5].ids;
  world->outcomes(*reqs[5], decisions[5].ids, outcomes);
  f.outcomes = outcomes;
  f.objectives = objectives;
  stage->learn({&f, 1});
  st = stage->stats();
  EXPECT_EQ(stat("late_feedback"), 1);
  EXPECT_NEAR(stat("mean_1"), 0.05, 0.04);
}

TEST(FusionRanker, FixedParametersTraceTheTradeOff) {
  Experiment ex = parse(feed_experiment("learner = \"fixed\"\nthresholds = [0.04]", 4000, 1, R"(
[[variant]]
name = "watch"
stages.rank.parameter = 0
[[variant]]
name = "like"
stages.rank.parameter = 1
)"));
  Results r = run_all(ex);
  EXPECT_GT(final_stat(ex, r, 0, 0, "mean_0"), final_stat(ex, r, 1, 0, "mean_0"));
  EXPECT_LT(final_stat(ex, r, 0, 0, "mean_1"), final_stat(ex, r, 1, 0, "mean_1"));
  EXPECT_EQ(final_stat(ex, r, 0, 0, "top_parameter"), 0);
  EXPECT_EQ(final_stat(ex, r, 1, 0, "top_parameter"), 1);
}

TEST(FusionRanker, ConfigErrors) {
  auto err = [](const std::string& set) {
    try {
      parse(feed_experiment("", 10, 1), {"stages.rank." + set});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err("learner=\"oracle\"").find("noise-free U"), std::string::npos);
  EXPECT_NE(err("parameters=[[1.0, 0.0], [1.0]]").find("vector 1 has 1 weights"),
            std::string::npos);
  EXPECT_NE(err("initial=[1.0, 2.0, 3.0]").find("3 weights but there are 2"), std::string::npos);
  EXPECT_NE(err("form=\"hardest\"").find("hardest"), std::string::npos);
  EXPECT_NE(err("explore=0.0").find("out of range"), std::string::npos);
  // Check time (the stage's validation hook): one threshold per guardrail objective (the world
  // has two objectives, so one threshold) and one weight per feature the stage sees; the errors
  // are located at the key.
  const std::string th = err("thresholds=[0.1, 0.2]");
  EXPECT_NE(th.find("key 'stages.rank.thresholds' gives 2 guardrail(s) but the world has 2 "
                    "objectives"),
            std::string::npos)
      << th;
  const std::string pa = err("parameters=[[1.0, 0.0, 2.0]]");
  EXPECT_NE(pa.find("key 'stages.rank.parameters' has 3 weights per vector but the stage sees 2"),
            std::string::npos)
      << pa;
}

}  // namespace
