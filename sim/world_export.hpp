#pragma once
// `stagesim export-world`: writes a world's fixed expected-reward table (and σ table, if it has
// one) to HDF5 in the tabular-world format (datasets `q`, `sigma`; datasets.md §3), so the very
// same world can be loaded by `type = "tabular"`, by another simulator, or from Python.
#include <cstdint>
#include <string>

#include "sim/experiment.hpp"

namespace stagesim {

struct ExportedWorld {
  std::int64_t users = 0;
  std::int64_t items = 0;
  bool sigma = false;
};

// Builds the world of configuration `task` for replication `replication` (the same streams a run
// uses) and writes its tables to `out` atomically (temporary file, then rename). ConfigError when
// the task or replication is out of range or the world has no fixed table; IoError when `out`
// cannot be written.
ExportedWorld export_world(const Experiment& ex, std::size_t task, std::int64_t replication,
                           const std::string& out);

}  // namespace stagesim
