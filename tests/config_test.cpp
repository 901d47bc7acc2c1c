// Every class of bad experiment file gives one line naming file:line, the key path and what is
// allowed; the CLI turns it into exit code 2.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

const char* kBase = R"([experiment]
replications = 2
horizon = 100
checkpoints = 10
[world]
type = "linear"
items = 20
dim = 4
[stages.ranker]
type = "linucb"
)";

// Parses `text` (optionally with --set overrides) and returns the error message, or "" when it
// parsed.
std::string error_of(const std::string& text, std::vector<std::string> sets = {}) {
  try {
    parse(text, std::move(sets));
  } catch (const ConfigError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << "message must be one line: " << m;
    return m;
  }
  return "";
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

// The value at `path` of the first configuration's resolved TOML, as text (strings unquoted), or
// "<missing>".
std::string resolved_value(const Experiment& ex, const std::string& path) {
  const toml::table t = toml::parse(ex.configs[0].resolved);
  const auto n = toml::at_path(t, path);
  if (!n) return "<missing>";
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto d = n.value_exact<double>()) return format_number(*d);
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  return "<other>";
}

}  // namespace

TEST(Config, BaseParses) {
  Experiment ex = parse(kBase);
  ASSERT_EQ(ex.configs.size(), 1u);
  EXPECT_EQ(ex.task_count(), 2u);
  EXPECT_EQ(ex.configs[0].checkpoint_steps.back(), 100);
  // Defaults are filled into the resolved text.
  EXPECT_HAS(ex.configs[0].resolved, "alpha = 0.1");
  EXPECT_HAS(ex.configs[0].resolved, "noise_std = 0.1");
}

TEST(Config, UnknownKeysNameLineAndSuggest) {
  std::string m = error_of(std::string(kBase) + "alpah = 0.2\n");
  EXPECT_HAS(m, "test.toml:11");
  EXPECT_HAS(m, "'stages.ranker.alpah'");
  EXPECT_HAS(m, "did you mean 'alpha'");
  EXPECT_HAS(m, "stage type 'linucb'");
  m = error_of(std::string(kBase) + "[wrold]\nx = 1\n");
  EXPECT_HAS(m, "test.toml:11");
  EXPECT_HAS(m, "did you mean 'world'");
  m = error_of(std::string(kBase) + "[metrics.regert]\n");
  EXPECT_HAS(m, "did you mean 'regret'");
  m = error_of(std::string(kBase) + "[experiment.x]\n");  // TOML redefinition is a syntax error
  EXPECT_HAS(m, "test.toml:11");
}

TEST(Config, WrongTypesAndRanges) {
  std::string m = error_of(kBase, {"world.items=\"ten\""});
  EXPECT_HAS(m, "'world.items' must be an integer");
  EXPECT_HAS(m, "\"ten\"");
  m = error_of(kBase, {"world.items=0"});
  EXPECT_HAS(m, "'world.items' = 0 is out of range; allowed: [1, 2147483647]");
  m = error_of(kBase, {"stages.ranker.lambda=0"});
  EXPECT_HAS(m, "allowed: > 0");
  m = error_of(std::string(kBase) + "alpha = -1\n");
  EXPECT_HAS(m, "test.toml:11");
  EXPECT_HAS(m, "'stages.ranker.alpha' = -1 is out of range");
  m = error_of(kBase, {"stages.ranker.train_on=\"mine\""});
  EXPECT_HAS(m, "one of \"all\", \"own_pool\", \"own_nominee\"");
  m = error_of(kBase, {"experiment.checkpoints=1000"});
  EXPECT_HAS(m, "exceeds horizon");
}

TEST(Config, GridErrors) {
  std::string m = error_of(std::string(kBase) + "[grid]\n\"world.items\" = []\n");
  EXPECT_HAS(m, "test.toml:12");
  EXPECT_HAS(m, "grid axis 'world.items' is empty");
  m = error_of(std::string(kBase) + "[grid]\n\"world.itemz\" = [3]\n");
  EXPECT_HAS(m, "test.toml:12");
  EXPECT_HAS(m, "'world.itemz'");
  EXPECT_HAS(m, "did you mean 'items'");
  m = error_of(std::string(kBase) + "[grid]\n\"world.items\" = 5\n");
  EXPECT_HAS(m, "must be a list");
}

TEST(Config, GridAndVariantsExpand) {
  Experiment ex = parse(std::string(kBase) + R"([grid]
"world.items" = [10, 20]
linked = [{"world.dim" = 2, "stages.ranker.features" = 1}, {"world.dim" = 4, "stages.ranker.features" = 2}]
[[variant]]
name = "U"
[[variant]]
name = "G"
stages.ranker.type = "greedy"
)");
  ASSERT_EQ(ex.configs.size(), 8u);
  EXPECT_EQ(ex.grid_axes, (std::vector<std::string>{"linked", "world.items"}));
  EXPECT_EQ(ex.configs[1].variant, "G");
  EXPECT_EQ(ex.configs[1].stages[0].type, "greedy");
  // Variant G dropped linucb's alpha rather than failing on it.
  EXPECT_EQ(ex.configs[1].resolved.find("alpha"), std::string::npos);
  EXPECT_EQ(ex.configs[7].world.items, 20);
  EXPECT_EQ(ex.configs[7].world.dim, 4);
  EXPECT_EQ(ex.configs[7].stages[0].feature_count, 2);
  // --set on a grid axis replaces its values.
  Experiment one =
      parse(std::string(kBase) + "[grid]\n\"world.items\" = [10, 20]\n", {"world.items=7"});
  ASSERT_EQ(one.configs.size(), 1u);
  EXPECT_EQ(one.configs[0].world.items, 7);
}

TEST(Config, PipelineErrors) {
  const char* two = R"([experiment]
horizon = 10
checkpoints = 1
[world]
type = "linear"
items = 3
dim = 2
[stages.a]
type = "greedy"
input = "b"
[stages.b]
type = "greedy"
input = "a"
)";
  std::string m = error_of(two);
  EXPECT_HAS(m, "cycle");
  m = error_of(std::string(kBase) +
               "input = \"nominaters\"\n[stages.nominators]\ntype = \"greedy\"\n");
  EXPECT_HAS(m, "test.toml:11");
  EXPECT_HAS(m, "'nominaters' is not a stage");
  EXPECT_HAS(m, "did you mean 'nominators'");
  m = error_of(std::string(kBase) + "[stages.other]\ntype = \"random\"\n");
  EXPECT_HAS(m, "exactly one stage");
  EXPECT_HAS(m, "other");
  m = error_of(kBase, {"stages.ranker.keep=21"});
  EXPECT_HAS(m, "'stages.ranker.keep' = 21");
  EXPECT_HAS(m, "at most 20 candidates");
  m = error_of(kBase, {"stages.ranker.replicas=5", "stages.ranker.keep=5"});
  EXPECT_HAS(m, "at most 4 candidates");  // 20 items dealt to 5 replicas
  m = error_of(kBase, {"stages.ranker.type=\"lincub\""});
  EXPECT_HAS(m, "unknown stage type 'lincub'");
  EXPECT_HAS(m, "did you mean 'linucb'");
  m = error_of(kBase, {"stages.ranker.features=5"});
  EXPECT_HAS(m, "0 (all) to 4");
  m = error_of(kBase, {"stages.ranker.pools=[[0,1],[2]]"});
  EXPECT_HAS(m, "lists 2 pools but replicas = 1");
  m = error_of(kBase, {"stages.ranker.pools=[[0,99]]"});
  EXPECT_HAS(m, "has item 99");
}

TEST(Config, SyntaxAndStructureErrors) {
  std::string m = error_of("[experiment]\nhorizon = \n");
  EXPECT_HAS(m, "test.toml:2");
  EXPECT_HAS(m, "TOML syntax error");
  m = error_of("[experiment]\nhorizon = 10\ncheckpoints = 1\n");
  EXPECT_HAS(m, "missing [world]");
  m = error_of(std::string(kBase) + "[[variant]]\nname = \"a\"\n[[variant]]\nname = \"a\"\n");
  EXPECT_HAS(m, "test.toml:14");
  EXPECT_HAS(m, "used twice");
  m = error_of(std::string(kBase) + "[[variant]]\nname = \"a\"\nremove = [\"stages.x\"]\n");
  EXPECT_HAS(m, "removes 'stages.x'");
  m = error_of(kBase, {"noequals"});
  EXPECT_HAS(m, "--set noequals");
  EXPECT_HAS(m, "key.path=value");
  m = error_of(kBase, {"world.items.x=3"});
  EXPECT_HAS(m, "'world.items' is 20, not a table");
}

TEST(Config, CliReportsErrorsWithExitCode2) {
  auto dir = scratch_dir("cli");
  write_file(dir / "bad.toml", std::string(kBase) + "alpah = 1\n");
  auto r = run_command(stagesim_binary() + " check " + (dir / "bad.toml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.output, "bad.toml:11");
  EXPECT_HAS(r.output, "stages.ranker.alpah");
  r = run_command(stagesim_binary() + " run " + (dir / "missing.toml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.output, "cannot open the experiment file");
  r = run_command(stagesim_binary() + " frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  r = run_command(stagesim_binary() + " run " + (dir / "bad.toml").string() + " --threads x");
  EXPECT_EQ(r.exit_code, 2);
  write_file(dir / "good.toml", kBase);
  r = run_command(stagesim_binary() + " check " + (dir / "good.toml").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_HAS(r.output, "2 tasks");
  r = run_command(stagesim_binary() + " list");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_HAS(r.output, "linucb");
  EXPECT_HAS(r.output, "update_every");
  std::filesystem::remove_all(dir);
}

// ---- Issue 11, item 4: every configuration error at check time
// -----------------------------------

// Enumerated options go through one table: the value is checked against the names (with a hint),
// converted, and written back by name.
TEST(Config, EnumeratedOptionsConvertThroughOneTable) {
  std::string m = error_of(std::string(kBase) + "[arrivals]\nprocess = \"poison\"\n");
  EXPECT_HAS(m, "test.toml:12:11: key 'arrivals.process' = \"poison\" is not allowed");
  EXPECT_HAS(m, "did you mean \"poisson\"");
  EXPECT_HAS(m, "one of \"fixed\", \"poisson\"");
  m = error_of(std::string(kBase) + "train_on = 3\n");
  EXPECT_HAS(m, "key 'stages.ranker.train_on' must be a string (one of \"all\", \"own_pool\"");
  Experiment ex = parse(std::string(kBase) +
                        "train_on = \"own_pool\"\n[feedback]\ndelay = "
                        "\"exponential\"\ndelay_mean = 2.0\n");
  EXPECT_EQ(ex.configs[0].stages[0].train_on, TrainOn::own_pool);
  EXPECT_EQ(ex.configs[0].delay, DelayModel::exponential);
  EXPECT_EQ(resolved_value(ex, "stages.ranker.train_on"), "own_pool");
  EXPECT_EQ(resolved_value(ex, "feedback.delay"), "exponential");
}

TEST(Config, EnumTableRoundTripsAndListsAliasesOnce) {
  enum class E { a, b };
  const EnumTable<E> t{{"a", E::a}, {"b", E::b}, {"also-b", E::b}};
  EXPECT_EQ(t.find("b"), E::b);
  EXPECT_EQ(t.find("also-b"), E::b);
  EXPECT_FALSE(t.find("c").has_value());
  EXPECT_EQ(t.name(E::b), "b");  // the first name is written back
  EXPECT_EQ(t.names(), (std::vector<std::string>{"a", "b", "also-b"}));
}

// Defaults that depend on other options are resolved before /tasks/resolved is written: what is
// recorded is what runs (learning_rate = 0 used to be recorded while 0.01 was used).
TEST(Config, SentinelDefaultsAreResolvedBeforeTheyAreRecorded) {
  const std::string pg = R"([world]
type = "embedding"
users = 20
items = 20
[stages.esr]
type = "pl_ranker"
keep = 3
[stages.lsr]
type = "late_ranker"
input = "esr"
)";
  Experiment ca = parse(pg);
  EXPECT_EQ(resolved_value(ca, "stages.esr.learning_rate"), "0.01");
  EXPECT_EQ(resolved_value(ca, "stages.esr.grpo_shift"), "on");
  Experiment v = parse(pg, {"stages.esr.estimator=\"v-pg\""});
  EXPECT_EQ(resolved_value(v, "stages.esr.learning_rate"), "0.1");
  EXPECT_EQ(resolved_value(v, "stages.esr.grpo_shift"), "off");
  // An explicit value stays.
  Experiment e = parse(pg, {"stages.esr.learning_rate=0.05"});
  EXPECT_EQ(resolved_value(e, "stages.esr.learning_rate"), "0.05");
  // top1-pg is CA-PG-SwR with one model; with more, the error names the key and the line.
  std::string top1 = pg;
  top1.insert(top1.find("keep = 3\n") + 9, "estimator = \"top1-pg\"\nmodels = 2\n");
  const std::string m = error_of(top1);
  EXPECT_HAS(m, "test.toml:8:13: key 'stages.esr.estimator' = \"top1-pg\" is CA-PG-SwR");
}

// A metric that evaluates on fresh requests is refused at check time for a world that cannot
// draw them (it failed at the first checkpoint of the run).
TEST(Config, MetricsAreCheckedAgainstTheWorldsCapabilities) {
  const std::string m = error_of(R"([world]
type = "fixed_context"
contexts = [[[1.0, 0.0], [0.0, 1.0]]]
theta = [1.0, 0.5]
[stages.p]
type = "greedy"
[metrics.policy_value]
)");
  EXPECT_HAS(m, "test.toml:7:");
  EXPECT_HAS(m, "metric 'policy_value' evaluates the pipeline on fresh requests");
}
