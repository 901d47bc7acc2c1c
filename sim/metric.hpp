#pragma once
// A metric observes what the pipeline did for each request and writes one value per series at
// every checkpoint.
#include <span>
#include <string>
#include <vector>

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
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::vector<SeriesInfo> series() const = 0;
  virtual void observe(const Trace& trace) = 0;
  // Writes the current value of every series (same order as series()) to out.
  virtual void record(std::span<double> out) = 0;
};

}  // namespace stagesim
