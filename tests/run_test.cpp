// Whole runs through the CLI: bit-identical results across thread counts, kill + resume, full
// disks and unwritable paths; and the HDF5 file read back.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "sim/output.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

// The single-stage LinUCB / Greedy / Random experiment (the quickstart before it became two-stage).
std::string quickstart() {
  return source_dir() + "/experiments/single_stage.toml";
}

// Every metric dataset of two files must be equal bit for bit.
void expect_same_results(const std::string& a, const std::string& b) {
  auto names = list_metrics(a);
  ASSERT_EQ(names, list_metrics(b));
  ASSERT_FALSE(names.empty());
  for (const std::string& n : names) {
    Dataset x = read_dataset(a, "metrics/" + n), y = read_dataset(b, "metrics/" + n);
    ASSERT_EQ(x.shape, y.shape) << n;
    ASSERT_EQ(x.values.size(), y.values.size());
    EXPECT_EQ(std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)), 0)
        << n << " differs";
  }
  for (const char* d : {"checkpoints", "tasks/horizon"}) {
    EXPECT_EQ(read_dataset(a, d).values, read_dataset(b, d).values) << d;
  }
}

std::string run(const std::string& args) {
  auto r = run_command(stagesim_binary() + " run " + args + " --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

}  // namespace

TEST(Run, QuickstartIsBitIdenticalAcrossThreadCounts) {
  auto dir = scratch_dir("threads");
  run(quickstart() + " --threads 1 --out " + (dir / "t1.h5").string());
  run(quickstart() + " --threads 2 --out " + (dir / "t2.h5").string());
  expect_same_results((dir / "t1.h5").string(), (dir / "t2.h5").string());
  // A different seed gives different numbers (the comparison above is not vacuous).
  run(quickstart() + " --threads 2 --seed 99 --out " + (dir / "s99.h5").string());
  Dataset a = read_dataset((dir / "t1.h5").string(), "metrics/regret");
  Dataset b = read_dataset((dir / "s99.h5").string(), "metrics/regret");
  EXPECT_NE(a.values, b.values);
  std::filesystem::remove_all(dir);
}

TEST(Run, OutputFileIsSelfDescribing) {
  auto dir = scratch_dir("h5");
  const std::string out = (dir / "q.h5").string();
  // LinUCB, Greedy, Random: one stage over all items.
  run(source_dir() + "/experiments/single_stage.toml --out " + out +
      " --set experiment.replications=4");
  Dataset regret = read_dataset(out, "metrics/regret");
  EXPECT_EQ(regret.shape, (std::vector<unsigned long long>{3, 4, 100}));
  // Cumulative regret is non-decreasing along checkpoints and the random system is worst.
  for (std::size_t t = 0; t < 3; ++t)
    for (std::size_t r = 0; r < 4; ++r)
      for (std::size_t p = 1; p < 100; ++p)
        EXPECT_GE(regret.values[(t * 4 + r) * 100 + p], regret.values[(t * 4 + r) * 100 + p - 1]);
  EXPECT_GT(regret.values[(2 * 4) * 100 + 99], 10 * regret.values[99]);
  Dataset cps = read_dataset(out, "checkpoints");
  EXPECT_EQ(cps.values[0], 10);
  EXPECT_EQ(cps.values[99], 1000);
  EXPECT_EQ(read_string_attribute(out, "format"), "stagesim-results-1");
  EXPECT_EQ(read_string_attribute(out, "experiment_name"), "single_stage");
  EXPECT_EQ(read_string_attribute(out, "series"), "regret\nrandom_regret\nreward");
  EXPECT_EQ(read_string_attribute(out, "grid_axes"), "");
  EXPECT_NE(read_string_attribute(out, "experiment_text").find("[[variant]]"), std::string::npos);
  EXPECT_EQ(read_string_attribute(out, "set_overrides"), "experiment.replications=4");
  EXPECT_FALSE(std::filesystem::exists(out + ".journal"));  // removed after a complete run
  std::filesystem::remove_all(dir);
}

TEST(Run, KilledRunResumesToIdenticalFile) {
  auto dir = scratch_dir("resume");
  const std::string sets = " --set experiment.horizon=20000 --set experiment.replications=12";
  const std::string ref = (dir / "ref.h5").string(), out = (dir / "out.h5").string();
  run(quickstart() + sets + " --threads 1 --out " + ref);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(stagesim_binary().c_str(), "stagesim", "run", quickstart().c_str(), "--set",
          "experiment.horizon=20000", "--set", "experiment.replications=12", "--threads", "1",
          "--quiet", "--out", out.c_str(), (char*)nullptr);
    _exit(127);
  }
  // Kill it once a few units are journaled (each record is ~7 KB after a 48-byte header).
  const auto journal = std::filesystem::path(out + ".journal");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    if (std::filesystem::file_size(journal, ec) > 20000 && !ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  ASSERT_TRUE(std::filesystem::exists(journal));
  ASSERT_FALSE(std::filesystem::exists(out));
  // Without --resume the journal is not silently overwritten.
  auto r = run_command(stagesim_binary() + " run " + quickstart() + sets + " --out " + out);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
  // A torn record at the end (as a kill during a write leaves) is cut off on resume.
  { std::ofstream(journal, std::ios::app) << "partial record"; }
  std::string log = run(quickstart() + sets + " --resume --threads 2 --out " + out);
  expect_same_results(ref, out);
  std::filesystem::remove_all(dir);
}

TEST(Run, FullDiskIsReportedAndLosesNothing) {
  auto dir = scratch_dir("full");
  const std::string out = (dir / "q.h5").string(), ref = (dir / "ref.h5").string();
  run(quickstart() + " --threads 1 --out " + ref);
  // 16 KiB file-size limit: the journal fills up after two units.
  auto r = run_command("bash -c 'ulimit -f 16; exec " + stagesim_binary() + " run " + quickstart() +
                       " --threads 1 --quiet --out " + out + "'");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("no space left"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  ASSERT_TRUE(std::filesystem::exists(out + ".journal"));
  EXPECT_LE(std::filesystem::file_size(out + ".journal"), 16u * 1024);
  run(quickstart() + " --threads 2 --resume --out " + out);
  expect_same_results(ref, out);
  std::filesystem::remove_all(dir);
}

TEST(Run, UnwritableOutputIsAClearError) {
  auto r = run_command(stagesim_binary() + " run " + quickstart() + " --out /etc/passwd/q.h5");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("/etc/passwd/q.h5"), std::string::npos) << r.output;
}

TEST(Run, JournalOfAnotherExperimentIsRefused) {
  auto dir = scratch_dir("foreign");
  const std::string out = (dir / "q.h5").string();
  // Leave a journal of a 2-replication run, then try to resume it as a 3-replication run.
  auto r = run_command("bash -c 'ulimit -f 8; exec " + stagesim_binary() + " run " + quickstart() +
                       " --threads 1 --quiet --set experiment.replications=2 --out " + out + "'");
  ASSERT_EQ(r.exit_code, 3) << r.output;
  r = run_command(stagesim_binary() + " run " + quickstart() +
                  " --resume --set experiment.replications=3 --out " + out);
  EXPECT_EQ(r.exit_code, 3) << r.output;  // a file in the way: the file-system code (README)
  EXPECT_NE(r.output.find("different experiment"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

// --variant builds only the named [[variant]]s: the same numbers as those configurations of a
// run of the whole file (streams are keyed by the resolved configuration, not its position), and
// a clear error for names the file does not have.
TEST(Run, VariantsSubsetGivesTheWholeFilesNumbers) {
  auto dir = scratch_dir("variants");
  const std::string all = (dir / "all.h5").string(), some = (dir / "some.h5").string();
  run(quickstart() + " --set experiment.replications=3 --out " + all);
  run(quickstart() + " --set experiment.replications=3 --variant Random --variant Greedy --out " +
      some);
  for (const char* series : {"regret", "reward"}) {
    Dataset a = read_dataset(all, std::string("metrics/") + series);
    Dataset s = read_dataset(some, std::string("metrics/") + series);
    ASSERT_EQ(a.shape, (std::vector<unsigned long long>{3, 3, 100}));
    ASSERT_EQ(s.shape, (std::vector<unsigned long long>{2, 3, 100}));
    // File order is kept (Greedy, Random): the subset's rows are the whole file's rows 1 and 2.
    const std::size_t row = 3 * 100;
    EXPECT_EQ(std::memcmp(s.values.data(), a.values.data() + row, 2 * row * sizeof(double)), 0)
        << series;
  }
  auto unknown = run_command(stagesim_binary() + " check " + quickstart() +
                             " --variant Greedy --variant GreeDy");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(
      unknown.output.find("has no [[variant]] named 'GreeDy'; its variants are LinUCB, Greedy, "
                          "Random"),
      std::string::npos)
      << unknown.output;
  auto empty =
      run_command(stagesim_binary() + " check " + quickstart() + " --variant Greedy --variant ''");
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("an empty name"), std::string::npos) << empty.output;
  auto listed = run_command(stagesim_binary() + " check " + quickstart() + " --variant Random");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("1 configuration (0 grid axes, 1 variant)"), std::string::npos)
      << listed.output;
  std::filesystem::remove_all(dir);
}

TEST(Run, VariantsOnAFileWithoutVariantsIsRefusedAndASubsetIsItsOwnExperiment) {
  LoadOptions lo;
  lo.variants = {"A"};
  const std::string text =
      "[experiment]\nhorizon = 100\ncheckpoints = 10\n"
      "[world]\ntype = \"linear\"\nitems = 5\ndim = 2\n"
      "[stages.policy]\ntype = \"greedy\"\nkeep = 1\n[metrics.regret]\n";
  try {
    parse_experiment(text, "plain.toml", lo, builtin_registry());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--variant: plain.toml has no [[variant]]s"),
              std::string::npos)
        << e.what();
  }
  lo.variants.clear();
  EXPECT_EQ(parse_experiment(text, "plain.toml", lo, builtin_registry()).configs.size(), 1u);
  // A subset is another experiment (its own hash), so its journal and shards never mix with
  // those of the whole file.
  LoadOptions some;
  some.variants = {"Greedy"};
  const Experiment whole = load_experiment(quickstart(), {}, builtin_registry());
  const Experiment greedy = load_experiment(quickstart(), some, builtin_registry());
  ASSERT_EQ(greedy.configs.size(), 1u);
  EXPECT_EQ(greedy.variants, std::vector<std::string>{"Greedy"});
  EXPECT_EQ(greedy.configs[0].resolved, whole.configs[1].resolved);
  EXPECT_NE(greedy.hash, whole.hash);
}
