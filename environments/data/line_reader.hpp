#pragma once
// Buffered line-by-line reader for large text files (streams; never slurps the file).
// Lines are returned without their "\n" / "\r\n" terminator; numbering is 1-based.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "environments/data/data_error.hpp"

namespace stagesim::data {

class LineReader {
 public:
  static constexpr std::size_t kDefaultBufferSize = std::size_t{1} << 22;  // 4 MiB

  // Throws DataError if the file cannot be opened.
  explicit LineReader(const std::filesystem::path& path,
                      std::size_t buffer_size = kDefaultBufferSize);

  // Reads the next line into `line` (valid until the next call). Returns false at end of file.
  bool next(std::string_view& line);

  // Number of the line last returned by next() (0 before the first call).
  std::int64_t line() const { return line_; }
  const std::string& path() const { return path_; }

  // A DataError located at the current line.
  DataError error(std::string_view what, std::string_view fix) const {
    return DataError(path_, line_, what, fix);
  }

 private:
  bool fill();

  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::int64_t line_ = 0;
};

}  // namespace stagesim::data
