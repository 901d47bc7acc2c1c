#include "sim/progress.hpp"

#include <unistd.h>

namespace stagesim {

Progress::Progress(std::size_t total, std::size_t already_done, bool enabled, std::FILE* out)
    : total_(total),
      done_(already_done),
      start_done_(already_done),
      enabled_(enabled),
      tty_(isatty(fileno(out)) != 0),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::advance(std::size_t tasks) {
  set(done_ + tasks);
}

void Progress::set(std::size_t done) {
  done_ = done;
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
  char line[160];
  std::snprintf(line, sizeof line, "tasks %zu/%zu (%.0f%%)  %.1f tasks/s  elapsed %.1fs  ETA %.1fs",
                done_, total_, total_ ? 100.0 * done_ / total_ : 100.0, rate, secs, eta);
  if (tty_)
    std::fprintf(out_, "\r%s\033[K%s", line, final ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", line);
  std::fflush(out_);
}

}  // namespace stagesim
