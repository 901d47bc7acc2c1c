// --set overrides: each line of the input is one `--set` argument applied to a fixed experiment
// with a grid and variants (so overrides can hit axes, variants and stage tables).
#include <cstdlib>
#include <sstream>

#include "sim/experiment.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;

namespace {

const char* kBase = R"([experiment]
replications = 2
horizon = 50
checkpoints = 5
[world]
type = "linear"
items = 20
dim = 4
[stages.nominators]
type = "greedy"
replicas = 2
keep = 3
[stages.ranker]
type = "linucb"
input = "nominators"
[grid]
"world.items" = [20, 30]
[[variant]]
name = "A"
stages.ranker.alpha = 0.5
[[variant]]
name = "B"
remove = ["stages.ranker"]
stages.nominators.replicas = 1
)";

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("STAGESIM_MAX_MEMORY", "256M", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  LoadOptions lo;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(in, line) && lo.set.size() < 16;) lo.set.push_back(line);
  static const Registry reg = builtin_registry();
  fuzz::expect_only<ConfigError, IoError>([&] { parse_experiment(kBase, "base.toml", lo, reg); });
  return 0;
}
