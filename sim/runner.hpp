#pragma once
// Runs an experiment's tasks in parallel and writes the HDF5 file.
//
// Work is split into units: all configurations that share a world configuration, for one
// replication (offline jobs: one configuration and replication). A unit generates each request once
// and serves it to every system in it (common random numbers at the cost of one world). Units run
// longest first with OpenMP dynamic scheduling; each finished unit is journaled before the worker
// takes the next.
#include <stdexcept>
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
// plan_units(ex).size() without building them (`check` of a huge run must not allocate per task).
std::size_t count_units(const Experiment& ex);

// Runs one unit; the returned values use the experiment's series order (NaN for series a
// configuration does not have).
std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit);
// The same for a unit of an offline job (sim/job_runner.cpp); run_unit dispatches to it.
std::vector<CellResult> run_job_unit(const Experiment& ex, const Unit& unit);

class Cluster;

struct RunOptions {
  std::string out;
  std::string journal;  // default: out + ".journal" (rank r > 0 of an MPI run: + "." + r)
  int threads = 0;      // 0 = OpenMP default
  bool resume = false;  // continue from the journal(s); starts fresh when there are none
  bool progress = true;
  int shard_index = 0;  // --shard i/n: run every n-th unit (by cost) starting at i, write a partial
  int shard_count = 1;  //   file that `stagesim merge` combines
  Cluster* cluster = nullptr;  // MPI ranks; nullptr = this process alone
};

// A failure inside run_unit, naming the configuration whose system failed (a unit runs several).
class UnitError : public std::runtime_error {
 public:
  UnitError(std::size_t config, const std::string& what)
      : std::runtime_error(what), config(config) {}
  std::size_t config;
};

// A unit that failed: reported by the rank that ran it, with the task ids.
class TaskError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown on ranks other than the one that reports an error, so the error is printed once.
class ReportedElsewhere : public std::runtime_error {
 public:
  explicit ReportedElsewhere(int code)
      : std::runtime_error("reported by another rank"), code(code) {}
  int code;
};

struct RunSummary {
  std::size_t tasks = 0, skipped = 0;
  double seconds = 0;
};

RunSummary run_experiment(const Experiment& ex, const RunOptions& opts);

}  // namespace stagesim
