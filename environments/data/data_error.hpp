#pragma once
// The one exception type of the dataset readers. Its message is a single line
//   FILE:LINE: what is wrong; how to fix
// (":LINE" is left out when no line applies, e.g. for binary files). Readers throw nothing else on
// bad input: no abort, no assert, no crash on malformed files.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stagesim::data {

class DataError : public std::runtime_error {
 public:
  // line <= 0 means "no line number".
  DataError(std::string_view file, std::int64_t line, std::string_view what, std::string_view fix)
      : std::runtime_error(format(file, line, what, fix)), file_(file), line_(line) {}
  DataError(std::string_view file, std::string_view what, std::string_view fix)
      : DataError(file, 0, what, fix) {}

  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }

  // Builds the one-line message; newlines and tabs in the parts become spaces.
  static std::string format(std::string_view file, std::int64_t line, std::string_view what,
                            std::string_view fix) {
    std::string m;
    m.reserve(file.size() + what.size() + fix.size() + 24);
    m.append(file);
    if (line > 0) {
      m.push_back(':');
      m.append(std::to_string(line));
    }
    m.append(": ");
    m.append(what);
    if (!fix.empty()) {
      m.append("; ");
      m.append(fix);
    }
    for (char& c : m) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    return m;
  }

 private:
  std::string file_;
  std::int64_t line_ = 0;
};

}  // namespace stagesim::data
