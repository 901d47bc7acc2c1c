// The table `stagesim run` ends with (sim/summary.cpp): mean ± SE per system at the last
// checkpoint, worked by hand from the written file.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/output.hpp"
#include "sim/summary.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

TEST(Summary, FormatsTheSeToTwoDigitsAndTheMeanToTheSamePlace) {
  EXPECT_EQ(format_mean_se(773.5259, 67.93), "774 ± 68");
  EXPECT_EQ(format_mean_se(11.873, 0.412), "11.87 ± 0.41");
  EXPECT_EQ(format_mean_se(2507.6359, 2.291), "2507.6 ± 2.3");
  EXPECT_EQ(format_mean_se(0.51234, 0.0123), "0.512 ± 0.012");
  EXPECT_EQ(format_mean_se(5.0, 0.0), "5 ± 0");
  EXPECT_EQ(format_mean_se(5.0, std::nan("")), "5");
  EXPECT_EQ(format_mean_se(std::nan(""), 1.0), "n/a");
}

TEST(Summary, OneLinePerSystemWithTheRandomBaseline) {
  auto dir = scratch_dir("summary");
  const std::string text = R"([experiment]
seed = 3
replications = 4
horizon = 50
checkpoints = 5
[world]
type = "linear"
items = 10
dim = 3
[stages.p]
type = "linucb"
[metrics.regret]
[grid]
"world.items" = [10, 20]
[[variant]]
name = "U"
[[variant]]
name = "G"
stages.p.type = "greedy"
)";
  Experiment ex = parse(text);
  RunOptions ro;
  ro.out = (dir / "s.h5").string();
  ro.progress = false;
  run_experiment(ex, ro);
  const std::string s = results_summary(ex, ro.out);
  EXPECT_EQ(s.find("regret at request 50, mean ± SE over 4 replications"), 0u) << s;
  Dataset d = read_dataset(ro.out, "metrics/regret");
  Dataset b = read_dataset(ro.out, "metrics/random_regret");
  for (std::size_t t = 0; t < ex.configs.size(); ++t) {
    double sum = 0, rsum = 0, ss = 0, rss = 0;
    for (std::size_t r = 0; r < 4; ++r) {
      sum += d.values[(t * 4 + r) * 5 + 4];
      rsum += b.values[(t * 4 + r) * 5 + 4];
    }
    const double m = sum / 4, rm = rsum / 4;
    for (std::size_t r = 0; r < 4; ++r) {
      ss += std::pow(d.values[(t * 4 + r) * 5 + 4] - m, 2);
      rss += std::pow(b.values[(t * 4 + r) * 5 + 4] - rm, 2);
    }
    const std::string label =
        ex.configs[t].variant + ", world.items=" + ex.configs[t].grid[0].second;
    const std::size_t at = s.find("\n  " + label + " ");
    ASSERT_NE(at, std::string::npos) << label << "\n" << s;
    const std::string line = s.substr(at + 1, s.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find(format_mean_se(m, std::sqrt(ss / 3 / 4))), std::string::npos) << line;
    EXPECT_NE(line.find("random " + format_mean_se(rm, std::sqrt(rss / 3 / 4))), std::string::npos)
        << line;
  }
  // More systems than rows: the rest is pointed to, not printed.
  const std::string cut = results_summary(ex, ro.out, 2);
  EXPECT_NE(cut.find("... and 2 more systems"), std::string::npos) << cut;
  std::filesystem::remove_all(dir);
}
