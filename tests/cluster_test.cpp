// Cluster execution: shards + merge, MPI ranks, kill + resume, and the Slurm script.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/output.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

std::string quickstart() {
  return source_dir() + "/experiments/quickstart.toml";
}

// A small two-stage system (nominators with feature subsets and pools, ranker), two variants.
const char* kTwoStage = R"(
[experiment]
name = "two_stage_small"
seed = 3
replications = 6
horizon = 300
checkpoints = 10
[world]
type = "linear"
items = 40
dim = 8
[stages.nominators]
type = "greedy"
replicas = 4
features = 4
[stages.ranker]
type = "linucb"
input = "nominators"
[grid]
"world.items" = [20, 40]
[[variant]]
name = "U+G"
[[variant]]
name = "G+U"
stages.nominators.type = "linucb"
stages.ranker.type = "greedy"
)";

void expect_same_results(const std::string& a, const std::string& b) {
  auto names = list_metrics(a);
  ASSERT_EQ(names, list_metrics(b));
  for (const std::string& n : names) {
    Dataset x = read_dataset(a, "metrics/" + n), y = read_dataset(b, "metrics/" + n);
    ASSERT_EQ(x.shape, y.shape) << n;
    EXPECT_EQ(std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)), 0)
        << n << " differs between " << a << " and " << b;
  }
  EXPECT_EQ(read_done(a), read_done(b));
}

void run_ok(const std::string& cmd) {
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
}

}  // namespace

TEST(Cluster, ShardsMergeToTheSingleRun) {
  auto dir = scratch_dir("shards");
  const std::string bin = stagesim_binary();
  write_file(dir / "two.toml", kTwoStage);
  for (const std::string& exp : {quickstart(), (dir / "two.toml").string()}) {
    const std::string ref = (dir / "ref.h5").string();
    run_ok(bin + " run " + exp + " --quiet --threads 1 --out " + ref);
    std::string parts;
    for (int i = 0; i < 3; ++i) {
      const std::string p = (dir / ("p" + std::to_string(i) + ".h5")).string();
      run_ok(bin + " run " + exp + " --quiet --shard " + std::to_string(i) + "/3 --out " + p);
      parts += " " + p;
      // A partial file marks only its own cells as done.
      auto done = read_done(p);
      EXPECT_GT(std::count(done.begin(), done.end(), 1), 0);
      EXPECT_LT(std::count(done.begin(), done.end(), 1), static_cast<long>(done.size()));
    }
    run_ok(bin + " merge " + (dir / "merged.h5").string() + parts);
    expect_same_results(ref, (dir / "merged.h5").string());
  }
  // Refusals: incomplete, overlapping, and parts of another experiment.
  const std::string p0 = (dir / "p0.h5").string(), p1 = (dir / "p1.h5").string();
  auto r = run_command(bin + " merge " + (dir / "x.h5").string() + " " + p0 + " " + p1);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("in no part"), std::string::npos) << r.output;
  r = run_command(bin + " merge " + (dir / "x.h5").string() + " " + p0 + " " + p0);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("overlap"), std::string::npos) << r.output;
  run_ok(bin + " run " + (dir / "two.toml").string() + " --quiet --seed 4 --shard 2/3 --out " +
         (dir / "other.h5").string());
  r = run_command(bin + " merge " + (dir / "x.h5").string() + " " + p0 + " " + p1 + " " +
                  (dir / "other.h5").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("different experiment"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.h5"));
  r = run_command(bin + " run " + quickstart() + " --shard 3/3 --out " + (dir / "y.h5").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("0 <= i < n"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(Cluster, SlurmScriptIsValidBashAndMerges) {
  auto dir = scratch_dir("slurm");
  auto r = run_command(stagesim_binary() + " slurm " + quickstart() +
                       " --array 4 --time 01:00:00 --set experiment.replications=8 --out " +
                       (dir / "q.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  write_file(dir / "job.sh", r.output);
  auto syntax = run_command("bash -n " + (dir / "job.sh").string());
  EXPECT_EQ(syntax.exit_code, 0) << syntax.output;
  EXPECT_NE(r.output.find("#SBATCH --array=0-3"), std::string::npos);
  EXPECT_NE(r.output.find("--shard \"$i/$SHARDS\" --resume"), std::string::npos);
  EXPECT_NE(r.output.find("merge $OUT $parts"), std::string::npos);
  EXPECT_NE(r.output.find("--dependency=afterok:${SLURM_ARRAY_JOB_ID}"), std::string::npos);
  EXPECT_NE(r.output.find("experiment.replications=8"), std::string::npos);
  // Run every array task locally as Slurm would (sbatch stubbed out), then the merge step.
  for (int i = 0; i < 4; ++i) {
    auto s = run_command(
        "bash -c 'sbatch() { :; }; export -f sbatch; SLURM_ARRAY_TASK_ID=" + std::to_string(i) +
        " SLURM_ARRAY_JOB_ID=1 bash " + (dir / "job.sh").string() + "'");
    ASSERT_EQ(s.exit_code, 0) << s.output;
  }
  std::string parts;
  for (int i = 0; i < 4; ++i)
    parts += " " + (dir / ("q.h5.part" + std::to_string(i) + ".h5")).string();
  run_ok(stagesim_binary() + " merge " + (dir / "q.h5").string() + parts);
  run_ok(stagesim_binary() + " run " + quickstart() +
         " --quiet --set experiment.replications=8 --out " + (dir / "ref.h5").string());
  expect_same_results((dir / "ref.h5").string(), (dir / "q.h5").string());
  std::filesystem::remove_all(dir);
}

// The script passes --variant on to every shard: the merged file is the subset's own run.
TEST(Cluster, SlurmScriptKeepsTheVariantSubset) {
  auto dir = scratch_dir("slurm_variants");
  const std::string single_stage = source_dir() + "/experiments/single_stage.toml";
  auto r = run_command(
      stagesim_binary() + " slurm " + single_stage +
      " --array 2 --set experiment.replications=4 --variant Greedy --variant Random --out " +
      (dir / "q.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--variant 'Greedy' --variant 'Random'"), std::string::npos) << r.output;
  write_file(dir / "job.sh", r.output);
  for (int i = 0; i < 2; ++i) {
    auto s = run_command(
        "bash -c 'sbatch() { :; }; export -f sbatch; SLURM_ARRAY_TASK_ID=" + std::to_string(i) +
        " SLURM_ARRAY_JOB_ID=1 bash " + (dir / "job.sh").string() + "'");
    ASSERT_EQ(s.exit_code, 0) << s.output;
  }
  run_ok(stagesim_binary() + " merge " + (dir / "q.h5").string() + " " +
         (dir / "q.h5.part0.h5").string() + " " + (dir / "q.h5.part1.h5").string());
  run_ok(stagesim_binary() + " run " + single_stage +
         " --quiet --set experiment.replications=4 --variant Greedy --variant Random --out " +
         (dir / "ref.h5").string());
  expect_same_results((dir / "ref.h5").string(), (dir / "q.h5").string());
  EXPECT_EQ(read_dataset((dir / "q.h5").string(), "metrics/regret").shape[0], 2u);
  std::filesystem::remove_all(dir);
}

#ifdef STAGESIM_MPI_BINARY
namespace {
std::string mpirun(int n) {
  // As root Open MPI wants explicit consent; --oversubscribe allows more ranks than cores.
  return std::string(STAGESIM_MPIRUN) + " --allow-run-as-root --oversubscribe -n " +
         std::to_string(n) + " " + STAGESIM_MPI_BINARY;
}

// Rank processes: stagesim_mpi children of mpirun (the exec'd child, or the shell's child).
std::vector<pid_t> rank_pids(pid_t launcher) {
  auto ps = run_command("for p in " + std::to_string(launcher) + " $(pgrep -P " +
                        std::to_string(launcher) + "); do pgrep -P $p -x stagesim_mpi; done");
  std::istringstream ids(ps.output);
  std::vector<pid_t> ranks;
  for (pid_t p; ids >> p;) ranks.push_back(p);
  return ranks;
}

// True while the process exists and is not a zombie.
bool process_running(pid_t p) {
  std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}
}  // namespace

TEST(Cluster, MpiRanksAreBitIdenticalToOneThread) {
  auto dir = scratch_dir("mpi");
  write_file(dir / "two.toml", kTwoStage);
  for (const std::string& exp : {quickstart(), (dir / "two.toml").string()}) {
    const std::string ref = (dir / "ref.h5").string();
    run_ok(stagesim_binary() + " run " + exp + " --quiet --threads 1 --out " + ref);
    for (int n : {2, 3}) {
      const std::string out = (dir / ("mpi" + std::to_string(n) + ".h5")).string();
      auto r = run_command(mpirun(n) + " run " + exp + " --threads 1 --out " + out);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      // Progress and the final line come from rank 0 only.
      EXPECT_EQ(r.output.find("wrote"), r.output.rfind("wrote")) << r.output;
      expect_same_results(ref, out);
      EXPECT_FALSE(std::filesystem::exists(out + ".journal"));
      EXPECT_FALSE(std::filesystem::exists(out + ".journal.1"));
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Cluster, MpiRankKilledMidwayResumes) {
  auto dir = scratch_dir("mpikill");
  const std::string sets = " --set experiment.horizon=20000 --set experiment.replications=12";
  const std::string ref = (dir / "ref.h5").string(), out = (dir / "out.h5").string();
  run_ok(stagesim_binary() + " run " + quickstart() + sets + " --quiet --threads 2 --out " + ref);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);
    std::string cmd =
        mpirun(2) + " run " + quickstart() + sets + " --quiet --threads 1 --out " + out;
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), (char*)nullptr);
    _exit(127);
  }
  // Once both ranks have journaled something, kill rank 1 only.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool killed = false;
  while (std::chrono::steady_clock::now() < deadline && !killed) {
    std::error_code e0, e1;
    auto s0 = std::filesystem::file_size(out + ".journal", e0);
    auto s1 = std::filesystem::file_size(out + ".journal.1", e1);
    if (!e0 && !e1 && s0 > 8000 && s1 > 8000) {
      const std::vector<pid_t> ranks = rank_pids(pid);
      if (ranks.size() >= 2 && ranks.back() != getpid()) {
        kill(ranks.back(), SIGKILL);
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status;
  waitpid(pid, &status, 0);
  kill(-pid, SIGKILL);  // whatever mpirun left behind
  ASSERT_TRUE(killed) << "could not catch the run midway";
  ASSERT_FALSE(std::filesystem::exists(out));
  auto r =
      run_command(mpirun(3) + " run " + quickstart() + sets + " --resume --threads 1 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from the journal"), std::string::npos);
  expect_same_results(ref, out);
  std::filesystem::remove_all(dir);
}

TEST(Cluster, MpiCheckpointsOfKilledRanksContinueElsewhere) {
  // Two CA-PG tasks on two ranks journal checkpoints; kill -9 the whole run once each rank's
  // journal holds a few, then resume in one process: rank 0 must continue rank 1's task from
  // rank 1's checkpoint, and every dataset must equal the uninterrupted run's, bit for bit.
  auto dir = scratch_dir("mpickpt");
  write_file(dir / "pg.toml", pg_checkpoint_experiment(32 * 20000, 20, 2));
  const std::string exp = (dir / "pg.toml").string();
  const std::string ref = (dir / "ref.h5").string(), out = (dir / "out.h5").string();
  run_ok(stagesim_binary() + " run " + exp + " --quiet --threads 1 --out " + ref);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);
    const std::string cmd =
        mpirun(2) + " run " + exp + " --quiet --threads 1 --checkpoint-interval 0 --out " + out;
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), (char*)nullptr);
    _exit(127);
  }
  // Each rank's journal starts with a checkpoint (a task is far longer than a metric checkpoint).
  CheckpointCounter journals[2] = {{out + ".journal"}, {out + ".journal.1"}};
  std::vector<pid_t> ranks;
  const bool killed = kill_when(
      pid, [&] { return journals[0].count() >= 2 && journals[1].count() >= 2; },
      [&] {
        // The ranks may sit in process groups of their own: kill them by pid, and the group.
        ranks = rank_pids(pid);
        for (pid_t p : ranks) kill(p, SIGKILL);
        kill(-pid, SIGKILL);
      },
      std::chrono::seconds(120));
  int status = 0;
  waitpid(pid, &status, 0);
  kill(-pid, SIGKILL);  // whatever mpirun left behind
  ASSERT_TRUE(killed) << "the run ended before both ranks had 2 checkpoints";
  // A killed rank releases the output's lock when it has exited (a zombie holds no files).
  for (pid_t p : ranks)
    for (int i = 0; i < 5000 && process_running(p); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(std::filesystem::exists(out));
  auto r = run_command(stagesim_binary() + " run " + exp +
                       " --resume --threads 1 --checkpoint-interval 0 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 continued from checkpoints at"), std::string::npos) << r.output;
  expect_same_results(ref, out);
  EXPECT_FALSE(std::filesystem::exists(out + ".journal.1"));
  std::filesystem::remove_all(dir);
}
#endif
