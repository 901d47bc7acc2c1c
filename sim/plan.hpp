#pragma once
// Planning a run before it starts (`stagesim check`, `stagesim slurm`): how the work splits into
// units, how long the longest takes, and warnings for cluster settings that waste allocations or
// cannot finish (more array tasks than units, a unit longer than the time limit).
#include <optional>
#include <string>
#include <vector>

#include "sim/experiment.hpp"
#include "sim/runner.hpp"

namespace stagesim {

// A Slurm time limit ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS") in seconds;
// nullopt when malformed.
std::optional<double> parse_slurm_time(const std::string& text);

// "3 h 20 min", "45 s": a duration for messages.
std::string human_duration(double seconds);

struct PlanSummary {
  std::size_t units = 0;
  std::size_t largest_unit = 0;      // configurations in the largest unit
  std::string unit_rule;             // how tasks were grouped, for the report
  double longest_seconds = 0;        // the most expensive unit on one thread (check's cost model)
  std::string longest_task;          // its first task
  bool longest_checkpoints = false;  // it journals checkpoints, so a requeue continues it midway
};

PlanSummary plan_summary(const Experiment& ex, UnitMode mode);

// Warnings for `--array array` shards each limited to `time_limit` seconds (nullopt = no limit);
// empty when the plan fits.
std::vector<std::string> plan_warnings(const PlanSummary& plan, int array,
                                       std::optional<double> time_limit,
                                       const std::string& time_text);

}  // namespace stagesim
