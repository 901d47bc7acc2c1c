#pragma once
// What a run will cost before it starts: wall time (calibrated flops) and memory. `check` prints
// both; `check` and `run` refuse a run whose memory cannot fit, naming the key that makes it big.
#include <string>

#include "sim/experiment.hpp"

namespace stagesim {

// The cost model (fitted with bench/calibrate_cost.sh on CPU time; docs/cluster.md, "Cost
// estimate"): the stages' and worlds' flop formulas run at kFlopsPerSecond per thread; each stage
// replica adds kStageOverheadFlops per request for the engine's work around it (candidate lists,
// selection, feedback routing), which dominates small problems; a run adds kRunOverheadSeconds
// (start-up, configuration, the HDF5 file).
inline constexpr double kFlopsPerSecond = 35e9;
inline constexpr double kStageOverheadFlops = 3400;
inline constexpr double kRunOverheadSeconds = 0.25;

struct Footprint {
  double results_bytes = 0;  // the writer's copy of every cell, its buffers and the HDF5 image
  double worker_bytes = 0;   // the largest world configuration's world and systems (per thread)
  std::size_t worker_config = 0;  // a configuration of that world, for messages
};

Footprint memory_footprint(const Experiment& ex);

// Throws ConfigError when `threads` workers and the results do not fit in the memory available:
// names the key (experiment.replications for the results, the world or stages of the largest
// configuration), the bytes needed and the bytes available.
void check_memory(const Experiment& ex, int threads);

// Estimated flops of the whole run (every configuration × replication).
double experiment_flops(const Experiment& ex);

// Wall time of a run of `flops` on `threads` threads (the model above).
double estimate_seconds(double flops, int threads);

}  // namespace stagesim
