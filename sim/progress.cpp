#include "sim/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace stagesim {

Progress::Progress(std::int64_t total, std::int64_t already_done, bool enabled, std::FILE* out,
                   std::string what)
    : total_(total),
      done_(already_done),
      start_done_(already_done),
      what_(std::move(what)),
      enabled_(enabled),
      tty_(isatty(fileno(out)) != 0),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::advance(std::int64_t work) {
  set(done_ + work);
}

void Progress::set(std::int64_t done) {
  // A unit rerun on --resume may repeat work already counted as done.
  done_ = std::min(done, total_);
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  // Terminal: redraw at most 5 times a second. Logs: a line every 5 s.
  if (since >= (tty_ ? 0.2 : 5.0)) {
    last_ = now;
    print(false);
  }
}

void Progress::finish() {
  if (enabled_) print(true);
}

void Progress::print(bool final) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_ - start_done_) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
  char line[200];
  std::snprintf(line, sizeof line, "%s %lld/%lld (%.0f%%)  %.3g %s/s  elapsed %.1fs  ETA %.1fs",
                what_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
                total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0,
                rate, what_.c_str(), secs, eta);
  if (tty_)
    std::fprintf(out_, "\r%s\033[K%s", line, final ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", line);
  std::fflush(out_);
}

}  // namespace stagesim
