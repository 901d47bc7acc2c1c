#pragma once
// Progress of a run: a live line on a terminal, plain periodic lines otherwise (logs, Slurm).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace stagesim {

// Counts work in `what` (requests for simulations, a job's own steps): a unit reports as it goes,
// so a rate and an ETA show within seconds of the start even when one unit takes hours.
class Progress {
 public:
  Progress(std::int64_t total, std::int64_t already_done, bool enabled, std::FILE* out = stdout,
           std::string what = "tasks");
  void advance(std::int64_t work);  // call from one thread at a time
  void set(std::int64_t done);      // absolute count (e.g. work handed out to all MPI ranks)
  void finish();

 private:
  void print(bool final);
  std::int64_t total_, done_, start_done_;
  std::string what_;
  bool enabled_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace stagesim
