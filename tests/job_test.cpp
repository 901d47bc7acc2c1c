// Offline jobs through the engine: the pool-learning experiment (Fig. 5) on a small synthetic
// data set through `stagesim run` — bit-identical for any threads, shards + merge, MPI ranks and
// kill + --resume, with the same metadata as a simulation — and the result-array layout with a job
// type of the test's own.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>

#include <hdf5.h>

#include "sim/journal.hpp"
#include "sim/output.hpp"
#include "sim/registry.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

// 2 grid points × 3 replications of a small pool-learning problem (a second or two per task).
const char* kSmallFig5 = R"([experiment]
name = "small_fig5"
seed = 5
replications = 3
[world]
type = "multilabel_bandit"
source = "synthetic"
products = 3000
dim = 40
feature_dims = 40
items = 100
[job]
type = "pool_learning"
experts = 4
item_dim = 5
per_item = 50
test_users = 1000
max_epochs = 3
[grid]
"job.subset" = [10, 40]
)";

const std::vector<std::string> kOutputs = {
    "P_moe",        "R_moe",      "P_random", "R_random", "validation_objective_moe",
    "learned_pool", "random_pool"};

void expect_same_results(const std::string& a, const std::string& b) {
  auto names = list_metrics(a);
  ASSERT_EQ(names, list_metrics(b));
  ASSERT_FALSE(names.empty());
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

// Names of the root attributes of an HDF5 file.
std::set<std::string> root_attributes(const std::string& path) {
  std::set<std::string> names;
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  H5Aiterate2(
      f, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* n, const H5A_info_t*, void* op) -> herr_t {
        static_cast<std::set<std::string>*>(op)->insert(n);
        return 0;
      },
      &names);
  H5Fclose(f);
  return names;
}

}  // namespace

TEST(Jobs, PoolLearningRunsThroughTheEngineIndependentOfThreads) {
  auto dir = scratch_dir("job_threads");
  write_file(dir / "f5.toml", kSmallFig5);
  const std::string exp = (dir / "f5.toml").string();
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  run_ok(stagesim_binary() + " run " + exp + " --quiet --threads 1 --out " + a);
  run_ok(stagesim_binary() + " run " + exp + " --quiet --threads 2 --out " + b);
  expect_same_results(a, b);
  // Shapes: scalars [task, replication], curves [.., epoch], assignments [.., item].
  EXPECT_EQ(read_dataset(a, "metrics/P_moe").shape, (std::vector<unsigned long long>{2, 3}));
  EXPECT_EQ(read_dataset(a, "metrics/validation_objective_moe").shape,
            (std::vector<unsigned long long>{2, 3, 3}));
  EXPECT_EQ(read_dataset(a, "metrics/learned_pool").shape,
            (std::vector<unsigned long long>{2, 3, 100}));
  EXPECT_EQ(read_dataset(a, "axes/epoch").values, (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(read_dataset(a, "tasks/grid/job.subset").values, (std::vector<double>{10, 40}));
  for (const char* m : {"P_moe", "R_moe", "P_random", "R_random"})
    for (double v : read_dataset(a, std::string("metrics/") + m).values)
      EXPECT_TRUE(v > 0 && v <= 1) << m << " " << v;
  // Pools are expert ids; the random deal covers every expert.
  Dataset pools = read_dataset(a, "metrics/random_pool");
  std::set<double> experts(pools.values.begin(), pools.values.begin() + 100);
  EXPECT_EQ(experts, (std::set<double>{0, 1, 2, 3}));
  // Replications use different streams.
  Dataset p = read_dataset(a, "metrics/P_moe");
  EXPECT_NE(p.values[0], p.values[1]);
  // The same metadata as a simulation's file, plus the job's own.
  run_ok(stagesim_binary() + " run " + source_dir() + "/experiments/single_stage.toml --quiet " +
         "--set experiment.replications=2 --out " + (dir / "q.h5").string());
  EXPECT_EQ(root_attributes(a), root_attributes((dir / "q.h5").string()));
  EXPECT_EQ(read_string_attribute(a, "kind"), "job");
  EXPECT_EQ(read_string_attribute((dir / "q.h5").string(), "kind"), "simulation");
  EXPECT_EQ(read_string_attribute(a, "experiment_name"), "small_fig5");
  EXPECT_EQ(read_u64_attribute(a, "master_seed"), 5u);
  const auto resolved = read_string_dataset(a, "tasks/resolved");
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_NE(resolved[0].find("subset = 10"), std::string::npos) << resolved[0];
  EXPECT_NE(resolved[0].find("patience = 3"), std::string::npos) << resolved[0];  // defaults too
  EXPECT_EQ(read_string_dataset(a, "tasks/job"),
            (std::vector<std::string>{"pool_learning", "pool_learning"}));
  std::filesystem::remove_all(dir);
}

TEST(Jobs, PoolLearningShardsMergeAndResume) {
  auto dir = scratch_dir("job_shards");
  write_file(dir / "f5.toml", kSmallFig5);
  const std::string exp = (dir / "f5.toml").string(), bin = stagesim_binary();
  const std::string ref = (dir / "ref.h5").string();
  run_ok(bin + " run " + exp + " --quiet --threads 2 --out " + ref);
  // Shards 0/2 + 1/2, merged.
  for (int i = 0; i < 2; ++i)
    run_ok(bin + " run " + exp + " --quiet --shard " + std::to_string(i) + "/2 --out " +
           (dir / ("p" + std::to_string(i) + ".h5")).string());
  run_ok(bin + " merge " + (dir / "m.h5").string() + " " + (dir / "p0.h5").string() + " " +
         (dir / "p1.h5").string());
  expect_same_results(ref, (dir / "m.h5").string());
  // kill -9 once some tasks are journaled, then --resume.
  const std::string out = (dir / "out.h5").string();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(bin.c_str(), "stagesim", "run", exp.c_str(), "--threads", "1", "--quiet", "--out",
          out.c_str(), (char*)nullptr);
    _exit(127);
  }
  Experiment ex = load_experiment(exp, {}, builtin_registry());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::size_t records = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    Results seen;
    seen.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
    try {
      records = Journal::read_into(out + ".journal", ex, seen);
    } catch (const std::exception&) {
      records = 0;  // not written yet
    }
    if (records >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  ASSERT_GE(records, 2u);
  ASSERT_FALSE(std::filesystem::exists(out));
  auto r = run_command(bin + " run " + exp + " --resume --threads 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from the journal"), std::string::npos) << r.output;
  expect_same_results(ref, out);
#ifdef STAGESIM_MPI_BINARY
  const std::string mpi = (dir / "mpi.h5").string();
  run_ok(std::string(STAGESIM_MPIRUN) + " --allow-run-as-root --oversubscribe -n 2 " +
         STAGESIM_MPI_BINARY + " run " + exp + " --quiet --threads 1 --out " + mpi);
  expect_same_results(ref, mpi);
#endif
  std::filesystem::remove_all(dir);
}

TEST(Jobs, CheckValidatesAndEstimates) {
  auto dir = scratch_dir("job_check");
  write_file(dir / "f5.toml", kSmallFig5);
  auto r = run_command(stagesim_binary() + " check " + (dir / "f5.toml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 configurations (1 grid axis, 1 variant) x 3 replications = 6 tasks "
                          "in 6 units"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("job pool_learning: outputs P_moe, P_moe_se"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("learned_pool[item=100]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("estimated cost"), std::string::npos) << r.output;
  // The shipped experiment checks too (144 grid points).
  r = run_command(stagesim_binary() + " check " + source_dir() +
                  "/experiments/two_stage/fig5.toml");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("= 144 tasks in 144 units"), std::string::npos) << r.output;
  // Errors at check time, exit 2, naming the key.
  auto expect_error = [&](const std::string& from, const std::string& to, const std::string& msg) {
    std::string text = kSmallFig5;
    ASSERT_NE(text.find(from), std::string::npos) << from;
    text.replace(text.find(from), from.size(), to);
    write_file(dir / "bad.toml", text);
    auto e = run_command(stagesim_binary() + " check " + (dir / "bad.toml").string());
    EXPECT_EQ(e.exit_code, 2) << e.output;
    EXPECT_NE(e.output.find(msg), std::string::npos) << e.output;
  };
  expect_error("\"job.subset\" = [10, 40]", "\"job.subset\" = [10, 80]",
               "key 'job.subset' = 80 but the products have 40 feature columns");
  expect_error("max_epochs = 3", "max_epochs = 3\nsigmaa = 1", "did you mean 'sigma'");
  expect_error("type = \"pool_learning\"", "type = \"pool_learnin\"",
               "unknown job 'pool_learnin' (did you mean 'pool_learning'?)");
  expect_error("replications = 3", "replications = 3\nhorizon = 10",
               "key 'experiment.horizon' does not apply to a [job]");
  expect_error("[job]", "[stages.x]\ntype = \"random\"\n[job]",
               "'stages' does not apply to a [job]");
  expect_error("test_users = 1000", "test_users = 3000", "leaves no training products");
  std::filesystem::remove_all(dir);
}

TEST(Jobs, MoeCommandIsAnAliasOfRun) {
  auto dir = scratch_dir("job_alias");
  write_file(dir / "f5.toml", kSmallFig5);
  auto r = run_command(stagesim_binary() + " moe " + (dir / "f5.toml").string() +
                       " --quiet --set experiment.replications=1 --set job.subset=[10] --out " +
                       (dir / "a.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("`stagesim moe` is now `stagesim run`"), std::string::npos) << r.output;
  EXPECT_EQ(read_dataset((dir / "a.h5").string(), "metrics/P_moe").shape,
            (std::vector<unsigned long long>{1, 1}));
  std::filesystem::remove_all(dir);
}

TEST(Jobs, OldMoeFilesGetAPointer) {
  auto dir = scratch_dir("job_oldmoe");
  write_file(dir / "old.toml",
             "[experiment]\nseed = 5\n[moe]\nsigma = 0.3\n[grid]\nexperts = [4]\n");
  auto r = run_command(stagesim_binary() + " check " + (dir / "old.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("old.toml:3:1: [moe] is the format of the old `stagesim moe`"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("[job] type = \"pool_learning\""), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

// ---- the result-array layout, with a job type of the test's own ---------------------------------

namespace {

struct WalkOpts {
  int64_t rounds = 50;
  int64_t every = 10;
};

// A random walk recorded every `every` rounds: a series against rounds, and its end point.
class WalkJob final : public Job {
 public:
  explicit WalkJob(const WalkOpts& o) : o_(o) {}
  void run(JobContext& ctx) override {
    Rng rng = ctx.key().stream("walk");
    double x = 0;
    std::span<double> curve = ctx.output(0);
    for (int64_t round = 1; round <= o_.rounds; ++round) {
      x += static_cast<double>(rng() % 1000) / 1000.0 - 0.5;
      ctx.advance(1);
      if (round % o_.every == 0) curve[round / o_.every - 1] = x;
    }
    ctx.output(1)[0] = x;
  }

 private:
  WalkOpts o_;
};

Registry walk_registry() {
  Registry reg = builtin_registry();
  OptionGroup<WalkOpts> g;
  g.add("rounds", &WalkOpts::rounds, "rounds", at_least<int64_t>(1))
      .add("every", &WalkOpts::every, "record every", at_least<int64_t>(1));
  reg.jobs.push_back(make_entry<JobBuild>("job", "walk", "a random walk", g, [](const WalkOpts& o) {
    JobBuild b;
    b.make = [o] { return std::make_unique<WalkJob>(o); };
    b.axes = {{"round", "rounds", checkpoint_values(o.rounds, o.rounds / o.every)}};
    b.outputs = {{"position", "steps", "position at each recording", {"round"}},
                 {"final", "steps", "final position", {}}};
    b.work = o.rounds;
    return b;
  }));
  return reg;
}

}  // namespace

TEST(Jobs, AxesMayChangeLengthAcrossTheGrid) {
  auto dir = scratch_dir("job_axes");
  Registry reg = walk_registry();
  const std::string text = R"([experiment]
replications = 2
[job]
type = "walk"
[grid]
"job.rounds" = [50, 80]
)";
  Experiment ex = parse_experiment(text, "walk.toml", LoadOptions{}, reg);
  // Shapes differ per task (5 and 8 recordings): one dataset, NaN past a task's own extent.
  ASSERT_EQ(ex.array("position")->shape, (std::vector<std::size_t>{8}));
  EXPECT_EQ(ex.cell_size, 9u);
  RunOptions ro;
  ro.progress = false;
  ro.threads = 2;
  ro.out = (dir / "ref.h5").string();
  run_experiment(ex, ro);
  Dataset pos = read_dataset(ro.out, "metrics/position");
  ASSERT_EQ(pos.shape, (std::vector<unsigned long long>{2, 2, 8}));
  EXPECT_TRUE(std::isnan(pos.values[5]) && !std::isnan(pos.values[4]));  // task 0: 5 values
  EXPECT_FALSE(std::isnan(pos.values[2 * 8 + 7]));                       // task 1: 8 values
  Dataset fin = read_dataset(ro.out, "metrics/final");
  ASSERT_EQ(fin.shape, (std::vector<unsigned long long>{2, 2}));
  // The final position of task 1 equals its last recording (round 80 = 8 · 10).
  EXPECT_EQ(fin.values[2], pos.values[2 * 8 + 7]);
  Dataset axis = read_dataset(ro.out, "axes/round");
  ASSERT_EQ(axis.shape, (std::vector<unsigned long long>{2, 8}));
  EXPECT_EQ(axis.values[4], 50);
  EXPECT_TRUE(std::isnan(axis.values[5]));
  EXPECT_EQ(axis.values[8 + 7], 80);
  // Streams are keyed by the resolved configuration: task 0 of a run with only rounds = 50 draws
  // the same numbers (its first five recordings are identical).
  Experiment one = parse_experiment(text, "walk.toml", LoadOptions{{"job.rounds=[50]"}}, reg);
  ro.out = (dir / "one.h5").string();
  run_experiment(one, ro);
  Dataset p1 = read_dataset(ro.out, "metrics/position");
  for (int k = 0; k < 5; ++k) EXPECT_EQ(p1.values[k], pos.values[k]) << k;
  std::filesystem::remove_all(dir);
}

// The shared cache behind datasets and jobs' per-replication work: one load per key however many
// threads ask, different keys load at the same time (a pipeline for replication 1 does not wait
// for replication 0's), and a failed load is retried rather than kept.
TEST(DataCache, OneLoadPerKeyOtherKeysInParallelFailuresRetried) {
  DataCache cache;
  std::atomic<int> loads{0};
  std::vector<std::thread> threads;
  std::vector<int> got(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      got[t] = *cache.get<int>("same", [&] {
        ++loads;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return 7;
      });
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  for (int v : got) EXPECT_EQ(v, 7);

  // Key "a" finishes only once key "b" has started loading: with one lock held across loads
  // this would never happen (the wait times out and the test fails instead of hanging).
  std::promise<void> b_started;
  std::shared_future<void> b_seen = b_started.get_future().share();
  bool a_saw_b = false;
  std::thread a([&] {
    cache.get<int>("a", [&] {
      a_saw_b = b_seen.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
      return 1;
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::thread b([&] {
    cache.get<int>("b", [&] {
      b_started.set_value();
      return 2;
    });
  });
  a.join();
  b.join();
  EXPECT_TRUE(a_saw_b);

  EXPECT_THROW(cache.get<int>("bad", []() -> int { throw std::runtime_error("disk full"); }),
               std::runtime_error);
  EXPECT_EQ(*cache.get<int>("bad", [] { return 3; }), 3);
  // Nested: a load may ask for another key.
  EXPECT_EQ(
      *cache.get<int>("outer", [&] { return 10 * *cache.get<int>("inner", [] { return 4; }); }),
      40);
}

// A job seeded by its configuration's position (pool learning) gives a --variant subset the
// numbers it has in the whole file: the position is the file's, not the subset's.
TEST(Job, VariantSubsetKeepsTheWholeFilesNumbers) {
  auto dir = scratch_dir("job_variants");
  write_file(dir / "v.toml", std::string(kSmallFig5) +
                                 "[[variant]]\nname = \"four\"\n"
                                 "[[variant]]\nname = \"two\"\njob.experts = 2\n");
  const std::string base = stagesim_binary() + " run " + (dir / "v.toml").string() +
                           " --quiet --set experiment.replications=1 --out ";
  run_ok(base + (dir / "all.h5").string());
  run_ok(base + (dir / "two.h5").string() + " --variant two");
  for (const std::string& n : kOutputs) {
    Dataset all = read_dataset((dir / "all.h5").string(), "metrics/" + n);
    Dataset two = read_dataset((dir / "two.h5").string(), "metrics/" + n);
    ASSERT_EQ(all.shape[0], 4u) << n;  // (subset 10, 40) × (four, two), variants fastest
    ASSERT_EQ(two.shape[0], 2u) << n;
    const std::size_t row = all.values.size() / 4;
    for (std::size_t c = 0; c < 2; ++c)
      EXPECT_EQ(std::memcmp(two.values.data() + c * row, all.values.data() + (2 * c + 1) * row,
                            row * sizeof(double)),
                0)
          << n << " config " << c;
  }
  std::filesystem::remove_all(dir);
}
