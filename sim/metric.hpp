#pragma once
// A metric observes what the pipeline did for each request and writes one value per series at
// every checkpoint.
#include <span>
#include <string>
#include <vector>

#include "sim/random.hpp"
#include "sim/request.hpp"

namespace stagesim {

struct SeriesInfo {
  std::string name;  // dataset name under /metrics
  std::string units;
  std::string description;
};

// What the pipeline did with one request. Levels are the pipeline's layers from the item pool to
// the user; level_outputs[l] is the union of what that layer's stages passed on (the last one is
// the served slate).
struct Trace {
  const Request* request = nullptr;
  std::span<const std::vector<int>> level_outputs;
  std::span<const std::string> level_names;
  std::span<const int> served;
  std::span<const double> rewards;
};

struct MetricSetup {
  std::vector<std::string> level_names;  // pipeline layers, item pool side first
  int slate = 1;                         // positions served per request
  // Per stage entry: its name and the statistics it reports (StageBuild::stats).
  std::vector<std::pair<std::string, std::vector<std::string>>> stage_stats;
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

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::vector<SeriesInfo> series() const = 0;
  virtual void observe(const Trace& trace) = 0;
  // Writes the current value of every series (same order as series()) to out.
  virtual void record(std::span<double> out, Checkpoint& at) = 0;
};

}  // namespace stagesim
