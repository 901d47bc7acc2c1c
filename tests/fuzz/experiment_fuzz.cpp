// The experiment-file parser: any bytes either parse into validated configurations or give a
// ConfigError / IoError, whatever the grids, variants and component options say.
#include <cstdlib>

#include "sim/experiment.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;

namespace {

// Everything stagesim ships, minus the worlds that read dataset files by path (they would read
// whatever files the input names; their readers have fuzz targets of their own).
const Registry& registry() {
  static const Registry reg = [] {
    Registry r = builtin_registry();
    std::erase_if(r.worlds, [](const WorldEntry& w) {
      return w.type == "tabular" || w.type == "kuairec";
    });
    return r;
  }();
  return reg;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Worlds that build tables at parse time plan with this much memory (libFuzzer's limit is 2 GB).
  setenv("STAGESIM_MAX_MEMORY", "256M", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only<ConfigError, IoError>([&] {
    LoadOptions lo;
    lo.data_dir = "/nonexistent-stagesim-fuzz";
    parse_experiment(text, "fuzz.toml", lo, registry());
  });
  return 0;
}
