// Task checkpoints (issue 11 item 3): a long task journals its stages' and metrics' state at
// metric checkpoints, and --resume continues it from the latest one with results bit-identical to
// an uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "base/state.hpp"
#include "models/optimizers.hpp"
#include "sim/journal.hpp"
#include "sim/output.hpp"
#include "sim/system.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

// Two-stage LinUCB/greedy: learned ridge state in four stages, regret and reward totals.
const char* kBandit = R"([experiment]
seed = 3
horizon = 400
checkpoints = 4
[world]
type = "linear"
items = 30
dim = 6
[stages.nominators]
type = "greedy"
replicas = 3
features = 3
[stages.ranker]
type = "linucb"
input = "nominators"
[metrics.regret]
[metrics.reward]
)";

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Runs the experiment's only unit saving at every metric checkpoint, then resumes from each saved
// checkpoint in turn: every resumed run must end with the uninterrupted run's cell, bit for bit.
std::vector<TaskCheckpoint> expect_resumes_identically(const Experiment& ex) {
  const auto units = plan_units(ex, UnitMode::task);
  EXPECT_EQ(units.size(), 1u);
  EXPECT_TRUE(unit_checkpoints(ex, units[0]));
  std::vector<TaskCheckpoint> saved;
  UnitHooks hooks;
  hooks.checkpoint_interval = 0;
  hooks.save = [&](TaskCheckpoint&& c) { saved.push_back(std::move(c)); };
  const auto ref = run_unit(ex, units[0], hooks);
  for (const TaskCheckpoint& c : saved) {
    UnitHooks resume;
    resume.resume = &c;
    std::int64_t served = 0;
    resume.progress = [&](std::int64_t w) { served += w; };
    const auto cells = run_unit(ex, units[0], resume);
    EXPECT_TRUE(same_bits(cells[0].values, ref[0].values)) << "resumed at " << c.position;
    // Only the requests after the checkpoint are served again.
    EXPECT_EQ(served, ex.configs[0].horizon - c.position) << "resumed at " << c.position;
  }
  return saved;
}

}  // namespace

TEST(Checkpoints, OptimizerStateRoundTripsBitForBit) {
  // Two Adam steps, save, two more; a fresh Adam restored from the save and given the same two
  // gradients ends at the same parameters (the moments and the step count matter: bias correction).
  RowMatrixXd p0 = RowMatrixXd::Constant(2, 3, 0.5), g = RowMatrixXd::Constant(2, 3, 0.25);
  g(1, 2) = -1.0;
  models::Adam a({0.01});
  RowMatrixXd p = p0;
  RowMatrixXd* params[] = {&p};
  const RowMatrixXd* grads[] = {&g};
  a.step(params, grads);
  a.step(params, grads);
  StateWriter w;
  a.save(w);
  RowMatrixXd q = p;
  const RowMatrixXd saved_at = p;
  a.step(params, grads);
  a.step(params, grads);
  models::Adam b({0.01});
  StateReader r(w.bytes());
  b.restore(r);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(b.steps(), 2);
  RowMatrixXd* qparams[] = {&q};
  b.step(qparams, grads);
  b.step(qparams, grads);
  EXPECT_EQ(std::memcmp(p.data(), q.data(), sizeof(double) * 6), 0);
  // A fresh optimiser (no moments, step count 0) would not: the test can fail.
  models::Adam fresh({0.01});
  RowMatrixXd f = saved_at;
  RowMatrixXd* fparams[] = {&f};
  fresh.step(fparams, grads);
  fresh.step(fparams, grads);
  EXPECT_NE(std::memcmp(p.data(), f.data(), sizeof(double) * 6), 0);
}

TEST(Checkpoints, ReaderRejectsTruncatedAndMisshapenState) {
  StateWriter w;
  w.put(RowMatrixXd(RowMatrixXd::Constant(3, 2, 1.5)));
  w.put_string("tag");
  std::vector<unsigned char> bytes = w.bytes();
  {
    StateReader r(bytes);
    RowMatrixXd m(2, 2);
    EXPECT_THROW(r.get_same_shape(m), std::runtime_error);  // 3 × 2 into a 2 × 2 parameter
  }
  bytes.resize(bytes.size() - 2);
  StateReader r(bytes);
  RowMatrixXd m;
  r.get(m);
  EXPECT_EQ(m(2, 1), 1.5);
  EXPECT_THROW(r.get_string(), std::runtime_error);
  // A huge claimed length is refused before allocating.
  StateWriter h;
  h.put<std::uint64_t>(~std::uint64_t{0} / 4);
  StateReader hr(h.bytes());
  std::vector<double> v;
  EXPECT_THROW(hr.get(v), std::runtime_error);
}

TEST(Checkpoints, BanditTaskResumesFromEveryCheckpoint) {
  const Experiment ex = parse(kBandit);
  const auto saved = expect_resumes_identically(ex);
  ASSERT_EQ(saved.size(), 3u);  // after checkpoints 1..3 (the last one is the end)
  EXPECT_EQ(saved[0].position, 100);
  EXPECT_EQ(saved[2].position, 300);
}

TEST(Checkpoints, PolicyGradientTaskResumesFromEveryCheckpoint) {
  const Experiment ex =
      parse(pg_checkpoint_experiment(32 * 40, 5));  // 40 steps, checkpoints every 8
  const auto saved = expect_resumes_identically(ex);
  // Metric checkpoints at 0, 256, …, 1280 (5 after the start): saved at the four inside, each on
  // a batch boundary (32 requests a step).
  ASSERT_EQ(saved.size(), 4u);
  for (std::size_t k = 0; k < saved.size(); ++k)
    EXPECT_EQ(saved[k].position, 256 * static_cast<std::int64_t>(k + 1));
}

TEST(Checkpoints, NoCheckpointWhileFeedbackIsOutstanding) {
  // Exponential delays: feedback is in flight at every metric checkpoint, so nothing is saved
  // (restoring without it would change the result); the run itself is unaffected.
  const Experiment ex =
      parse(kBandit, {"feedback.delay=\"exponential\"", "feedback.delay_mean=5.0"});
  const auto units = plan_units(ex, UnitMode::task);
  std::size_t saved = 0;
  UnitHooks hooks;
  hooks.checkpoint_interval = 0;
  hooks.save = [&](TaskCheckpoint&&) { ++saved; };
  const auto with = run_unit(ex, units[0], hooks);
  EXPECT_EQ(saved, 0u);
  EXPECT_TRUE(same_bits(with[0].values, run_unit(ex, units[0])[0].values));
}

TEST(Checkpoints, DamagedOrForeignStateIsNotSilentlyUsed) {
  const Experiment ex = parse(kBandit);
  const auto units = plan_units(ex, UnitMode::task);
  std::vector<TaskCheckpoint> saved;
  UnitHooks hooks;
  hooks.checkpoint_interval = 0;
  hooks.save = [&](TaskCheckpoint&& c) { saved.push_back(std::move(c)); };
  const auto ref = run_unit(ex, units[0], hooks);
  ASSERT_FALSE(saved.empty());
  // Cut short: an error, never wrong numbers.
  TaskCheckpoint cut = saved[1];
  cut.state.resize(cut.state.size() / 2);
  UnitHooks resume;
  resume.resume = &cut;
  EXPECT_THROW(run_unit(ex, units[0], resume), std::runtime_error);
  // Written by another build (its tag differs): ignored, the task runs from zero, same result.
  TaskCheckpoint foreign = saved[1];
  foreign.state[sizeof(std::uint64_t)] ^= 0x20;  // first character of the build tag
  resume.resume = &foreign;
  std::int64_t served = 0;
  resume.progress = [&](std::int64_t w) { served += w; };
  EXPECT_TRUE(same_bits(run_unit(ex, units[0], resume)[0].values, ref[0].values));
  EXPECT_EQ(served, ex.configs[0].horizon);
}

TEST(Checkpoints, JournalKeepsTheLatestCheckpointPerTask) {
  auto dir = scratch_dir("ckpt_journal");
  const Experiment ex = parse(kBandit, {"experiment.replications=2"});
  const std::string path = (dir / "j").string();
  Results res;
  res.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
  {
    Journal j(path, ex, false, res);
    for (std::int64_t pos : {100, 300, 200}) {
      TaskCheckpoint c;
      c.replication = 1;
      c.position = pos;
      c.values.assign(ex.cell_size, static_cast<double>(pos));
      c.state = {1, 2, 3, static_cast<unsigned char>(pos / 100)};
      j.append(c);
    }
  }
  Journal::Checkpoints cps;
  Journal::read_into(path, ex, res, &cps);
  ASSERT_EQ(cps.size(), 1u);
  const TaskCheckpoint& c = cps.at(1);  // config 0, replication 1
  EXPECT_EQ(c.position, 300);
  EXPECT_EQ(c.values.front(), 300.0);
  EXPECT_EQ(c.state.back(), 3);
  // A torn last record (killed mid-write) is dropped, the earlier ones stay.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
  cps.clear();
  Journal::read_into(path, ex, res, &cps);
  EXPECT_EQ(cps.at(1).position, 300);
  std::filesystem::remove_all(dir);
}

TEST(Checkpoints, ObsoleteCheckpointsAreCompactedAwayAndTheLatestSurvive) {
  auto dir = scratch_dir("ckpt_compact");
  const Experiment ex = parse(kBandit, {"experiment.replications=3"});
  const std::string path = (dir / "j").string();
  Results res;
  res.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
  auto checkpoint = [&](std::size_t rep, std::int64_t pos) {
    TaskCheckpoint c;
    c.replication = rep;
    c.position = pos;
    c.values.assign(ex.cell_size, static_cast<double>(pos));
    c.state.assign(4000, static_cast<unsigned char>(pos % 251));
    return c;
  };
  const std::uint64_t one = 8 + 3 * 8 + ex.cell_size * 8 + 8 + 4000 + 4;  // bytes per record
  {
    Journal j(path, ex, false, res, /*compact_above=*/3 * one);
    for (std::int64_t pos = 1; pos <= 40; ++pos) {
      j.append(checkpoint(0, pos));
      j.append(checkpoint(1, 1000 - pos));  // older positions never replace the first one
    }
    // Without compaction the file would hold 80 records; it holds the 2 live ones and at most
    // as many dead bytes as the threshold plus the live size.
    EXPECT_GT(j.compactions(), 0u);
    EXPECT_LE(std::filesystem::file_size(path), 48 + 2 * one + 3 * one + 2 * one);
    EXPECT_LE(j.dead_bytes(), 3 * one + 2 * one);
    // Task 0 finishes: its checkpoint becomes obsolete, task 1's stays.
    CellResult done;
    done.replication = 0;
    done.values.assign(ex.cell_size, 7.0);
    j.append(std::vector<CellResult>{done});
    j.append(checkpoint(2, 5));
  }
  Journal::Checkpoints cps;
  Results seen;
  seen.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
  Journal::read_into(path, ex, seen, &cps);
  EXPECT_EQ(seen.cell(0, 0).front(), 7.0);
  ASSERT_EQ(cps.count(1), 1u);
  EXPECT_EQ(cps.at(1).position, 999);
  EXPECT_EQ(cps.at(1).state.front(), 999 % 251);
  EXPECT_EQ(cps.at(2).position, 5);
  // Resuming with a threshold of 0 compacts at once: only live records remain, and they read
  // back the same.
  {
    Results again;
    again.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
    Journal j(path, ex, true, again, /*compact_above=*/0);
    EXPECT_EQ(j.dead_bytes(), 0u);
    EXPECT_EQ(again.cell(0, 0).front(), 7.0);
  }
  const std::uint64_t cells_record = 8 + 4 + 16 + ex.cell_size * 8 + 4;
  EXPECT_EQ(std::filesystem::file_size(path), 48 + cells_record + 2 * one);
  cps.clear();
  Journal::read_into(path, ex, seen, &cps);
  EXPECT_EQ(cps.size(), 2u);
  EXPECT_EQ(cps.at(1).position, 999);
  EXPECT_EQ(cps.at(2).position, 5);
  std::filesystem::remove_all(dir);
}

TEST(Checkpoints, KilledAtSixtyPercentResumesToIdenticalDatasets) {
  // The CLI end to end: a CA-PG task journals a checkpoint at each of its 20 metric checkpoints;
  // kill -9 once 12 are on disk, --resume, and compare every dataset with an uninterrupted run.
  auto dir = scratch_dir("ckpt_kill");
  const int P = 20;
  write_file(dir / "pg.toml", pg_checkpoint_experiment(32 * 2000, P));
  const std::string bin = stagesim_binary();
  const std::string ref = (dir / "ref.h5").string(), out = (dir / "out.h5").string();
  auto r = run_command(bin + " run " + (dir / "pg.toml").string() + " --quiet --out " + ref);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string file = (dir / "pg.toml").string();
    execl(bin.c_str(), bin.c_str(), "run", file.c_str(), "--quiet", "--threads", "1",
          "--checkpoint-interval", "0", "--out", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  CheckpointCounter journal{out + ".journal"};
  const bool killed = kill_when(
      pid, [&] { return journal.count() >= static_cast<std::uintmax_t>(0.6 * P); },
      [&] { ::kill(pid, SIGKILL); }, std::chrono::seconds(60));
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(killed) << "the run ended before 60 % (" << journal.count() << " checkpoints)";
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_FALSE(std::filesystem::exists(out));

  r = run_command(bin + " run " + (dir / "pg.toml").string() +
                  " --resume --threads 1 --checkpoint-interval 0 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 continued from checkpoints at"), std::string::npos) << r.output;
  auto names = list_metrics(ref);
  ASSERT_EQ(names, list_metrics(out));
  ASSERT_FALSE(names.empty());
  for (const std::string& n : names) {
    Dataset x = read_dataset(ref, "metrics/" + n), y = read_dataset(out, "metrics/" + n);
    ASSERT_EQ(x.shape, y.shape) << n;
    EXPECT_TRUE(same_bits(x.values, y.values)) << n;
  }
  std::filesystem::remove_all(dir);
}
