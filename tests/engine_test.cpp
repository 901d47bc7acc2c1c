// The event engine against a hand-written bandit loop, feedback timing, and the statistical
// sanity of the linear world.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "sim/estimate.hpp"
#include "sim/system.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

const char* kSingle = R"(
[experiment]
seed = 11
replications = 3
horizon = 400
checkpoints = 8
[world]
type = "linear"
items = 50
dim = 6
[stages.policy]
type = "linucb"
alpha = 0.3
)";

}  // namespace

// With zero delay and per-feedback updates the engine must be exactly the textbook loop:
// observe x_t, choose argmax, observe r_t, update.
TEST(Engine, ZeroDelayIsTheTextbookBanditLoop) {
  Experiment ex = parse(kSingle);
  const Config& c = ex.configs[0];
  Results engine = run_all(ex);
  for (std::size_t rep = 0; rep < 3; ++rep) {
    StreamKey wk{ex.seed, c.world_scope, rep};
    auto world = c.world.make(wk);
    StageSetup setup;
    setup.num_items = world->num_items();
    setup.world_dim = world->dim();
    auto stage = c.stages[0].build.make(setup);
    Rng rng = StreamKey{ex.seed, c.stages[0].scope, rep}.stream("stage:policy", 0);
    std::vector<int> all(world->num_items());
    std::iota(all.begin(), all.end(), 0);
    Request req;
    double regret = 0, reward = 0;
    std::vector<double> at_checkpoints;
    for (int t = 0; t < c.horizon; ++t) {
      req.index = t;
      world->next(req, 1);
      Decision dec;
      stage->select(req, all, 1, rng, dec);
      const std::vector<int>& chosen = dec.ids;
      const int a = chosen[0];
      const double r = world->reward(req, a, 0);
      regret += req.mean.maxCoeff() - req.mean[a];
      reward += r;
      double w = 1.0;
      Feedback fb;
      fb.request = &req;
      fb.candidates = all;
      fb.selected = chosen;
      fb.served = chosen;
      fb.rewards = {&r, 1};
      fb.weights = {&w, 1};
      stage->learn({&fb, 1});
      if ((t + 1) % 50 == 0) at_checkpoints.push_back(regret);
    }
    const std::size_t s = series_index(ex, "regret");
    for (std::size_t p = 0; p < 8; ++p)
      EXPECT_EQ(engine.cell(0, rep)[s * 8 + p], at_checkpoints[p]) << "rep " << rep << " cp " << p;
    EXPECT_EQ(final_value(ex, engine, 0, rep, "reward"), reward);
  }
}

TEST(Engine, GreedyEqualsLinUcbWithZeroAlpha) {
  std::string text = std::string(kSingle) + R"(
[[variant]]
name = "G"
stages.policy.type = "greedy"
[[variant]]
name = "U0"
stages.policy.alpha = 0.0
)";
  Experiment ex = parse(text);
  Results r = run_all(ex);
  for (std::size_t rep = 0; rep < 3; ++rep) EXPECT_EQ(r.cell(0, rep), r.cell(1, rep));
}

// A delay shorter than the gap between requests, batches of one, or a clock faster than the
// arrivals change nothing; a long delay does change the choices.
TEST(Engine, FeedbackTimingEquivalences) {
  Experiment base = parse(kSingle);
  Results r0 = run_all(base);
  auto same = [&](std::vector<std::string> sets) {
    Experiment ex = parse(kSingle, sets);
    Results r = run_all(ex);
    for (std::size_t rep = 0; rep < 3; ++rep) EXPECT_EQ(r.cell(0, rep), r0.cell(0, rep)) << sets[0];
  };
  same({"feedback.delay=\"fixed\"", "feedback.delay_mean=0.5"});
  same({"stages.policy.update_every=1", "feedback.delay=\"fixed\"", "feedback.delay_mean=0.0"});
  same({"stages.policy.update_interval=0.25"});
  Experiment late = parse(kSingle, {"feedback.delay=\"fixed\"", "feedback.delay_mean=20"});
  Results rl = run_all(late);
  EXPECT_NE(rl.cell(0, 0), r0.cell(0, 0));
  // Delayed learning cannot help: regret with a 20-request delay is larger on average.
  double a = 0, b = 0;
  for (std::size_t rep = 0; rep < 3; ++rep) {
    a += final_value(late, rl, 0, rep, "regret");
    b += final_value(base, r0, 0, rep, "regret");
  }
  EXPECT_GT(a, b);
}

// A probe stage that records the batch sizes it learns from.
namespace {
std::vector<std::size_t>* g_batches = nullptr;  // test-only sink, reset by each test
class ProbeStage final : public Stage {
 public:
  void select(const Request&, std::span<const int> c, int keep, Rng&, Decision& out) override {
    for (int i = 0; i < keep; ++i) out.ids.push_back(c[i]);
  }
  void learn(std::span<const Feedback> batch) override {
    if (g_batches) g_batches->push_back(batch.size());
  }
};
struct NoOpts {};
// The probe's cost functions are easy to sum by hand: n per request, 100 per kept item, 7 per
// evaluation request.
Registry probe_registry() {
  Registry r = builtin_registry();
  r.stages.push_back(make_entry<StageBuild>(
      "stage", "probe", "records batch sizes", OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        StageBuild b;
        b.make = [](const StageSetup&) { return std::make_unique<ProbeStage>(); };
        b.cost = [](double n, double) { return n; };
        b.cost_per_kept = [](double, double) { return 100.0; };
        b.eval_cost = [](double, double) { return 7.0; };
        return b;
      },
      structural_stage_keys()));
  return r;
}
}  // namespace

// check's estimate: training requests cost the stage's cost plus its per-kept term, the
// evaluation requests of policy_value its eval_cost (each with the engine's per-stage overhead and
// the world's cost).
TEST(Estimate, EvaluationRequestsCostTheStagesEvaluationCost) {
  const char* text = R"(
[experiment]
replications = 1
horizon = 1000
checkpoints = 4
[world]
type = "linear"
items = 50
dim = 3
[stages.p]
type = "probe"
keep = 6
[metrics.policy_value]
requests = 300
)";
  Experiment ex = parse_experiment(text, "t.toml", {}, probe_registry());
  const Config& c = ex.configs[0];
  const double world = c.world.cost_per_request;
  ASSERT_GT(world, 0.0);
  ASSERT_EQ(c.checkpoint_steps.size(), 4u);
  const double train = 50.0 + 6 * 100.0 + kStageOverheadFlops + world;
  const double eval = 7.0 + kStageOverheadFlops + world;
  EXPECT_DOUBLE_EQ(c.cost, 1000 * train + 4 * 300 * eval);
}

TEST(Engine, UpdateCadenceBatchesFeedback) {
  const char* text = R"(
[experiment]
replications = 1
horizon = 10
checkpoints = 1
[world]
type = "linear"
items = 5
dim = 2
[stages.p]
type = "probe"
update_every = 4
)";
  std::vector<std::size_t> batches;
  g_batches = &batches;
  Experiment ex = parse_experiment(text, "t.toml", {}, probe_registry());
  run_unit(ex, plan_units(ex)[0]);
  EXPECT_EQ(batches, (std::vector<std::size_t>{4, 4}));  // the last 2 feedbacks wait past T
  batches.clear();
  LoadOptions clocked;
  clocked.set = {"stages.p.update_interval=2.5"};
  Experiment clock = parse_experiment(text, "t.toml", clocked, probe_registry());
  run_unit(clock, plan_units(clock)[0]);
  // Requests arrive at t = 0..9; clock updates at 2.5, 5, 7.5 see 3, 2 and 3 feedbacks.
  EXPECT_EQ(batches, (std::vector<std::size_t>{3, 2, 3}));
  g_batches = nullptr;
}

// Spec check value: uniform random regret over T = 1000 with K = 100 standard-normal means is
// T·E[max of 100 normals] = 2507.6; the realised random policy and the exact baseline must agree
// within 3 standard errors over 30 replications.
TEST(Engine, UniformRandomRegretMatchesClosedForm) {
  Experiment ex = parse(R"(
[experiment]
seed = 5
replications = 30
horizon = 1000
checkpoints = 1
[world]
type = "linear"
items = 100
dim = 10
[stages.policy]
type = "random"
)");
  Results r = run_all(ex);
  for (const char* series : {"regret", "random_regret"}) {
    double sum = 0, sum2 = 0;
    for (std::size_t rep = 0; rep < 30; ++rep) {
      double v = final_value(ex, r, 0, rep, series);
      sum += v;
      sum2 += v * v;
    }
    const double mean = sum / 30, sd = std::sqrt((sum2 - 30 * mean * mean) / 29);
    const double se = sd / std::sqrt(30.0);
    EXPECT_NEAR(mean, 2507.6, 3 * se) << series << " se " << se;
    EXPECT_GT(se, 0.5) << series;  // guard: a degenerate zero-variance run would pass trivially
  }
}

// Changing one system's stage parameters must not change what another system sees: the exact
// random-regret series depends only on the requests, so it must be identical across systems and
// across experiments that differ only in a stage parameter.
TEST(Engine, StageParametersDoNotChangeWorldStreams) {
  Experiment a = parse(kSingle, {"stages.policy.alpha=0.1"});
  Experiment b = parse(kSingle, {"stages.policy.alpha=2.0", "stages.policy.lambda=3.0"});
  Results ra = run_all(a), rb = run_all(b);
  const std::size_t s = series_index(a, "random_regret");
  for (std::size_t rep = 0; rep < 3; ++rep) {
    std::vector<double> xa(ra.cell(0, rep).begin() + s * 8, ra.cell(0, rep).begin() + s * 8 + 8);
    std::vector<double> xb(rb.cell(0, rep).begin() + s * 8, rb.cell(0, rep).begin() + s * 8 + 8);
    EXPECT_EQ(xa, xb);
    EXPECT_NE(ra.cell(0, rep), rb.cell(0, rep));  // but the systems themselves do differ
  }
  // Different replications do see different requests.
  EXPECT_NE(ra.cell(0, 0)[s * 8 + 7], ra.cell(0, 1)[s * 8 + 7]);
}

TEST(Engine, ResultsDoNotDependOnUnitOrder) {
  Experiment ex = parse(std::string(kSingle) + R"(
[grid]
"world.items" = [20, 50]
[[variant]]
name = "U"
[[variant]]
name = "R"
stages.policy.type = "random"
)");
  Results fwd = run_all(ex), rev = run_all(ex, true);
  EXPECT_EQ(fwd.cells, rev.cells);
  // Units group the systems that share a world: 2 world configurations × 3 replications.
  EXPECT_EQ(plan_units(ex).size(), 6u);
}

// Offline policy value: the trained LinUCB is close to the oracle E[max of K normals] and the
// uniform policy to E[mean] = 0; with checkpoint_start the first checkpoint is before any request.
TEST(Engine, PolicyValueEvaluatesTheGreedyPipeline) {
  Experiment ex = parse(R"(
[experiment]
seed = 8
replications = 2
horizon = 500
checkpoints = 2
checkpoint_start = true
[world]
type = "linear"
items = 100
dim = 5
[stages.policy]
type = "linucb"
[metrics.policy_value]
requests = 2000
[[variant]]
name = "U"
[[variant]]
name = "R"
stages.policy.type = "random"
)");
  ASSERT_EQ(ex.checkpoints, 3);
  EXPECT_EQ(ex.configs[0].checkpoint_steps, (std::vector<std::int64_t>{0, 250, 500}));
  Results r = run_all(ex);
  const std::size_t s = series_index(ex, "policy_value");
  // Per-request value has variance ≈ 1 (N(0,1) means) + 0.01 (noise): SE ≈ 1/sqrt(2000) = 0.022.
  for (std::size_t rep = 0; rep < 2; ++rep) {
    const double trained = r.cell(0, rep)[s * 3 + 2];
    EXPECT_GT(trained, 2.3);  // E[max of 100 normals] = 2.5076, minus a small learning gap
    EXPECT_LT(trained, 2.5076 + 4 * 0.022 * 1.5);
    EXPECT_NEAR(r.cell(1, rep)[s * 3 + 2], 0.0, 4 * 0.0225);
    // Checkpoint 0 is before learning: LinUCB then ranks by its bonus only, no better than chance.
    EXPECT_NEAR(r.cell(0, rep)[s * 3 + 0], 0.0, 4 * 0.0225);
  }
}

// Held (delayed or batched) feedback keeps only what the stages read at learn: LinUCB declares
// the served items' rows. A copy of the linucb entry that declares the whole request must give
// bit-identical results under every feedback timing, on a two-stage pipeline whose nominators
// read feature subsets.
namespace {
Registry whole_request_registry() {
  Registry r = builtin_registry();
  StageEntry e = *r.stage("linucb");
  e.type = "linucb_whole";
  auto parse = e.parse;
  e.parse = [parse](const toml::table& t, const std::string& path, toml::table& resolved,
                    const ParseContext& ctx) {
    StageBuild b = parse(t, path, resolved, ctx);
    b.held_features = HeldFeatures::whole;
    return b;
  };
  r.stages.push_back(std::move(e));
  return r;
}
}  // namespace

TEST(Engine, HeldFeedbackKeepingServedRowsEqualsKeepingWholeRequests) {
  const std::string text = R"(
[experiment]
seed = 17
replications = 2
horizon = 300
checkpoints = 3
[world]
type = "linear"
items = 40
dim = 8
[stages.nominators]
type = "TYPE"
replicas = 3
pools = "round_robin"
features = 5
train_on = "all"
keep = 2
update_every = 4
[stages.ranker]
type = "TYPE"
input = "nominators"
keep = 2
[metrics.regret]
decompose = true
)";
  auto with_type = [&](const std::string& type) {
    std::string t = text;
    for (std::size_t p; (p = t.find("TYPE")) != std::string::npos;) t.replace(p, 4, type);
    return t;
  };
  const Registry reg = whole_request_registry();
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"feedback.delay=\"fixed\"", "feedback.delay_mean=25"},
        std::vector<std::string>{"feedback.delay=\"exponential\"", "feedback.delay_mean=10"},
        std::vector<std::string>{"stages.ranker.update_every=7"}}) {
    LoadOptions lo;
    lo.set = sets;
    Experiment held = parse_experiment(with_type("linucb"), "t.toml", lo, reg);
    Experiment whole = parse_experiment(with_type("linucb_whole"), "t.toml", lo, reg);
    const Results rh = run_all(held), rw = run_all(whole);
    ASSERT_EQ(rh.cells.size(), rw.cells.size());
    EXPECT_EQ(rh.cells, rw.cells) << sets[0];
    // The timing did matter: the delayed run differs from the immediate one.
    const Results now = run_all(parse_experiment(with_type("linucb"), "t.toml", {}, reg));
    EXPECT_NE(rh.cells, now.cells) << sets[0];
  }
}

TEST(Request, HeldCopyKeepsTheListedRowsAndRefusesOthers) {
  Request r;
  r.index = 9;
  r.time = 2.5;
  r.delay_draw = 0.7;
  r.user = 4;
  r.noise = Eigen::VectorXd::Constant(2, 0.125);
  r.features.resize(6, 3);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 3; ++j) r.features(i, j) = 10 * i + j;
  r.mean_storage = Eigen::VectorXd::LinSpaced(6, 0, 5);
  r.own_mean();
  Request h;
  const std::vector<int> keep{1, 4};
  h.hold_from(r, keep);
  EXPECT_TRUE(h.held);
  EXPECT_EQ(h.index, 9);
  EXPECT_EQ(h.time, 2.5);
  EXPECT_EQ(h.delay_draw, 0.7);
  EXPECT_EQ(h.user, 4);
  EXPECT_EQ(h.noise, r.noise);
  EXPECT_EQ(h.mean.size(), 0);
  EXPECT_EQ(h.features.rows(), 2);
  for (int item : keep)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(h.feature_row(item)[j], 10 * item + j);
  EXPECT_THROW(h.feature_row(2), std::logic_error);
  EXPECT_THROW(h.feature_row(5), std::logic_error);
  // The source is untouched and still reads every row at its id.
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.feature_row(5)[2], 52);
  // Reused for a request with nothing kept (a stage that reads no features).
  h.hold_from(r, {});
  EXPECT_EQ(h.features.size(), 0);
  EXPECT_THROW(h.feature_row(1), std::logic_error);
}
