#pragma once
// The end of `stagesim run`: per system (configuration) the main series at the last checkpoint
// as mean ± SE over replications, next to its uniform-random baseline where the run records one
// (random_<series>), read back from the finished HDF5 file; then the measured wall time.
#include <cstddef>
#include <string>

#include "sim/experiment.hpp"

namespace stagesim {

// "773.5 ± 67.9" style: the SE to two significant digits, the mean to the same decimal place
// (python/stagesim/stats.py formats the same way).
std::string format_mean_se(double mean, double se);

// The summary table of a written results file; at most max_rows systems, then a pointer to the
// Python API for the rest. Empty when the file has no series.
std::string results_summary(const Experiment& ex, const std::string& path,
                            std::size_t max_rows = 40);

// "wall time 0.71 s".
std::string wall_time_line(double seconds);

}  // namespace stagesim
