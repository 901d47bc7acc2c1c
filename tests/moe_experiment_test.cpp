// `stagesim moe`: the offline Fig. 5 experiment through the CLI on a small synthetic data set.
#include <gtest/gtest.h>

#include <cstring>

#include "sim/output.hpp"
#include "test_util.hpp"

using namespace stagesim;
using namespace stagesim::test;

namespace {

const char* kSmallFig5 = R"([experiment]
seed = 5
replications = 2
[world]
type = "multilabel_bandit"
source = "synthetic"
products = 3000
dim = 40
feature_dims = 40
items = 100
[moe]
test_users = 1000
max_epochs = 3
[grid]
experts = [4]
item_dim = [5]
per_item = [50]
subset = [10, 40]
)";

}  // namespace

TEST(MoeExperiment, RunsTheGridAndIsIndependentOfThreads) {
  auto dir = scratch_dir("moe");
  write_file(dir / "f5.toml", kSmallFig5);
  const std::string a = (dir / "a.h5").string(), b = (dir / "b.h5").string();
  auto r = run_command(stagesim_binary() + " moe " + (dir / "f5.toml").string() +
                       " --quiet --threads 1 --out " + a);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(stagesim_binary() + " moe " + (dir / "f5.toml").string() +
                  " --quiet --threads 2 --out " + b);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Dataset grid = read_dataset(a, "grid");
  EXPECT_EQ(grid.shape, (std::vector<unsigned long long>{2, 4}));
  EXPECT_EQ(grid.values, (std::vector<double>{4, 5, 50, 10, 4, 5, 50, 40}));
  for (const char* m : {"P_moe", "R_moe", "P_random", "R_random"}) {
    Dataset x = read_dataset(a, m), y = read_dataset(b, m);
    EXPECT_EQ(x.shape, (std::vector<unsigned long long>{2, 2})) << m;
    for (double v : x.values) EXPECT_TRUE(v > 0 && v <= 1) << m << " " << v;
    EXPECT_EQ(std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)), 0)
        << m << " differs between 1 and 2 threads";
  }
  // Replications use different seeds.
  Dataset p = read_dataset(a, "P_moe");
  EXPECT_NE(p.values[0], p.values[1]);
  std::filesystem::remove_all(dir);
}

TEST(MoeExperiment, BadGridIsAClearError) {
  auto dir = scratch_dir("moebad");
  std::string text = kSmallFig5;
  text.replace(text.find("subset = [10, 40]"), 17, "subset = [10, 80]");
  write_file(dir / "f5.toml", text);
  auto r = run_command(stagesim_binary() + " moe " + (dir / "f5.toml").string() + " --out " +
                       (dir / "x.h5").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("'grid.subset'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("40 feature columns"), std::string::npos) << r.output;
  text = kSmallFig5;
  text.replace(text.find("[moe]"), 5, "[moe]\nsigmaa = 1");
  write_file(dir / "f5.toml", text);
  r = run_command(stagesim_binary() + " moe " + (dir / "f5.toml").string() + " --out " +
                  (dir / "x.h5").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'sigma'"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}
