#pragma once
// A metric observes what the pipeline did for each request and writes one value per series at
// every checkpoint.
#include <span>
#include <string>
#include <vector>

#include "base/state.hpp"
#include "sim/decision.hpp"
#include "sim/random.hpp"
#include "sim/request.hpp"
#include "sim/world.hpp"

namespace stagesim {

struct SeriesInfo {
  std::string name;  // dataset name under /metrics
  std::string units;
  std::string description;
};

// A long-format table a metric produces per (task, replication), e.g. the stage log: columns of
// one row count, written to /tables/<name>/<column> with `task` and `replication` columns added
// (see sim/output.hpp).
struct ColumnInfo {
  std::string name;
  std::string units;
  std::string description;
  std::size_t width = 1;  // values per row (> 1: a [rows, width] dataset, e.g. one per stage)
  bool integer = false;   // written as int64 (ids, positions); float64 otherwise
  std::vector<std::string> labels;  // optional names of the width entries (e.g. stage names)
};
struct TableInfo {
  std::string name;
  std::string description;
  std::vector<ColumnInfo> columns;
};
// Rows of one table: columns[c] holds rows × width(c) values, row-major (integers as doubles).
struct TableData {
  std::size_t rows = 0;
  std::vector<std::vector<double>> columns;
};

// What the pipeline did with one request. Levels are the pipeline's layers from the item pool to
// the user; level_outputs[l] is the union of what that layer's stages passed on (the last one is
// the served slate).
struct Trace {
  const Request* request = nullptr;
  std::span<const std::vector<int>> level_outputs;
  std::span<const std::string> level_names;
  std::span<const int> served;
  std::span<const double> rewards;  // the primary objective per served position
  // Every objective per served position, row-major [position × objective].
  std::span<const double> outcomes;
  std::span<const std::string> objectives;
  // Every stage instance's candidates and decision, in pipeline (topological) order.
  std::span<const StageView> stages;
  // Session events the world reported for this request (stateful session worlds).
  std::span<const World::SessionEvent> events;
};

struct MetricSetup {
  std::vector<std::string> level_names;  // pipeline layers, item pool side first
  int slate = 1;                         // positions served per request
  // Per stage entry: its name and the statistics it reports (StageBuild::stats).
  std::vector<std::pair<std::string, std::vector<std::string>>> stage_stats;
  std::vector<std::string> objectives = {"reward"};  // the world's, primary first
  std::vector<int> stage_keep;                       // per stage entry: its keep
  std::vector<std::string> stage_names;              // per stage entry, pipeline order
  std::vector<int> stage_level;                      // per stage entry: its layer
  int items = 0;                                     // items in the world
};

// Policy value of the pipeline evaluated offline on fresh requests.
struct PolicyValue {
  double mean_over_positions = 0;  // mean over requests of (1/L) Σ_l r_l
  double sum_over_positions = 0;   // mean over requests of Σ_l r_l
};

// What a metric may ask of the system at a checkpoint.
class Checkpoint {
 public:
  virtual ~Checkpoint() = default;
  virtual std::size_t index() const = 0;  // 0-based checkpoint number
  // Serves `n` fresh requests (drawn from `rng`) through the pipeline in evaluation mode, without
  // learning; sampled rewards. Throws if the world cannot draw evaluation requests.
  virtual PolicyValue evaluate(int n, Rng& rng) = 0;
  // Statistic `stat` of stage entry `stage`, averaged over its replicas.
  virtual double stage_stat(std::size_t stage, std::size_t stat) const = 0;
  // Streams for evaluation draws: shared by every system on the same world and replication.
  virtual const StreamKey& world_key() const = 0;
};

// Anything that observes every served request (metrics, stage-log recorders of offline learners).
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void observe(const Trace& trace) = 0;
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::vector<SeriesInfo> series() const = 0;
  virtual void observe(const Trace& trace) = 0;
  // Writes the current value of every series (same order as series()) to out.
  virtual void record(std::span<double> out, Checkpoint& at) = 0;
  // Tables the metric writes (same order in take_tables); most metrics have none.
  virtual std::vector<TableInfo> tables() const { return {}; }
  // Moves the rows gathered over the replication out, one TableData per tables() entry.
  virtual void take_tables(std::vector<TableData>& out) {}
  // Task checkpoints, as Stage::save/restore: the metric's running totals; false = cannot save.
  virtual bool save(StateWriter&) const { return false; }
  virtual void restore(StateReader&) {}
};

}  // namespace stagesim
