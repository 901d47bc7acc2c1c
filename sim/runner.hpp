#pragma once
// Runs an experiment's tasks in parallel and writes the HDF5 file.
//
// Work is split into units: all configurations that share a world configuration, for one
// replication. A unit generates each request once and serves it to every system in it (common
// random numbers at the cost of one world). Units run longest first with OpenMP dynamic scheduling;
// each finished unit is journaled before the worker takes the next.
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/results.hpp"

namespace stagesim {

struct Unit {
  std::size_t id = 0;
  std::vector<std::size_t> configs;  // share one world configuration
  std::size_t replication = 0;
  double cost = 0;
};

std::vector<Unit> plan_units(const Experiment& ex);

// Runs one unit; the returned values use the experiment's series order (NaN for series a
// configuration does not have).
std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit);

struct RunOptions {
  std::string out;
  std::string journal;  // default: out + ".journal"
  int threads = 0;      // 0 = OpenMP default
  bool resume = false;
  bool progress = true;
};

struct RunSummary {
  std::size_t tasks = 0, skipped = 0;
  double seconds = 0;
};

RunSummary run_experiment(const Experiment& ex, const RunOptions& opts);

}  // namespace stagesim
