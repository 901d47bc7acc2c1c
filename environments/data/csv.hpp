#pragma once
// Streaming reader for CSV files written by pandas (KuaiRec and friends).
//
// Dialect: comma-separated, one header row, fields containing a comma/quote/newline are wrapped in
// double quotes and `""` stands for one quote, an empty field is a missing value. CRLF line ends
// and a UTF-8 byte-order mark are tolerated; blank lines are skipped. The file is read through a
// large buffer, never slurped: only the current record is held in memory.
//
// Columns are looked up by header name; extra columns are ignored. Every error is a DataError
// "FILE:LINE: ..." with the 1-based physical line on which the offending record starts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "environments/data/data_error.hpp"

namespace stagesim::data {

// Result of the number helpers below.
enum class ParseStatus { kOk, kMissing, kBad };

// True for the spellings pandas and friends use for a missing number: "", "nan", "NaN", "NAN",
// "<NA>", "None", "null", "NULL" (surrounding spaces ignored).
bool is_missing_token(std::string_view s);

// Parses a decimal integer. Accepts a leading '+'/'-', surrounding spaces and a zero fraction
// ("123.0", "20200705.00"); a non-zero fraction, exponent or trailing junk is kBad.
ParseStatus parse_int64(std::string_view s, std::int64_t& out);

// Parses a floating-point number (std::from_chars; "inf"/"-inf" accepted, a leading '+' too).
ParseStatus parse_double(std::string_view s, double& out);

class CsvReader {
 public:
  static constexpr std::size_t kDefaultBufferSize = std::size_t{1} << 22;  // 4 MiB

  // Opens the file and reads the header row. Throws DataError if the file cannot be opened, is
  // empty or its header is malformed.
  explicit CsvReader(const std::filesystem::path& path,
                     std::size_t buffer_size = kDefaultBufferSize);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<std::string>& header() const { return header_; }

  // Index of a column by exact header name, or nullopt.
  std::optional<std::size_t> find_column(std::string_view name) const;
  // Index of a column; DataError "FILE:1: missing column 'NAME' ..." if absent.
  std::size_t column(std::string_view name) const;

  // Advances to the next record. Returns false at the end of the file. Throws DataError on a
  // malformed record (unterminated quote, wrong number of fields, junk after a closing quote).
  bool next();

  // Line on which the current record starts (1-based; the header is line 1).
  std::int64_t line() const { return line_; }
  // Number of data records returned so far.
  std::int64_t records() const { return records_; }

  std::size_t size() const { return fields_.size(); }
  // The unescaped text of field i of the current record; valid until the next call to next().
  std::string_view field(std::size_t i) const {
    return std::string_view(buf_.data() + fields_[i].begin, fields_[i].size);
  }
  bool is_missing(std::size_t i) const { return is_missing_token(field(i)); }

  // Typed access with error context: nullopt when missing, DataError naming the file, line and
  // column when the text is not a number.
  std::optional<std::int64_t> as_int(std::size_t col) const;
  std::optional<double> as_double(std::size_t col) const;
  // As above, but a missing value is a DataError too.
  std::int64_t required_int(std::size_t col) const;
  double required_double(std::size_t col) const;

  // A DataError located at the current record ("FILE:LINE: what; fix").
  DataError error(std::string_view what, std::string_view fix) const;

 private:
  struct Span {
    std::size_t begin;
    std::size_t size;
    bool escaped;  // quoted and contains "" pairs that still need collapsing
  };
  enum class Parse { kRecord, kNeedMore, kEnd };

  bool fill();
  Parse parse_record(std::int64_t& newlines, std::size_t& consumed);
  [[noreturn]] void fail(std::int64_t line, std::string_view what, std::string_view fix) const;

  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  std::vector<std::string> header_;
  std::vector<Span> fields_;
  std::int64_t line_ = 0;
  std::int64_t next_line_ = 1;
  std::int64_t records_ = 0;
};

}  // namespace stagesim::data
