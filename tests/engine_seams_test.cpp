// The engine's seams for stateful, multi-objective, logged pipelines: decisions travel with their
// feedback, worlds return several named objectives, the stage log records every candidate of a
// cascade, and session worlds keep per-user state with common random numbers per user.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "sim/output.hpp"
#include "sim/stage_log.hpp"
#include "sim/system.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

struct MeanSe {
  double mean = 0, se = 0;
};
MeanSe mean_se(const std::vector<double>& v) {
  MeanSe m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m.mean) * (x - m.mean);
  m.se = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
  return m;
}

std::vector<double> finals(const Experiment& ex, const Results& r, std::size_t config,
                           const std::string& series) {
  std::vector<double> v;
  for (std::size_t rep = 0; rep < static_cast<std::size_t>(ex.replications); ++rep)
    v.push_back(final_value(ex, r, config, rep, series));
  return v;
}

const char* kTwoObjectives = R"(
[experiment]
seed = 7
replications = 8
horizon = 600
checkpoints = 3
[world]
type = "multi_objective_linear"
items = 20
dim = 5
objectives = ["a", "b"]
noise_std = 0.1
[stages.policy]
type = "greedy"
[metrics.reward]
objective = "all"
[[variant]]
name = "trained on a"
stages.policy.objective = "a"
[[variant]]
name = "trained on b"
stages.policy.objective = "b"
)";

}  // namespace

TEST(Objectives, LearnerTrainedOnAnObjectivePicksForIt) {
  Experiment ex = parse(kTwoObjectives);
  ASSERT_EQ(ex.configs.size(), 2u);
  Results r = run_all(ex);
  // Config 0 trains on a, config 1 on b; each collects more of its own objective (> 3 SE).
  MeanSe a_on_a = mean_se(finals(ex, r, 0, "reward")), a_on_b = mean_se(finals(ex, r, 1, "reward"));
  MeanSe b_on_a = mean_se(finals(ex, r, 0, "reward_b")),
         b_on_b = mean_se(finals(ex, r, 1, "reward_b"));
  EXPECT_GT(a_on_a.mean - a_on_b.mean, 3 * std::hypot(a_on_a.se, a_on_b.se));
  EXPECT_GT(b_on_b.mean - b_on_a.mean, 3 * std::hypot(b_on_b.se, b_on_a.se));
  // A greedy learner on a linear objective ends near the best item: far above zero.
  EXPECT_GT(b_on_b.mean, 0.3 * 600);
}

TEST(Objectives, ScalarisationWeightsAndErrorsAtCheck) {
  // A weighted objective equal to one objective alone gives the same run as naming it.
  Experiment named = parse(kTwoObjectives);
  std::string text = kTwoObjectives;
  const std::string from = "stages.policy.objective = \"b\"";
  text.replace(text.find(from), from.size(), "stages.policy.objective = { b = 1.0, a = 0 }");
  Experiment weighted = parse(text);
  Results rn = run_all(named), rw = run_all(weighted);
  EXPECT_EQ(rn.cell(1, 0), rw.cell(1, 0));
  // Unknown objective names fail at parse (check) time with file:line and the choices.
  const std::string base = std::string(kTwoObjectives).substr(0, text.find("[[variant]]"));
  try {
    parse(base, {"stages.policy.objective=\"c\""});
    FAIL() << "accepted an unknown objective";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("objective 'c'"), std::string::npos) << m;
    EXPECT_NE(m.find("a, b"), std::string::npos) << m;
  }
  try {
    parse(kTwoObjectives, {"metrics.reward.objective=\"likes\""});
    FAIL() << "accepted an unknown metric objective";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("test.toml:"), std::string::npos) << e.what();
  }
}

namespace {
const char* kCascade = R"(
[experiment]
seed = 3
replications = 2
horizon = 12
checkpoints = 2
[world]
type = "linear"
items = 1000
dim = 4
[stages.retrieval]
type = "greedy"
keep = 200
[stages.prerank]
type = "linucb"
input = "retrieval"
keep = 50
[stages.rank]
type = "greedy"
input = "prerank"
keep = 10
[stages.rerank]
type = "random"
input = "rank"
keep = 3
[metrics.regret]
[metrics.stage_log]
)";

std::size_t column(const Experiment& ex, const std::string& name) {
  const auto& cols = ex.tables.at(0).columns;
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (cols[i].name == name) return i;
  throw std::runtime_error("no column " + name);
}
}  // namespace

TEST(StageLog, FourStageCascadeLogsEveryCandidateOnce) {
  Experiment ex = parse(kCascade);
  ASSERT_EQ(ex.tables.size(), 1u);
  auto units = plan_units(ex);
  std::vector<CellResult> cells = run_unit(ex, units.at(0));
  const TableData& t = cells.at(0).tables.at(0);
  ASSERT_EQ(t.rows, 12u * 1000u);
  const auto& req = t.columns[column(ex, "request")];
  const auto& item = t.columns[column(ex, "item")];
  const auto& reached = t.columns[column(ex, "reached")];
  const auto& exposed = t.columns[column(ex, "exposed")];
  const auto& pos_rank = t.columns[column(ex, "position_rank")];
  const auto& score_pre = t.columns[column(ex, "score_prerank")];
  const auto& outcome = t.columns[column(ex, "outcome_reward")];
  std::map<int, std::vector<int>> per_request;
  for (std::size_t r = 0; r < t.rows; ++r) per_request[static_cast<int>(req[r])].push_back(r);
  ASSERT_EQ(per_request.size(), 12u);
  for (const auto& [q, rows] : per_request) {
    std::vector<int> ids;
    int at_least[6] = {0, 0, 0, 0, 0, 0};
    int shown = 0, kept_by_rank = 0;
    for (int r : rows) {
      ids.push_back(static_cast<int>(item[r]));
      for (int s = 1; s <= static_cast<int>(reached[r]); ++s) ++at_least[s];
      shown += exposed[r] != 0;
      kept_by_rank += pos_rank[r] >= 0;
      // Exposed items reached the last stage and have an outcome; others have none.
      EXPECT_EQ(exposed[r] != 0, !std::isnan(outcome[r]));
      if (exposed[r] != 0) EXPECT_EQ(reached[r], 4);
      // Scores exist exactly where the (scoring) pre-ranker was offered the item.
      EXPECT_EQ(reached[r] >= 2, !std::isnan(score_pre[r]));
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << "an item logged twice";
    EXPECT_EQ(ids.size(), 1000u);
    // Offered to each layer = what the previous one kept.
    EXPECT_EQ(at_least[1], 1000);
    EXPECT_EQ(at_least[2], 200);
    EXPECT_EQ(at_least[3], 50);
    EXPECT_EQ(at_least[4], 10);
    EXPECT_EQ(kept_by_rank, 10);
    EXPECT_EQ(shown, 3);
  }
}

TEST(StageLog, WrittenToHdf5AndMergedFromShards) {
  auto dir = scratch_dir("stage_log");
  write_file(dir / "c.toml", kCascade);
  const std::string bin = stagesim_binary(), exp = (dir / "c.toml").string();
  auto r =
      run_command(bin + " run " + exp + " --quiet --threads 2 --out " + (dir / "a.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < 2; ++i) {
    r = run_command(bin + " run " + exp + " --quiet --shard " + std::to_string(i) + "/2 --out " +
                    (dir / ("p" + std::to_string(i) + ".h5")).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  r = run_command(bin + " merge " + (dir / "m.h5").string() + " " + (dir / "p0.h5").string() + " " +
                  (dir / "p1.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* col : {"task", "replication", "request", "item", "reached", "exposed",
                          "position_rerank", "score_prerank", "outcome_reward"}) {
    Dataset a = read_dataset((dir / "a.h5").string(), std::string("tables/stage_log/") + col);
    Dataset m = read_dataset((dir / "m.h5").string(), std::string("tables/stage_log/") + col);
    ASSERT_EQ(a.shape, m.shape) << col;
    ASSERT_EQ(a.shape.at(0), 2u * 12u * 1000u) << col;
    for (std::size_t i = 0; i < a.values.size(); ++i)
      ASSERT_TRUE(a.values[i] == m.values[i] ||
                  (std::isnan(a.values[i]) && std::isnan(m.values[i])))
          << col << " row " << i;
  }
}

// Decisions come back with their feedback, also after a delay and in batches.
namespace {
std::vector<double>* g_seen_payloads = nullptr;
class PayloadStage final : public Stage {
 public:
  void select(const Request& req, std::span<const int> c, int keep, Rng&, Decision& out) override {
    for (int i = 0; i < keep; ++i) out.ids.push_back(c[i]);
    out.payload = {static_cast<double>(req.index), 0.5};
    out.log_prob = -static_cast<double>(req.index);
  }
  void learn(std::span<const Feedback> batch) override {
    for (const Feedback& f : batch) {
      // The payload is the one chosen for this very request.
      EXPECT_EQ(f.decision->payload.at(0), static_cast<double>(f.request->index));
      EXPECT_EQ(f.decision->log_prob, -static_cast<double>(f.request->index));
      EXPECT_EQ(f.selected.data(), f.decision->ids.data());
      if (g_seen_payloads) g_seen_payloads->push_back(f.decision->payload[0]);
    }
  }
};
struct NoOpts {};
Registry payload_registry() {
  Registry r = builtin_registry();
  r.stages.push_back(make_entry<StageBuild>(
      "stage", "payload", "echoes its decision payload", OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        StageBuild b;
        b.make = [](const StageSetup&) { return std::make_unique<PayloadStage>(); };
        b.cost = [](double, double) { return 1.0; };
        return b;
      },
      structural_stage_keys()));
  return r;
}
}  // namespace

TEST(Decisions, TravelWithDelayedAndBatchedFeedback) {
  const std::string text = R"(
[experiment]
seed = 1
replications = 1
horizon = 300
checkpoints = 1
[arrivals]
process = "poisson"
[feedback]
delay = "exponential"
delay_mean = 7.0
[world]
type = "linear"
items = 10
dim = 2
[stages.p]
type = "payload"
update_every = 16
)";
  LoadOptions lo;
  Experiment ex = parse_experiment(text, "t.toml", lo, payload_registry());
  std::vector<double> seen;
  g_seen_payloads = &seen;
  run_unit(ex, plan_units(ex).at(0));
  g_seen_payloads = nullptr;
  // Every request whose feedback arrived and was learned in a full batch came back once.
  EXPECT_GT(seen.size(), 200u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
}

// ---- session worlds
// ------------------------------------------------------------------------------

namespace {
const char* kSessions = R"(
[experiment]
seed = 5
replications = 12
horizon = 3000
checkpoints = 3
[world]
type = "satisfaction_session"
users = 50
items = 60
dim = 6
[stages.policy]
type = "late_ranker"
mode = "optimal"
keep = 1
[metrics.sessions]
[metrics.reward]
objective = "all"
[[variant]]
name = "best item"
stages.policy.type = "late_ranker"
stages.policy.mode = "optimal"
[[variant]]
name = "random item"
stages.policy.type = "random"
)";
}  // namespace

TEST(Sessions, BetterItemsGiveLongerSessionsAndUsersReturn) {
  Experiment ex = parse(kSessions);
  Results r = run_all(ex);
  MeanSe best = mean_se(finals(ex, r, 0, "session_depth"));
  MeanSe rnd = mean_se(finals(ex, r, 1, "session_depth"));
  EXPECT_GT(best.mean - rnd.mean, 3 * std::hypot(best.se, rnd.se))
      << best.mean << " vs " << rnd.mean;
  // Sessions end and users come back: more sessions than users, finite return gaps.
  for (std::size_t c = 0; c < 2; ++c)
    for (double s : finals(ex, r, c, "sessions")) EXPECT_GT(s, 50.0);
  for (double g : finals(ex, r, 1, "return_gap")) EXPECT_TRUE(std::isfinite(g) && g > 0);
  // The depth distribution is reported, not only its mean, and is ordered.
  const double q10 = final_value(ex, r, 0, 0, "session_depth_q10");
  const double q90 = final_value(ex, r, 0, 0, "session_depth_q90");
  EXPECT_LE(q10, q90);
  EXPECT_GT(q90, q10);  // no hard band: depth varies with what the user clicked
}

TEST(Sessions, ResponsesAreCommonRandomNumbersPerUser) {
  // Two instances of the same world (two systems): serve identical items, except that system B
  // shows user 0 a different item. Everyone else's outcomes must stay identical, even though user
  // 0's sessions (and so the global arrival order) change.
  Experiment ex = parse(kSessions);
  const Config& c = ex.configs[0];
  const StreamKey key{ex.seed, c.world_scope, 0};
  auto a = c.world.make(key), b = c.world.make(key);
  const RowMatrix& q = *a->tables().q;
  std::map<std::int64_t, std::vector<double>> out_a, out_b;
  auto step = [&](World& w, bool divert, std::map<std::int64_t, std::vector<double>>& log) {
    Request req;
    w.next(req, 1);
    int item = 0;
    q.row(req.user).maxCoeff(&item);
    if (divert && req.user == 0) item = (item + 1) % static_cast<int>(q.cols());
    double o[2];
    std::vector<int> served = {item};
    w.outcomes(req, served, o);
    w.observe(req, served, o);
    if (req.user != 0) {
      log[req.user].push_back(o[0]);
      log[req.user].push_back(o[1]);
    }
  };
  for (int i = 0; i < 4000; ++i) {
    step(*a, false, out_a);
    step(*b, true, out_b);
  }
  std::size_t compared = 0;
  for (auto& [u, va] : out_a) {
    const auto& vb = out_b[u];
    const std::size_t n = std::min(va.size(), vb.size());
    for (std::size_t k = 0; k < n; ++k) ASSERT_EQ(va[k], vb[k]) << "user " << u << " draw " << k;
    compared += n;
  }
  EXPECT_GT(compared, 5000u);
}

TEST(Sessions, OneWorldPerSystemDoesNotDependOnWhichSystemsRunTogether) {
  // A stateful world is instantiated per system: a system's results are the same alone or next
  // to another system.
  Experiment both = parse(kSessions);
  std::string text = kSessions;
  text = text.substr(0, text.rfind("[[variant]]"));
  Experiment alone = parse(text);
  Results rb = run_all(both), ra = run_all(alone);
  const auto& x = rb.cell(0, 3);
  const auto& y = ra.cell(0, 3);
  ASSERT_EQ(x.size(), y.size());
  EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(double)), 0);
}
