#pragma once
// Progress of a run: a live line on a terminal, plain periodic lines otherwise (logs, Slurm).
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace stagesim {

class Progress {
 public:
  Progress(std::size_t total, std::size_t already_done, bool enabled, std::FILE* out = stdout);
  void advance(std::size_t tasks);  // call from one thread at a time
  void set(std::size_t done);       // absolute count (e.g. tasks handed out to all MPI ranks)
  void finish();

 private:
  void print(bool final);
  std::size_t total_, done_, start_done_;
  bool enabled_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace stagesim
