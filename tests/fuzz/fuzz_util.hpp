#pragma once
// Helpers shared by the fuzz targets: the input as a file (readers take paths), and the rule that
// only the documented error types may escape (anything else is a finding: abort, so libFuzzer
// keeps the input).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace stagesim::fuzz {

// An in-memory file (memfd) rewritten for every input; path() works with fopen and stat.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("stagesim-fuzz", 0)) {
    if (fd_ < 0) std::abort();
  }
  ~MemFile() { ::close(fd_); }
  // Replaces the content; returns a path to it.
  std::string set(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    std::size_t done = 0;
    while (done < size) {
      const ssize_t w = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (w <= 0) std::abort();
      done += static_cast<std::size_t>(w);
    }
    return "/proc/self/fd/" + std::to_string(fd_);
  }

 private:
  int fd_;
};

// Runs f; errors of the types Allowed... are the expected outcome of bad input, anything else
// aborts with its message.
template <class... Allowed, class F>
void expect_only(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    if ((dynamic_cast<const Allowed*>(&e) || ...)) return;
    std::fprintf(stderr, "fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
}

}  // namespace stagesim::fuzz
