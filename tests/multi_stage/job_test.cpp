// The multi_stage_rl job through `stagesim check/run`: its outputs and one-line errors, KuaiSim's
// metrics with a depth distribution, results independent of the thread count, and the
// statistical check of the issue — on a small world UNEX-RL-CIC beats a fixed-weight policy on
// play time per session by more than 3 standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "sim/output.hpp"
#include "../test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

const char* kSmall = R"([experiment]
name = "msrl_small"
seed = 3
replications = 2
[world]
type = "kuairand_session"
users = 60
items = 300
[job]
type = "multi_stage_rl"
pool = 60
keep = [20, 10, 6]
episodes = 2
episode_users = 6
eval_users = 10
test_users = 30
batch = 16
hidden = [16]
)";

std::string run_small(const std::filesystem::path& d, const std::string& name,
                      const std::string& sets, int threads = 1) {
  write_file(d / "small.toml", kSmall);
  const std::string out = (d / (name + ".h5")).string();
  const auto r = run_command(stagesim_binary() + " run " + (d / "small.toml").string() +
                             " --quiet --threads " + std::to_string(threads) + " --out " + out +
                             " " + sets);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return out;
}

}  // namespace

TEST(MultiStageRlJob, CheckListsKuaiSimMetricsAndRejectsMisfits) {
  const auto d = scratch_dir("msrl_check");
  write_file(d / "small.toml", kSmall);
  const std::string f = (d / "small.toml").string();
  auto r = run_command(stagesim_binary() + " check " + f);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* out : {"depth,", "depth_histogram[depth=40]", "total_reward", "average_reward",
                          "play_time", "return_day", "retention", "eval_play_time[episode=2]"})
    EXPECT_NE(r.output.find(out), std::string::npos) << out << "\n" << r.output;
  r = run_command(stagesim_binary() + " check " + f + " --set 'job.keep=[20,10,5]'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("the world's slate is 6"), std::string::npos) << r.output;
  r = run_command(stagesim_binary() + " check " + f + " --set 'job.prediction_noise=[1.0]'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("one per stage"), std::string::npos) << r.output;
  r = run_command(stagesim_binary() + " check " + f + " --set 'world.logit_offset=[1.0]'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("give 7"), std::string::npos) << r.output;
  r = run_command(stagesim_binary() + " check " + f + " --set 'job.learner=\"unex\"'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unex_cic"), std::string::npos) << r.output;
  r = run_command(stagesim_binary() + " check " + f + " --set 'world.params_file=\"nope.toml\"'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(MultiStageRlJob, EveryLearnerRunsAndThreadsDoNotChangeResults) {
  const auto d = scratch_dir("msrl_run");
  for (const char* l : {"fixed", "cem", "ddpg", "td3", "unex_ctde", "unex_cic"}) {
    const std::string sets =
        std::string("--set 'job.learner=\"") + l + "\"' --set job.cem_population=3 "
        "--set job.cem_elites=1 --set job.cem_users=3";
    const std::string a = run_small(d, std::string(l) + "_1", sets, 1);
    const Dataset depth = read_dataset(a, "metrics/depth");
    const Dataset hist = read_dataset(a, "metrics/depth_histogram");
    const Dataset play = read_dataset(a, "metrics/play_time");
    ASSERT_EQ(depth.values.size(), 2u) << l;  // [task, replication]
    for (std::size_t r = 0; r < 2; ++r) {
      EXPECT_GT(depth.values[r], 1.0) << l;
      EXPECT_GT(play.values[r], 0.0) << l;
      const double s = std::accumulate(hist.values.begin() + 40 * r,
                                       hist.values.begin() + 40 * (r + 1), 0.0);
      EXPECT_NEAR(s, 1.0, 1e-9) << l;
    }
    if (std::string(l) == "unex_cic" || std::string(l) == "cem") {
      const std::string b = run_small(d, std::string(l) + "_2", sets, 2);
      for (const std::string& n : list_metrics(a))
        EXPECT_EQ(read_dataset(a, "metrics/" + n).values, read_dataset(b, "metrics/" + n).values)
            << l << " " << n;
    }
  }
}
