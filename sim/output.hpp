#pragma once
// The run's HDF5 file: self-describing, readable with h5py/pandas without stagesim.
//   /                    attributes: format, version, git commit, experiment name/text/path, --set
//                        overrides, master seed, replications, checkpoints, experiment hash,
//                        start/end time, host, threads
//   /tasks/variant       [task] strings        (task = one configuration: grid point × variant)
//   /tasks/grid/<axis>   [task] float64 or strings
//   /tasks/horizon       [task] int64
//   /tasks/resolved      [task] strings: the configuration as TOML with every default filled in
//   /tasks/done          [task, replication] uint8: 1 where the cell holds results (all of them
//                        unless the file is a --shard part; missing cells are NaN)
//   /checkpoints         [task, checkpoint] int64: requests served at each checkpoint
//   /metrics/<series>    [task, replication, checkpoint] float64, chunked + deflate; attributes
//                        units, description
#include <optional>
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/results.hpp"

namespace stagesim {

struct RunInfo {
  std::string start_time, end_time, host;
  int threads = 1;
  int ranks = 1;
  std::string shard;  // "i/n" for a partial file written by --shard, else ""
};

// Writes atomically (temporary file, then rename). Throws IoError; never leaves a half file at
// path.
void write_results(const std::string& path, const Experiment& ex, const Results& results,
                   const RunInfo& info);

// Reading back (tests, merge): one metric dataset and its shape.
struct Dataset {
  std::vector<double> values;
  std::vector<unsigned long long> shape;
};
Dataset read_dataset(const std::string& path, const std::string& name);
std::string read_string_attribute(const std::string& path, const std::string& name);
// The attribute, or nullopt when the file has none of that name (files of older versions).
std::optional<std::string> find_string_attribute(const std::string& path, const std::string& name);
std::uint64_t read_u64_attribute(const std::string& path, const std::string& name);
std::vector<std::string> list_metrics(const std::string& path);
std::vector<unsigned char> read_done(const std::string& path);
std::vector<std::string> read_string_dataset(const std::string& path, const std::string& name);

}  // namespace stagesim
