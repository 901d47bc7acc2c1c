#pragma once
// Finished metric values of a run: cell (config, replication) -> [series × checkpoint], series in
// the experiment's order; NaN where a configuration does not produce a series.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/metric.hpp"

namespace stagesim {

struct Results {
  std::size_t configs = 0, replications = 0, series = 0, checkpoints = 0;
  std::vector<std::vector<double>>
      cells;  // index config * replications + replication; empty = not run
  // Per cell: one TableData per Experiment::tables entry, in the experiment's column layout
  // (empty when the experiment has no tables).
  std::vector<std::vector<TableData>> tables;

  void reset(std::size_t c, std::size_t r, std::size_t s, std::size_t p) {
    configs = c;
    replications = r;
    series = s;
    checkpoints = p;
    cells.assign(c * r, {});
    tables.assign(c * r, {});
  }
  std::vector<double>& cell(std::size_t config, std::size_t rep) {
    return cells[config * replications + rep];
  }
  const std::vector<double>& cell(std::size_t config, std::size_t rep) const {
    return cells[config * replications + rep];
  }
  std::size_t done() const {
    std::size_t n = 0;
    for (const auto& c : cells) n += !c.empty();
    return n;
  }
};

// A finished cell as it travels from a worker to the journal.
struct CellResult {
  std::size_t config = 0;
  std::size_t replication = 0;
  std::vector<double> values;
  std::vector<TableData> tables;  // Experiment::tables layout
};

// An unfinished task's saved state at a metric checkpoint, so that a killed or requeued run
// resumes there instead of from zero.
struct TaskCheckpoint {
  std::size_t config = 0;
  std::size_t replication = 0;
  std::int64_t position = 0;         // requests served
  std::vector<double> values;        // the cell so far, in the experiment's layout
  std::vector<unsigned char> state;  // what System::save wrote, after the next checkpoint index
};

}  // namespace stagesim
