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

// A component's option `key` (relative to its table) contradicts another: thrown by build
// functions, which do not see the table; the registry turns it into a ConfigError with the key's
// file:line and full key path. The message continues "key 'stages.esr.KEY' ...".
class KeyError : public std::runtime_error {
 public:
  KeyError(std::string key, const std::string& message)
      : std::runtime_error(message), key(std::move(key)) {}
  std::string key;
};

// Problems with files we read or write (unwritable output, full disk, corrupt journal): exit
// code 3.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace stagesim
