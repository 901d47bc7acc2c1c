#include "environments/data/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

namespace stagesim::data {
namespace {

constexpr std::size_t kMaxBuffer = std::size_t{1} << 30;  // one record may not exceed 1 GiB

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string q = "'";
  q += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  q += "'";
  return q;
}

}  // namespace

bool is_missing_token(std::string_view s) {
  s = trim(s);
  return s.empty() || s == "nan" || s == "NaN" || s == "NAN" || s == "<NA>" || s == "None" ||
         s == "null" || s == "NULL";
}

ParseStatus parse_int64(std::string_view s, std::int64_t& out) {
  s = trim(s);
  if (is_missing_token(s)) return ParseStatus::kMissing;
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return ParseStatus::kBad;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec != std::errc() || ptr == first) return ParseStatus::kBad;
  if (ptr == last) return ParseStatus::kOk;
  if (*ptr != '.') return ParseStatus::kBad;
  // "123.0": only zeros may follow the point.
  for (++ptr; ptr != last; ++ptr) {
    if (*ptr != '0') return ParseStatus::kBad;
  }
  return ParseStatus::kOk;
}

ParseStatus parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (is_missing_token(s)) return ParseStatus::kMissing;
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return ParseStatus::kBad;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, out, std::chars_format::general);
  if (ptr != last) return ParseStatus::kBad;
  if (ec == std::errc::result_out_of_range) {
    // Denormal/huge literals: from_chars leaves `out` unspecified; fall back to strtod semantics.
    std::string tmp(s);
    errno = 0;
    out = std::strtod(tmp.c_str(), nullptr);
    return ParseStatus::kOk;
  }
  return ec == std::errc() ? ParseStatus::kOk : ParseStatus::kBad;
}

CsvReader::CsvReader(const std::filesystem::path& path, std::size_t buffer_size)
    : path_(path.string()), file_(nullptr, &std::fclose) {
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) {
    fail(0, std::string("cannot open file (") + std::strerror(errno) + ")",
         "check the path and the permissions");
  }
  buf_.resize(std::max<std::size_t>(buffer_size, 16));
  if (!fill() || begin_ == end_) fail(0, "empty file", "expected a header row of column names");
  // UTF-8 byte-order mark.
  if (end_ - begin_ >= 3 && std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) begin_ += 3;
  if (!next()) fail(0, "empty file", "expected a header row of column names");
  header_.reserve(fields_.size());
  for (std::size_t i = 0; i < fields_.size(); ++i) header_.emplace_back(trim(field(i)));
  records_ = 0;
}

CsvReader::~CsvReader() = default;

std::optional<std::size_t> CsvReader::find_column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

std::size_t CsvReader::column(std::string_view name) const {
  if (auto c = find_column(name)) return *c;
  std::string have;
  for (std::size_t i = 0; i < header_.size() && i < 12; ++i) {
    have += (i ? ", " : "") + header_[i];
  }
  if (header_.size() > 12) have += ", ...";
  fail(1, "missing column '" + std::string(name) + "' (header has: " + have + ")",
       "use the original file, whose header names this column");
}

bool CsvReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    if (buf_.size() >= kMaxBuffer) {
      fail(next_line_, "a single record is longer than 1 GiB",
           "the file is probably not a CSV or has an unterminated quote");
    }
    buf_.resize(std::min(buf_.size() * 2, kMaxBuffer));
  }
  std::size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_.get());
  if (n == 0) {
    if (std::ferror(file_.get())) {
      fail(next_line_, std::string("read error (") + std::strerror(errno) + ")",
           "check the disk and the file");
    }
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

// Splits the record starting at begin_ into fields_. kNeedMore: the buffer ends inside the record
// and more input exists. kEnd: no bytes left at all.
CsvReader::Parse CsvReader::parse_record(std::int64_t& newlines, std::size_t& consumed) {
  fields_.clear();
  newlines = 0;
  const char* base = buf_.data();
  const char* p = base + begin_;
  const char* end = base + end_;
  if (p == end) return eof_ ? Parse::kEnd : Parse::kNeedMore;
  const char* s = p;
  for (;;) {
    if (s == end) {
      if (!eof_) return Parse::kNeedMore;
      fields_.push_back({static_cast<std::size_t>(s - base), 0, false});  // "a,b," at EOF
      break;
    }
    if (*s == '"') {
      const char* q = s + 1;
      bool escaped = false;
      for (;;) {
        q = static_cast<const char*>(std::memchr(q, '"', end - q));
        if (q == nullptr) {
          if (!eof_) return Parse::kNeedMore;
          fail(next_line_, "unterminated quoted field (the file ends inside quotes)",
               "the file is truncated; download or export it again");
        }
        if (q + 1 == end && !eof_) return Parse::kNeedMore;
        if (q + 1 != end && q[1] == '"') {
          escaped = true;
          q += 2;
          continue;
        }
        break;
      }
      newlines += std::count(s + 1, q, '\n');
      fields_.push_back(
          {static_cast<std::size_t>(s + 1 - base), static_cast<std::size_t>(q - s - 1), escaped});
      s = q + 1;
      if (s == end) break;  // eof_ is true here
      if (*s == ',') {
        ++s;
        continue;
      }
      if (*s == '\n') {
        ++s;
        ++newlines;
        break;
      }
      if (*s == '\r') {
        if (s + 1 == end) {
          if (!eof_) return Parse::kNeedMore;
          ++s;
          break;
        }
        if (s[1] == '\n') {
          s += 2;
          ++newlines;
          break;
        }
      }
      fail(next_line_ + newlines,
           "unexpected character " + quote(std::string_view(s, 1)) + " after a closing quote",
           "a quoted field must be followed by a comma or the end of the line");
    }
    const char* q = s;
    while (q != end && *q != ',' && *q != '\n') ++q;
    if (q == end && !eof_) return Parse::kNeedMore;
    const char* fe = q;
    if (fe != s && fe[-1] == '\r' && (q == end || *q == '\n')) --fe;
    fields_.push_back(
        {static_cast<std::size_t>(s - base), static_cast<std::size_t>(fe - s), false});
    if (q == end) {
      s = q;
      break;
    }
    s = q + 1;
    if (*q == '\n') {
      ++newlines;
      break;
    }
  }
  consumed = static_cast<std::size_t>(s - p);
  return Parse::kRecord;
}

bool CsvReader::next() {
  for (;;) {
    std::int64_t newlines = 0;
    std::size_t consumed = 0;
    Parse r = parse_record(newlines, consumed);
    if (r == Parse::kEnd) {
      fields_.clear();
      return false;
    }
    if (r == Parse::kNeedMore) {
      fill();  // at EOF fill() sets eof_ and the record is re-parsed as final
      continue;
    }
    const std::int64_t start_line = next_line_;
    next_line_ += newlines;
    begin_ += consumed;
    // A blank line parses as one empty unquoted field.
    if (fields_.size() == 1 && fields_[0].size == 0 && header_.size() != 1) continue;
    line_ = start_line;
    for (Span& f : fields_) {
      if (!f.escaped) continue;
      char* d = buf_.data() + f.begin;
      std::size_t w = 0;
      for (std::size_t r2 = 0; r2 < f.size; ++r2, ++w) {
        d[w] = d[r2];
        if (d[r2] == '"') ++r2;  // skip the second quote of a "" pair
      }
      f.size = w;
      f.escaped = false;
    }
    if (!header_.empty()) {
      if (fields_.size() != header_.size()) {
        fail(line_,
             "expected " + std::to_string(header_.size()) + " fields (as in the header), found " +
                 std::to_string(fields_.size()),
             fields_.size() < header_.size()
                 ? "the line is truncated; re-export or re-download the file"
                 : "a field with a comma must be double-quoted; re-export the file with pandas");
      }
      ++records_;
    }
    return true;
  }
}

std::optional<std::int64_t> CsvReader::as_int(std::size_t col) const {
  std::int64_t v = 0;
  switch (parse_int64(field(col), v)) {
    case ParseStatus::kOk:
      return v;
    case ParseStatus::kMissing:
      return std::nullopt;
    case ParseStatus::kBad:
      break;
  }
  fail(line_, "column '" + header_[col] + "': " + quote(field(col)) + " is not an integer",
       "fix or remove this row");
}

std::optional<double> CsvReader::as_double(std::size_t col) const {
  double v = 0;
  switch (parse_double(field(col), v)) {
    case ParseStatus::kOk:
      return v;
    case ParseStatus::kMissing:
      return std::nullopt;
    case ParseStatus::kBad:
      break;
  }
  fail(line_, "column '" + header_[col] + "': " + quote(field(col)) + " is not a number",
       "fix or remove this row");
}

std::int64_t CsvReader::required_int(std::size_t col) const {
  if (auto v = as_int(col)) return *v;
  fail(line_, "column '" + header_[col] + "' is empty (missing value)",
       "this column must be filled in every row");
}

double CsvReader::required_double(std::size_t col) const {
  if (auto v = as_double(col)) return *v;
  fail(line_, "column '" + header_[col] + "' is empty (missing value)",
       "this column must be filled in every row");
}

DataError CsvReader::error(std::string_view what, std::string_view fix) const {
  return DataError(path_, line_, what, fix);
}

void CsvReader::fail(std::int64_t line, std::string_view what, std::string_view fix) const {
  throw DataError(path_, line, what, fix);
}

}  // namespace stagesim::data
