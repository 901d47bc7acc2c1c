#pragma once
// Runs an experiment's tasks in parallel and writes the HDF5 file.
//
// Work is split into units, run longest first with OpenMP dynamic scheduling (and across MPI
// ranks); each finished unit is journaled before the worker takes the next. A unit is one task
// (configuration × replication) for an offline job, and for configurations whose world is
// replayable (WorldBuild::replayable: requests come from the world's own streams) and cheap next
// to their systems; otherwise it is all configurations that share a world configuration, for one
// replication, and the world generates each request once for all of them. Results are the same
// either way: common random numbers come from the keyed world streams, not from sharing a request.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/enum_table.hpp"
#include "sim/experiment.hpp"
#include "sim/results.hpp"

namespace stagesim {

struct Unit {
  std::size_t id = 0;
  std::vector<std::size_t> configs;  // share one world configuration
  std::size_t replication = 0;
  double cost = 0;
  std::int64_t work = 0;  // Σ requests (or a job's work) of its tasks, for progress
};

// automatic: as described above; shared: group configurations by world even when they could
// split; task: one unit per task whatever the world (every configuration draws its own copy).
enum class UnitMode { automatic, shared, task };
const EnumTable<UnitMode>& unit_modes();  // "auto", "shared", "task"

std::vector<Unit> plan_units(const Experiment& ex, UnitMode mode = UnitMode::automatic);
// plan_units(ex).size() without building them (`check` of a huge run must not allocate per task).
std::size_t count_units(const Experiment& ex, UnitMode mode = UnitMode::automatic);
// "task 3 (variant CA-PG, stages.esr.keep=5) replication 0", for messages.
std::string task_name(const Experiment& ex, std::size_t config, std::size_t rep);

// What the runner offers a unit while it runs; all optional.
struct UnitHooks {
  // Called from the running thread with work done since its last call (requests served, summed
  // over the unit's systems; a job's steps), every few thousand requests.
  std::function<void(std::int64_t)> progress;
  // Continue this one-task unit from its journaled checkpoint (whose cell is not finished).
  const TaskCheckpoint* resume = nullptr;
  // Journals a checkpoint of a one-task unit at a metric checkpoint, at most every
  // `checkpoint_interval` seconds of the task's wall time (0 = at every metric checkpoint).
  std::function<void(TaskCheckpoint&&)> save;
  double checkpoint_interval = 300;
};

// Runs one unit; the returned values use the experiment's series order (NaN for series a
// configuration does not have).
std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit, const UnitHooks& hooks);
std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit,
                                 const std::function<void(std::int64_t)>& progress = {});
// Whether a unit can journal checkpoints: one configuration on a world that is rebuilt from its
// streams and keeps no state of its own (so a resumed task replays its requests), with stages and
// metrics that implement save. Whether a given checkpoint is taken depends on what is outstanding
// then (System::save).
bool unit_checkpoints(const Experiment& ex, const Unit& unit);
// The same for a unit of an offline job (sim/job_runner.cpp); run_unit dispatches to it.
std::vector<CellResult> run_job_unit(const Experiment& ex, const Unit& unit,
                                     const std::function<void(std::int64_t)>& progress = {});

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
  UnitMode units = UnitMode::automatic;
  // Seconds between two journaled checkpoints of a long task (0 = at every metric checkpoint,
  // negative = never), so that --resume continues it midway.
  double checkpoint_interval = 300;
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
  std::size_t from_checkpoint = 0;  // tasks continued midway from a journaled checkpoint
  double checkpoint_share = 0;      // their mean completed share when continued
  double seconds = 0;
};

RunSummary run_experiment(const Experiment& ex, const RunOptions& opts);

// How check_run_options names a RunOptions field in its errors: the CLI's flag or the Python
// keyword, so one check serves both front ends.
enum class OptionSpelling { cli, python };
// Throws ConfigError naming the option and its valid range for an out-of-range thread count
// (negative, or more than 4 per core), checkpoint interval (non-finite, or negative other
// than -1) or shard (not 0 <= i < n).
void check_run_options(const RunOptions& opts, OptionSpelling spelling);

}  // namespace stagesim
