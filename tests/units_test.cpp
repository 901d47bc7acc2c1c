// Work units (issue 11 item 3): a replayable world lets every task be its own unit, with results
// bit-identical to units that share one world among configurations (common random numbers come
// from the keyed world streams, not from sharing a request); progress counts requests; `check`
// and `slurm` warn when an array or a time limit does not fit the units.
#include <gtest/gtest.h>

#include <cstring>

#include "sim/output.hpp"
#include "sim/plan.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

// Table 1 (4 estimators × 3 K × 10 replications = 120 tasks) in a short mode: 20 gradient steps
// of 128 requests on a 200 × 200 world.
std::string table1_short() {
  return " " + source_dir() +
         "/experiments/early_stage_pg/table1.toml --set experiment.horizon=2560 "
         "--set experiment.checkpoints=4 --set world.users=200 --set world.items=200 "
         "--set metrics.policy_value.requests=100";
}

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
}

}  // namespace

TEST(Units, Table1IsOneUnitPerTaskWithIdenticalResults) {
  auto dir = scratch_dir("units_t1");
  const std::string bin = stagesim_binary();
  auto r = run_command(bin + " check" + table1_short());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("= 120 tasks in 120 units"), std::string::npos) << r.output;
  r = run_command(bin + " check" + table1_short() + " --units shared");
  EXPECT_NE(r.output.find("= 120 tasks in 10 units"), std::string::npos) << r.output;

  const std::string fine = (dir / "fine.h5").string(), coarse = (dir / "coarse.h5").string();
  r = run_command(bin + " run" + table1_short() + " --threads 2 --out " + fine);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Progress counts requests: 120 tasks × 2560.
  EXPECT_NE(r.output.find("requests 307200/307200 (100%)"), std::string::npos) << r.output;
  r = run_command(bin + " run" + table1_short() + " --quiet --threads 2 --units shared --out " +
                  coarse);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_results(fine, coarse);
  std::filesystem::remove_all(dir);
}

TEST(Units, TaskModeSplitsWorldsThatAutoKeepsShared) {
  // The single-stage file: three systems on one linear world whose requests cost more to draw
  // than a tenth of the cheap systems, so auto keeps them together; task splits them, with the
  // same numbers.
  auto dir = scratch_dir("units_qs");
  const std::string bin = stagesim_binary();
  const std::string exp =
      source_dir() + "/experiments/single_stage.toml --set experiment.replications=3";
  Registry reg = builtin_registry();
  LoadOptions lo;
  lo.set = {"experiment.replications=3"};
  Experiment ex = load_experiment(source_dir() + "/experiments/single_stage.toml", lo, reg);
  const std::size_t shared = count_units(ex, UnitMode::shared);
  EXPECT_EQ(count_units(ex, UnitMode::task), ex.task_count());
  EXPECT_LT(shared, ex.task_count());
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  auto r = run_command(bin + " run " + exp + " --quiet --units shared --out " + a);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(bin + " run " + exp + " --quiet --units task --threads 2 --out " + b);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_results(a, b);
  r = run_command(bin + " run " + exp + " --quiet --units fine --out " + a);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--units fine: expected auto"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(Units, CheckAndSlurmWarnWhenTheClusterSettingsDoNotFit) {
  const std::string bin = stagesim_binary();
  const std::string t1 = " " + source_dir() + "/experiments/early_stage_pg/table1.toml";
  auto r = run_command(bin + " check" + t1 + " --array 200 --time 00:05:00");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("work units: 120, one per task"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("warning: --array 200 exceeds the 120 work units: 80 array tasks would "
                          "have nothing to do"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("longer than --time 00:05:00"), std::string::npos) << r.output;
  // A fitting plan: no warning.
  r = run_command(bin + " check" + t1 + " --array 100 --time 7-00");
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
  r = run_command(bin + " slurm" + t1 + " --array 64 --time 00:05:00");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("longer than --time 00:05:00"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("#SBATCH"), std::string::npos) << r.output;
  r = run_command(bin + " check" + t1 + " --time 4h");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--time 4h: expected a Slurm time limit"), std::string::npos) << r.output;
}

TEST(Units, SlurmTimeLimits) {
  EXPECT_EQ(parse_slurm_time("90"), 5400.0);
  EXPECT_EQ(parse_slurm_time("10:30"), 630.0);
  EXPECT_EQ(parse_slurm_time("04:00:00"), 14400.0);
  EXPECT_EQ(parse_slurm_time("2-00"), 172800.0);
  EXPECT_EQ(parse_slurm_time("1-02:03"), 86400.0 + 7200 + 180);
  EXPECT_EQ(parse_slurm_time("1-02:03:04"), 86400.0 + 7200 + 180 + 4);
  for (const char* bad : {"", "4h", "1:2:3:4", "-1", "a-02", "10:", "1-"})
    EXPECT_FALSE(parse_slurm_time(bad).has_value()) << bad;
}
