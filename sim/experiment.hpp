#pragma once
// Experiment files: TOML -> validated, typed configurations. A file expands into configurations
// (grid points × variants); each configuration × replication is a task. A file describes either
// a simulation ([world] + [stages.*] + [metrics.*], served request by request) or an offline job
// ([job] and optionally a [world] it uses; sim/job.hpp).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/registry.hpp"

namespace stagesim {

enum class TrainOn { all, own_pool, own_nominee };
enum class PoolMode { shared, round_robin, explicit_list };
enum class ArrivalProcess { fixed, poisson };
enum class DelayModel { none, fixed, exponential };

struct StageSpec {
  std::string name;
  std::string type;
  std::vector<std::string> inputs;  // entry names, or {"items"} for the world's item pool
  int keep = 1;
  int replicas = 1;
  PoolMode pools = PoolMode::shared;
  std::vector<std::vector<int>> explicit_pools;
  int feature_count = 0;  // 0 = all features; otherwise a random subset of this size per replica
  std::vector<std::vector<int>> explicit_features;
  TrainOn train_on = TrainOn::all;
  // What the stage trains on: weights over the world's objectives (Feedback::rewards =
  // Σ_j w_j outcome_j); empty = the primary objective alone.
  std::vector<double> objective_weights;
  int update_every = 1;        // learn after this many feedbacks
  double update_interval = 0;  // or on a clock (time units), when > 0
  StageBuild build;
  // Selects this stage's random streams (pools, feature subsets, initialisation, tie-breaks): its
  // own structure and its upstream stages', not the learners'. A stage thus draws the same numbers
  // whatever follows it downstream or which algorithm it runs (paired comparisons).
  std::uint64_t scope = 0;
};

struct MetricSpec {
  std::string type;
  MetricBuild build;
};

struct Config {
  std::size_t index = 0;
  // Its position among all of the file's configurations (grid point × variant), the same with
  // or without --variant: what jobs that seed by position use (JobContext::task).
  std::size_t file_index = 0;
  std::string job_type;  // "" for a simulation
  JobBuild job;
  std::uint64_t job_scope = 0;  // selects the job's streams: its resolved configuration
  std::string variant;          // "" when the file has no variants
  std::vector<std::pair<std::string, std::string>> grid;  // axis -> value (TOML text)
  std::string resolved;                                   // resolved TOML, defaults filled in
  std::uint64_t world_scope = 0;  // selects world streams: equal worlds share draws
  std::int64_t horizon = 0;
  std::vector<std::int64_t> checkpoint_steps;  // request counts at which metrics are recorded
  ArrivalProcess arrivals = ArrivalProcess::fixed;
  double rate = 1.0;
  DelayModel delay = DelayModel::none;
  double delay_mean = 0.0;
  std::string world_type;
  WorldBuild world;
  std::vector<StageSpec> stages;  // topological order, item pool side first
  std::vector<int> stage_level;   // layer index of each stage
  std::vector<std::string> level_names;
  int slate = 1;  // items served per request (keep of the last stage)
  std::vector<MetricSpec> metrics;
  std::vector<SeriesInfo> series;
  std::vector<TableInfo> tables;
  double cost = 0;                   // estimated flops for one replication
  double eval_cost_per_request = 0;  // estimated flops of one evaluation request (the stages')
  double bytes = 0;  // estimated memory of its system (stages, metrics) in one replication

  bool is_job() const { return !job_type.empty(); }
  // Progress units of one replication: requests, or the job's own work.
  std::int64_t work() const { return is_job() ? job.work : horizon; }
};

// A job output's dataset, /metrics/<name> [task, replication, shape...], and where its values
// sit in a task's cell (journal records, Results::cells).
struct ResultArray {
  std::string name, units, description;
  std::vector<std::string> axes;   // trailing dimensions, outermost first
  std::vector<std::size_t> shape;  // their extents: the largest over configurations (rest NaN)
  std::size_t offset = 0;
  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

struct Experiment {
  std::string path;
  std::string text;  // the experiment file as given
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  std::int64_t replications = 1;
  std::int64_t checkpoints = 1;
  std::vector<std::string> set_overrides;   // --set arguments, recorded in the output
  std::vector<std::string> variant_filter;  // --variant names as given (empty = all), recorded too
  std::vector<std::string> grid_axes;
  std::vector<std::string> variants;
  std::vector<Config> configs;
  std::vector<SeriesInfo> series;  // union over configs, in first-seen order
  // Tables: union over configs by name, columns by name, each column as wide as its widest use.
  std::vector<TableInfo> tables;
  std::uint64_t hash = 0;             // identity of the resolved experiment (resume / merge checks)
  std::vector<std::string> warnings;  // e.g. a --set that every variant overrides
  bool jobs = false;  // the configurations are offline jobs (no requests, stages or checkpoints)
  std::vector<ResultArray> arrays;  // jobs: the output datasets, in the order of `series`
  std::vector<JobAxis> axes;        // jobs: every axis (first-seen order; values of the longest)
  // Values per task cell: series × checkpoints (simulations), Σ arrays[i].size() (jobs).
  std::size_t cell_size = 0;
  // Where [experiment] keys were given ("FILE:LINE:COL"; the file when not given), for messages
  // about the run's size.
  std::map<std::string, std::string> key_sources;

  std::size_t task_count() const { return configs.size() * static_cast<std::size_t>(replications); }
  const ResultArray* array(const std::string& name) const {
    for (const ResultArray& a : arrays)
      if (a.name == name) return &a;
    return nullptr;
  }
};

struct LoadOptions {
  std::vector<std::string> set;  // "key.path=value" overrides
  std::optional<std::uint64_t> seed;
  std::string data_dir;  // --data-dir: base directory for relative dataset paths
  // --variant (repeatable): the [[variant]]s to build, by name (empty = all). The others are
  // skipped, so the experiment is the file's configurations of those variants only; their streams,
  // keyed by the resolved configuration, are the same as in a run of the whole file.
  std::vector<std::string> variants;
};

// The engine's own option groups ([experiment], [arrivals], [feedback], stage structure), for
// `stagesim list`.
std::vector<std::pair<std::string, std::vector<ParamInfo>>> engine_option_info();

// Parses and validates; throws ConfigError with a one-line message naming file:line and key path.
Experiment load_experiment(const std::string& path, const LoadOptions& opts, const Registry& reg);
Experiment parse_experiment(const std::string& text, const std::string& path,
                            const LoadOptions& opts, const Registry& reg);

}  // namespace stagesim
