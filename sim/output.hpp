#pragma once
// The run's HDF5 file: self-describing, readable with h5py/pandas without stagesim.
//   /                    attributes: format, version, git commit, experiment name/text/path, --set
//                        overrides, master seed, replications, checkpoints, experiment hash,
//                        start/end time, host, threads
//   /tasks/variant       [task] strings        (task = one configuration: grid point × variant)
//   /tasks/grid/<axis>   [task] float64 or strings
//   /tasks/horizon       [task] int64
//   /tasks/resolved      [task] strings: the configuration as TOML with every default filled in
//   /checkpoints         [task, checkpoint] int64: requests served at each checkpoint
//   /metrics/<series>    [task, replication, checkpoint] float64, chunked + deflate; attributes
//                        units, description
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/results.hpp"

namespace stagesim {

struct RunInfo {
  std::string start_time, end_time, host;
  int threads = 1;
};

// Writes atomically (temporary file, then rename). Throws IoError; never leaves a half file at path.
void write_results(const std::string& path, const Experiment& ex, const Results& results,
                   const RunInfo& info);

// Reading back (tests, merge): one metric dataset and its shape.
struct Dataset {
  std::vector<double> values;
  std::vector<unsigned long long> shape;
};
Dataset read_dataset(const std::string& path, const std::string& name);
std::string read_string_attribute(const std::string& path, const std::string& name);
std::vector<std::string> list_metrics(const std::string& path);

}  // namespace stagesim
