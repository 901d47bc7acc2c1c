#pragma once
// User-facing errors. Every message is one line that names where the problem is (file:line or
// key path) and what would fix it; main() prints it and exits with a distinct code, never aborts.
#include <stdexcept>
#include <string>

namespace stagesim {

// Bad experiment file, bad --set, bad CLI arguments: exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Problems with files we read or write (unwritable output, full disk, corrupt journal): exit
// code 3.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace stagesim
