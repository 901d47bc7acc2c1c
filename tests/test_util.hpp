#pragma once
// Shared helpers for the core tests.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "sim/experiment.hpp"
#include "sim/runner.hpp"

namespace stagesim::test {

inline Experiment parse(const std::string& text, std::vector<std::string> sets = {}) {
  LoadOptions lo;
  lo.set = std::move(sets);
  return parse_experiment(text, "test.toml", lo, builtin_registry());
}

// Runs every unit in the given order and returns results indexed like Results::cell.
inline Results run_all(const Experiment& ex, bool reverse = false) {
  Results res;
  res.reset(ex.configs.size(), ex.replications, ex.series.size(), ex.checkpoints);
  auto units = plan_units(ex);
  if (reverse) std::reverse(units.begin(), units.end());
  for (const Unit& u : units)
    for (CellResult& c : run_unit(ex, u)) res.cell(c.config, c.replication) = std::move(c.values);
  return res;
}

inline std::size_t series_index(const Experiment& ex, const std::string& name) {
  for (std::size_t i = 0; i < ex.series.size(); ++i)
    if (ex.series[i].name == name) return i;
  throw std::runtime_error("no series " + name);
}

// Value of series `name` at the last checkpoint for (config, rep).
inline double final_value(const Experiment& ex, const Results& r, std::size_t config,
                          std::size_t rep, const std::string& name) {
  return r.cell(config, rep)[series_index(ex, name) * ex.checkpoints + ex.checkpoints - 1];
}

struct CommandResult {
  int exit_code;
  std::string output;  // stdout + stderr
};

// Runs a shell command, capturing its combined output.
inline CommandResult run_command(const std::string& cmd) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  CommandResult r{-1, ""};
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string stagesim_binary() {
  return STAGESIM_BINARY;
}
inline std::string source_dir() {
  return STAGESIM_SOURCE_DIR;
}

// A fresh scratch directory per test.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("stagesim_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// CA-PG as Table 1 runs it (float32 reference, Gumbel sampler), small: Adagrad state, the
// tables, the overflow step and the policy value kept for after an overflow (checkpoint tests).
inline std::string pg_checkpoint_experiment(std::int64_t horizon, int checkpoints,
                                            int replications = 1) {
  return R"([experiment]
seed = 11
replications = )" +
         std::to_string(replications) + "\nhorizon = " + std::to_string(horizon) +
         "\ncheckpoints = " + std::to_string(checkpoints) + R"(
checkpoint_start = true
[world]
type = "embedding"
users = 200
items = 200
[stages.esr]
type = "pl_ranker"
keep = 10
update_every = 32
estimator = "ca-pg"
precision = "float32_reference"
sampler = "gumbel_float32"
[stages.lsr]
type = "late_ranker"
input = "esr"
keep = 1
mode = "optimal"
[metrics.policy_value]
requests = 50
[metrics.stage_stats]
)";
}

// Counts a journal's checkpoint records while a run appends them: all of a run's checkpoint
// records have one size, so the first one's size counts the rest.
struct CheckpointCounter {
  static constexpr std::uintmax_t kHeader = 48;
  std::string journal;
  std::uintmax_t record = 0;
  std::uintmax_t count() {
    std::error_code ec;
    const auto size = std::filesystem::file_size(journal, ec);
    if (ec || size <= kHeader) return 0;
    if (record == 0) record = size - kHeader;
    return (size - kHeader) / record;
  }
};

// Polls `ready` every millisecond until it holds (then calls `kill`: true), the child `pid`
// exits first (reaped: false) or `timeout` passes (false).
inline bool kill_when(pid_t pid, const std::function<bool()>& ready,
                      const std::function<void()>& kill, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) {
      kill();
      return true;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}
}  // namespace stagesim::test
