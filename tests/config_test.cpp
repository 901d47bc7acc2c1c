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
