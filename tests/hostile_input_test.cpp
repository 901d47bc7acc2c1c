// Hostile inputs and faults (issue 12): every case here crashed, hung, corrupted a result or failed
// late/without a location before it was fixed. Each test names the item it covers.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "sim/output.hpp"
#include "sim/registry.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

// The single-stage LinUCB / Greedy / Random experiment (the quickstart before it became two-stage).
std::string quickstart() {
  return source_dir() + "/experiments/single_stage.toml";
}
std::string table1() {
  return source_dir() + "/experiments/early_stage_pg/table1.toml";
}
CommandResult cli(const std::string& args) {
  return run_command(stagesim_binary() + " " + args);
}
// One line of output: the error, nothing else.
int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// A small pl_ranker experiment on the embedding world (issue items 1, 6).
const char* kPg = R"([experiment]
seed = 3
replications = 1
horizon = 512
checkpoints = 2
[world]
type = "embedding"
users = 50
items = 40
items_equal_users = false
[stages.esr]
type = "pl_ranker"
keep = 5
update_every = 64
[stages.lsr]
type = "late_ranker"
input = "esr"
[metrics.stage_stats]
)";

std::string error_of(const std::string& text, std::vector<std::string> sets = {}) {
  try {
    parse(text, std::move(sets));
  } catch (const ConfigError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    return m;
  }
  return "";
}

bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

}  // namespace

// ---- 1. pl_ranker with non-finite logits ---------------------------------------------------------

TEST(Hostile, OverflowingTemperatureAndLearningRateFailCheck) {
  const std::string t = error_of(kPg, {"stages.esr.temperature=1e-300"});
  EXPECT_HAS(t, "--set stages.esr.temperature=1e-300: key 'stages.esr.temperature'");
  EXPECT_HAS(t, "overflow");
  const std::string lr = error_of(kPg, {"stages.esr.learning_rate=1e300"});
  EXPECT_HAS(lr, "key 'stages.esr.learning_rate'");
  EXPECT_HAS(lr, "use learning_rate <=");
  // Sensible values (the paper's) stay allowed.
  EXPECT_EQ(error_of(kPg, {"stages.esr.learning_rate=0.1", "stages.esr.temperature=0.05"}), "");
}

// The run-time side: a ranker whose scores overflow anyway (built without the check, with a
// learning rate that throws the parameters to ±1e300 in one step) records an overflow event and
// keeps serving valid slates instead of sorting past a NaN.
TEST(Hostile, NonFiniteLogitsAreAnOverflowEventNotACrash) {
  Experiment ex = parse(kPg);
  const Config& c = ex.configs[0];
  auto world = c.world.make(StreamKey{ex.seed, c.world_scope, 0});
  Registry reg = builtin_registry();
  toml::table t = toml::parse("learning_rate = 1e300\n");
  toml::table resolved;
  ParseContext ctx;
  StageBuild b = reg.stage("pl_ranker")->parse(t, "stages.esr", resolved, ctx);
  Rng init = StreamKey{1, 2, 3}.stream("init");
  StageSetup setup;
  setup.num_items = world->num_items();
  setup.keep = 5;
  setup.init_rng = &init;
  setup.world = world.get();
  std::unique_ptr<Stage> stage = b.make(setup);
  std::vector<int> all(static_cast<std::size_t>(world->num_items()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  Rng rng = StreamKey{1, 2, 3}.stream("serve");
  std::int64_t index = 0;
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<std::unique_ptr<Request>> reqs;
    std::vector<std::vector<int>> picks;
    std::vector<Decision> decisions(16);
    for (int i = 0; i < 16; ++i) {
      reqs.push_back(std::make_unique<Request>());
      Request& req = *reqs.back();
      req.index = index++;
      world->next(req, 1);
      stage->select(req, all, 5, rng, decisions[i]);
      const std::vector<int>& out = decisions[i].ids;
      ASSERT_EQ(out.size(), 5u);
      std::vector<int> sorted = out;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicates";
      for (int a : out) ASSERT_TRUE(a >= 0 && a < world->num_items());
      Decision greedy;
      stage->select_eval(req, all, 5, rng, greedy);
      ASSERT_EQ(greedy.ids.size(), 5u);
      picks.push_back(out);
    }
    std::vector<double> reward(1, 1.0), weight(1, 1.0);
    std::vector<Feedback> fb(16);
    for (int i = 0; i < 16; ++i) {
      fb[i].request = reqs[i].get();
      fb[i].candidates = all;
      fb[i].selected = picks[i];
      fb[i].decision = &decisions[i];
      fb[i].served = std::span<const int>(picks[i].data(), 1);
      fb[i].rewards = reward;
      fb[i].weights = weight;
    }
    stage->learn(fb);
    (void)stage->stats();  // the inclusion statistic ranks the (overflowed) logits too
  }
  const std::vector<double> stats = stage->stats();  // loss, steps, overflow_step, ...
  EXPECT_EQ(stats[2], 1.0) << "the overflow is recorded after the step that caused it";
  EXPECT_EQ(stats[1], 1.0) << "training stops at the overflow";
}

// ---- 2. Disk full during the final HDF5 write ----------------------------------------------------

TEST(Hostile, DiskFullDuringTheFinalWriteIsReportedAndResumable) {
  auto dir = scratch_dir("finalfull");
  const std::string out = (dir / "q.h5").string(), ref = (dir / "ref.h5").string();
  const std::string sets = " --set experiment.replications=4 --threads 1 --quiet";
  ASSERT_EQ(cli("run " + quickstart() + sets + " --out " + ref).exit_code, 0);
  // 36 KiB per file: the journal (~29 KB) fits, the ~46 KB result file does not.
  auto r = run_command("bash -c 'ulimit -f 36; exec " + stagesim_binary() + " run " +
                       quickstart() + sets + " --out " + out + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;  // was 139 (segfault in H5_term_library)
  EXPECT_HAS(r.output, "no space left");
  EXPECT_HAS(r.output, "--resume");
  EXPECT_EQ(lines(r.output), 1) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos)
        << "temporary left behind: " << e.path();
  ASSERT_TRUE(std::filesystem::exists(out + ".journal"));
  ASSERT_EQ(cli("run " + quickstart() + sets + " --resume --out " + out).exit_code, 0);
  EXPECT_EQ(read_dataset(ref, "metrics/regret").values, read_dataset(out, "metrics/regret").values);
  std::filesystem::remove_all(dir);
}

TEST(Hostile, MergeOnAFullDiskIsReported) {
  auto dir = scratch_dir("mergefull");
  const std::string sets = " --set experiment.replications=4 --threads 1 --quiet";
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(cli("run " + quickstart() + sets + " --shard " + std::to_string(i) + "/2 --out " +
                       (dir / ("p" + std::to_string(i) + ".h5")).string())
                  .exit_code,
              0);
  const std::string out = (dir / "m.h5").string();
  auto r = run_command("bash -c 'ulimit -f 36; exec " + stagesim_binary() + " merge " + out +
                       " " + (dir / "p0.h5").string() + " " + (dir / "p1.h5").string() + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_HAS(r.output, "no space left");
  EXPECT_FALSE(std::filesystem::exists(out));
  std::filesystem::remove_all(dir);
}

// ---- 3. Two runs on one --out --------------------------------------------------------------------

TEST(Hostile, ASecondRunOnTheSameOutputIsRefusedWhileTheFirstRuns) {
  auto dir = scratch_dir("concurrent");
  const std::string out = (dir / "q.h5").string(), ref = (dir / "ref.h5").string();
  const std::string sets =
      " --set experiment.horizon=20000 --set experiment.replications=8 --threads 1 --quiet";
  ASSERT_EQ(cli("run " + quickstart() + sets + " --out " + ref).exit_code, 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(stagesim_binary().c_str(), "stagesim", "run", quickstart().c_str(), "--set",
          "experiment.horizon=20000", "--set", "experiment.replications=8", "--threads", "1",
          "--quiet", "--resume", "--out", out.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Wait until the first run holds the output (its journal exists), then start the second.
  const auto journal = std::filesystem::path(out + ".journal");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(journal) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto second = cli("run " + quickstart() + sets + " --resume --out " + out);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(second.exit_code, 3) << second.output;
  EXPECT_HAS(second.output, "another stagesim run is writing it");
  EXPECT_HAS(second.output, "pid " + std::to_string(pid));
  // The winner's file is complete and right; nothing is left beside it.
  EXPECT_EQ(read_dataset(ref, "metrics/regret").values, read_dataset(out, "metrics/regret").values);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"q.h5", "ref.h5"}));
  // And once it has finished, the output can be written again.
  EXPECT_EQ(cli("run " + quickstart() + " --quiet --threads 1 --out " + out).exit_code, 0);
  std::filesystem::remove_all(dir);
}

// ---- 4. Sizes that cannot fit --------------------------------------------------------------------

TEST(Hostile, RunsThatCannotFitInMemoryFailCheckNamingTheKey) {
  if (sanitized_build()) GTEST_SKIP() << "ulimit -v and AddressSanitizer do not mix";
  auto capped = [](const std::string& args) {
    return run_command("bash -c 'ulimit -v 4000000; exec timeout 60 " + stagesim_binary() +
                       " check " + args + "'");
  };
  auto r = capped(quickstart() + " --set experiment.replications=1000000000");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // was: exit 1, std::bad_alloc after 47 s
  EXPECT_HAS(r.output, "--set experiment.replications=1000000000: key 'experiment.replications'");
  EXPECT_HAS(r.output, "TB of memory");
  EXPECT_HAS(r.output, "available");
  r = capped(quickstart() + " --set world.items=10000000 --set world.dim=1000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "key 'world'");
  EXPECT_HAS(r.output, "10000000 items × 1000 features");
  EXPECT_EQ(lines(r.output), 1) << r.output;
  // What fits is not refused.
  EXPECT_EQ(capped(quickstart()).exit_code, 0);
  // run refuses too, with a thread count that does not fit.
  r = run_command("bash -c 'ulimit -v 4000000; exec " + stagesim_binary() + " run " +
                  quickstart() + " --set world.items=100000 --set world.dim=1000 --threads 16'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "--threads 16");
}

TEST(Hostile, CheckDoesNotAllocatePerTask) {
  // A billion replications of a tiny experiment: check answers at once (it used to build a unit
  // per task, 10 GB over 47 s). The results would need 17 TB, so it must say so.
  const auto t0 = std::chrono::steady_clock::now();
  auto r = cli("check " + quickstart() + " --set experiment.replications=1000000000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
}

// ---- 6. Contradictions found only at run time -----------------------------------------------------

TEST(Hostile, RunTimeContradictionsFailCheckWithFileAndLine) {
  // CA-PG with keep = the item count.
  std::string m = error_of(kPg, {"world.items=40", "stages.esr.keep=40", "stages.lsr.keep=1"});
  EXPECT_HAS(m, "key 'stages.esr.keep'");
  EXPECT_HAS(m, "CA-PG needs at least keep + 1 items");
  // adaptive_lr_samples beyond what the estimate can take (it wrapped to a negative int).
  m = error_of(kPg, {"stages.esr.adaptive_lr_samples=1000000000000"});
  EXPECT_HAS(m, "key 'stages.esr.adaptive_lr_samples'");
  EXPECT_HAS(m, "out of range");
  // GRPO groups without repeated users, or batches that split groups.
  m = error_of(kPg, {"stages.esr.grpo_group=8"});
  EXPECT_HAS(m, "--set stages.esr.grpo_group=8: key 'stages.esr.grpo_group'");
  EXPECT_HAS(m, "repeat_user = 8");
  m = error_of(kPg, {"stages.esr.grpo_group=8", "world.repeat_user=8", "stages.esr.update_every=60"});
  EXPECT_HAS(m, "multiple of 8");
  EXPECT_EQ(error_of(kPg, {"stages.esr.grpo_group=8", "world.repeat_user=8"}), "");
  // A pl_ranker fed another stage's output (issue 11: it ranks the whole pool).
  m = error_of(std::string(kPg) + "[stages.pre]\ntype = \"random\"\nkeep = 20\n",
               {"stages.esr.input=\"pre\""});
  EXPECT_HAS(m, "key 'stages.esr.input'");
  EXPECT_HAS(m, "whole item pool");
  // ... and the CLI reports these with exit code 2, not 1 after a run started.
  auto dir = scratch_dir("contra");
  std::string text = kPg;
  text.replace(text.find("keep = 5"), 8, "keep = 40");
  write_file(dir / "pg.toml", text);
  auto r = cli("check " + (dir / "pg.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "pg.toml:13:8: key 'stages.esr.keep'");
  std::filesystem::remove_all(dir);
}

namespace {

// A stage that fails after a few requests: the engine must name the configuration that failed,
// not the unit's first.
class Failing final : public Stage {
 public:
  void select(const Request& req, std::span<const int> c, int keep, Rng&, Decision& out) override {
    if (req.index == 7) throw std::runtime_error("boom at request 7");
    out.ids.insert(out.ids.end(), c.begin(), c.begin() + keep);
  }
  void learn(std::span<const Feedback>) override {}
};

struct NoOpts {};

}  // namespace

TEST(Hostile, AFailingTaskIsNamedByItsOwnConfiguration) {
  Registry reg = builtin_registry();
  reg.stages.push_back(make_entry<StageBuild>(
      "stage", "failing", "fails at request 7", OptionGroup<NoOpts>{}, [](const NoOpts&) {
        StageBuild b;
        b.make = [](const StageSetup&) { return std::make_unique<Failing>(); };
        b.cost = [](double, double) { return 1.0; };
        return b;
      }));
  const std::string text = R"([experiment]
horizon = 20
checkpoints = 2
[world]
type = "linear"
items = 10
dim = 2
[stages.policy]
type = "greedy"
[[variant]]
name = "fine"
[[variant]]
name = "broken"
stages.policy.type = "failing"
)";
  LoadOptions lo;
  Experiment ex = parse_experiment(text, "two.toml", lo, reg);
  auto dir = scratch_dir("failing");
  RunOptions ro;
  ro.out = (dir / "f.h5").string();
  ro.threads = 1;
  ro.progress = false;
  try {
    run_experiment(ex, ro);
    FAIL() << "the broken variant must fail";
  } catch (const TaskError& e) {
    const std::string m = e.what();
    EXPECT_HAS(m, "task 1 (variant broken) replication 0 failed: boom at request 7");
  }
  std::filesystem::remove_all(dir);
}

// ---- 7. Clocks that cannot advance ----------------------------------------------------------------

TEST(Hostile, UpdateIntervalsThatCannotAdvanceTimeFailCheck) {
  std::string m = error_of(kPg, {"stages.esr.update_interval=1e-300"});
  EXPECT_HAS(m, "key 'stages.esr.update_interval'");
  EXPECT_HAS(m, "cannot advance the clock");
  m = error_of(kPg, {"stages.esr.update_interval=1e-12"});
  EXPECT_HAS(m, "key 'stages.esr.update_interval'");
  // Tiny but advancing: billions of empty clock updates are refused too.
  m = error_of(kPg, {"stages.esr.update_interval=1e-9"});
  EXPECT_HAS(m, "clock updates");
  EXPECT_EQ(error_of(kPg, {"stages.esr.update_interval=64.0", "stages.esr.update_every=1"}), "");
}

// ---- 8. A journal cut inside its header ------------------------------------------------------------

TEST(Hostile, AFullDiskAtStartLeavesNoHalfJournal) {
  auto dir = scratch_dir("startfull");
  const std::string out = (dir / "q.h5").string();
  auto r = run_command("bash -c 'ulimit -f 0; exec " + stagesim_binary() + " run " + quickstart() +
                       " --quiet --threads 1 --out " + out + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_HAS(r.output, "no space left");
  EXPECT_FALSE(std::filesystem::exists(out + ".journal")) << "a 0-byte journal was left";
  // One left by an older version (0 bytes, or part of the header) resumes as an empty journal.
  for (const std::string& head : {std::string(), std::string("SSJOUR")}) {
    std::ofstream(out + ".journal", std::ios::binary) << head;
    r = cli("run " + quickstart() + " --quiet --threads 2 --resume --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(std::filesystem::exists(out));
    std::filesystem::remove(out);
  }
  std::filesystem::remove_all(dir);
}

// ---- 10. Keys every variant overrides ---------------------------------------------------------------

TEST(Hostile, KeysThatEveryVariantOverridesAreStillValidated) {
  for (const std::string& set :
       {std::string("stages.policy.alpha=-5"), std::string("stages.policy.type=linucbb")}) {
    auto r = cli("check " + quickstart() + " --set " + set);
    EXPECT_EQ(r.exit_code, 2) << set << ": " << r.output;
    EXPECT_HAS(r.output, "--set " + set);
    EXPECT_HAS(r.output, "before its [[variant]]s are applied");
  }
  auto r = cli("check " + table1() + " --set stages.esr.estimator=ppo");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "key 'stages.esr.estimator' = \"ppo\" is not allowed");
  // A --set that every variant overrides is a no-op: say so.
  r = cli("check " + quickstart() + " --set stages.policy.alpha=5.0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_HAS(r.output,
             "warning: --set stages.policy.alpha=5.0 has no effect: every [[variant]] overrides");
  // One that a variant does not override is silent.
  r = cli("check " + quickstart() + " --set world.noise_std=0.2");
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
}

// ---- 11-15, 17. Command-line and path mistakes ------------------------------------------------------

TEST(Hostile, NegativeSeedIsRefused) {
  auto r = cli("check " + quickstart() + " --seed -1");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // wrapped to 2^64 - 1 before
  EXPECT_HAS(r.output, "--seed -1");
  r = cli("check " + quickstart() + " --seed 9223372036854775808");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(cli("check " + quickstart() + " --seed 9223372036854775807").exit_code, 0);
}

TEST(Hostile, AJournalPathThatIsADirectoryIsAFileSystemError) {
  auto dir = scratch_dir("jdir");
  std::filesystem::create_directories(dir / "j");
  auto r = cli("run " + quickstart() + " --quiet --out " + (dir / "q.h5").string() +
                    " --journal " + (dir / "j").string());
  EXPECT_EQ(r.exit_code, 3) << r.output;  // was: internal error basic_filebuf::underflow, 1
  EXPECT_HAS(r.output, "is a directory");
  r = cli("run " + quickstart() + " --quiet --resume --out " + (dir / "q.h5").string() +
               " --journal " + (dir / "j").string());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(Hostile, AnOutputThatIsADirectoryFailsBeforeAnyWork) {
  auto dir = scratch_dir("odir");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = cli("run " + quickstart() +
                    " --quiet --set experiment.horizon=100000 --out " + dir.string());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_HAS(r.output, "--out names a directory");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_FALSE(std::filesystem::exists(dir.string() + ".journal"));
  std::filesystem::remove_all(dir);
}

TEST(Hostile, CheckOfADirectorySaysSo) {
  auto r = cli("check " + source_dir() + "/experiments");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "is a directory, not an experiment file");
}

TEST(Hostile, ThreadCountsAreBounded) {
  auto r = cli("run " + quickstart() + " --threads 10000 --quiet --out /tmp/never.h5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_HAS(r.output, "--threads 10000 exceeds");
  EXPECT_FALSE(std::filesystem::exists("/tmp/never.h5"));
}

// ---- 16. Raw input bytes in messages -----------------------------------------------------------------

TEST(Hostile, MessagesEscapeAndTruncateQuotedInput) {
  // ESC sequences and control bytes never reach the terminal.
  auto r = cli("check " + quickstart() + " --set 'stages.policy.\x1b[31mred=1'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
  EXPECT_HAS(r.output, "\\x1B[31mred");
  // A 1 MB key gives a short line.
  auto dir = scratch_dir("hygiene");
  std::string big(1 << 20, 'k');
  write_file(dir / "big.toml", "[world]\ntype = \"linear\"\n" + big + " = 1\n");
  r = cli("check " + (dir / "big.toml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_LT(r.output.size(), 4000u);
  EXPECT_EQ(lines(r.output), 1);
  EXPECT_HAS(r.output, "bytes)");
  // A NUL inside a string value does not cut the message.
  std::string nul = "[world]\ntype = \"lin\\u0000ear\"\n[stages.p]\ntype = \"greedy\"\n";
  write_file(dir / "nul.toml", nul);
  r = cli("check " + (dir / "nul.toml").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_HAS(r.output, "lin\\0ear");
  EXPECT_HAS(r.output, "registered:");  // the text after the NUL is there
  std::filesystem::remove_all(dir);
}

// ---- 18. Messages without a location, and odd hints ----------------------------------------------------

TEST(Hostile, EveryMessageNamesItsSource) {
  // A world's cross-key rule names file:line.
  std::string m = error_of(
      "[world]\ntype = \"embedding\"\nusers = 30\nitems = 40\n[stages.p]\ntype = \"late_ranker\"\n");
  EXPECT_HAS(m, "test.toml:1:1: key 'world.items_equal_users'");
  // Errors about --set values name the --set, not "<input>".
  m = error_of("[world]\ntype = \"linear\"\n[stages.p]\ntype = \"greedy\"\n",
               {"stages.p.type=linucbb"});
  EXPECT_HAS(m, "--set stages.p.type=linucbb: key 'stages.p.type'");
  EXPECT_EQ(m.find("<input>"), std::string::npos) << m;
  m = error_of("[world]\ntype = \"linear\"\n[stages.p]\ntype = \"greedy\"\n",
               {"stages.q.keep=2"});
  EXPECT_HAS(m, "--set stages.q.keep=2");
  EXPECT_EQ(m.find("<input>"), std::string::npos) << m;
  // 'variant' where it cannot be: no "did you mean 'variant'".
  m = error_of("[world]\ntype = \"linear\"\n[stages.p]\ntype = \"greedy\"\n", {"variant.x=1"});
  EXPECT_EQ(m.find("did you mean"), std::string::npos) << m;
  EXPECT_HAS(m, "'variant' cannot be set by --set");
}

// ---- 19. Signed overflow in the checkpoint steps --------------------------------------------------------

TEST(Hostile, HorizonsNearTheInt64LimitHaveCorrectCheckpoints) {
  Experiment ex = parse("[experiment]\nhorizon = 9223372036854775000\ncheckpoints = 10\n"
                        "[world]\ntype = \"linear\"\n[stages.p]\ntype = \"greedy\"\n");
  const auto& steps = ex.configs[0].checkpoint_steps;
  ASSERT_EQ(steps.size(), 10u);
  EXPECT_EQ(steps.back(), 9223372036854775000);
  EXPECT_EQ(steps[0], 922337203685477500);
  for (std::size_t i = 1; i < steps.size(); ++i) EXPECT_GT(steps[i], steps[i - 1]);
}
