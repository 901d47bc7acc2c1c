#include "environments/data/xc_text.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "environments/data/csv.hpp"
#include "environments/data/line_reader.hpp"

namespace stagesim::data {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string show(std::string_view s) {
  return "'" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...'" : "'");
}

// Parses a non-negative integer at s[i..], advancing i. False if there is no digit.
bool parse_index(std::string_view s, std::size_t& i, std::int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), out);
  if (ec != std::errc() || ptr == s.data() + i || out < 0) return false;
  i = static_cast<std::size_t>(ptr - s.data());
  return true;
}

}  // namespace

XcDataset read_xc_text(const std::filesystem::path& path, bool keep_features) {
  LineReader in(path);
  const char* fix = "the file is not in Extreme Classification text format or is truncated";
  std::string_view line;
  XcDataset ds;

  // Header: first line that is neither empty nor a comment.
  bool have_header = false;
  while (in.next(line)) {
    if (in.line() == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    std::size_t i = 0;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    std::int64_t v[3];
    for (int k = 0; k < 3; ++k) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (!parse_index(line, i, v[k])) {
        throw in.error("bad header " + show(line) + ": expected three counts 'N D L'", fix);
      }
    }
    while (i < line.size() && is_space(line[i])) ++i;
    if (i != line.size()) throw in.error("bad header " + show(line) + ": expected 'N D L'", fix);
    if (v[1] > std::numeric_limits<std::int32_t>::max() ||
        v[2] > std::numeric_limits<std::int32_t>::max()) {
      throw in.error("feature/label counts above 2^31-1 are not supported", "split the data set");
    }
    ds.num_points = v[0];
    ds.num_features = v[1];
    ds.num_labels = v[2];
    have_header = true;
    break;
  }
  if (!have_header) throw DataError(in.path(), "empty file: no 'N D L' header line", fix);

  ds.features.cols = ds.num_features;
  // Reserve for the header's N, but never more than the file can hold (a point is a line).
  std::error_code ec;
  const auto file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  const auto expected = static_cast<std::size_t>(std::min<std::int64_t>(
                            {ds.num_points, 1 << 24, ec ? std::int64_t{0} : file_bytes})) +
                        1;
  if (keep_features) ds.features.indptr.reserve(expected);
  ds.labels.offsets.reserve(expected);
  std::vector<std::int32_t> row_labels;
  std::int64_t points = 0;
  while (in.next(line)) {
    std::size_t i = 0;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    if (points == ds.num_points) {
      throw in.error("more points than the header's N = " + std::to_string(ds.num_points),
                     "fix the header count or remove the extra lines");
    }
    row_labels.clear();
    // Labels: only if the line does not start with whitespace and the first token is no feature.
    std::size_t first_end = 0;
    while (first_end < line.size() && !is_space(line[first_end]) && line[first_end] != ',') {
      ++first_end;
    }
    const bool starts_with_label =
        i == 0 && line.substr(0, first_end).find(':') == std::string_view::npos;
    if (starts_with_label) {
      for (;;) {
        std::int64_t l = 0;
        if (!parse_index(line, i, l)) {
          throw in.error("bad label list near " + show(line.substr(i)), fix);
        }
        if (l >= ds.num_labels) {
          throw in.error("label " + std::to_string(l) + " is outside [0, " +
                             std::to_string(ds.num_labels) + ") from the header",
                         "fix the header's L or the label");
        }
        row_labels.push_back(static_cast<std::int32_t>(l));
        if (i < line.size() && line[i] == ',') {
          ++i;
          while (i < line.size() && line[i] == ' ') ++i;  // "1, 2"
          continue;
        }
        if (i < line.size() && !is_space(line[i])) {
          throw in.error("bad label list near " + show(line.substr(i)), fix);
        }
        break;
      }
    }
    ds.labels.push_back(row_labels);
    // Features.
    for (;;) {
      while (i < line.size() && is_space(line[i])) ++i;
      if (i == line.size()) break;
      const std::size_t tok = i;
      std::int64_t f = 0;
      if (!parse_index(line, i, f) || i >= line.size() || line[i] != ':') {
        throw in.error("bad feature " + show(line.substr(tok)) + ": expected idx:value", fix);
      }
      ++i;
      std::size_t vend = i;
      while (vend < line.size() && !is_space(line[vend])) ++vend;
      double value = 0;
      if (parse_double(line.substr(i, vend - i), value) != ParseStatus::kOk) {
        throw in.error("bad feature value " + show(line.substr(tok, vend - tok)), fix);
      }
      if (f >= ds.num_features) {
        throw in.error("feature " + std::to_string(f) + " is outside [0, " +
                           std::to_string(ds.num_features) + ") from the header",
                       "fix the header's D or the feature index");
      }
      if (keep_features) {
        ds.features.indices.push_back(static_cast<std::int32_t>(f));
        ds.features.data.push_back(value);
      }
      i = vend;
    }
    if (keep_features) {
      ds.features.indptr.push_back(static_cast<std::int64_t>(ds.features.indices.size()));
    }
    ++points;
  }
  if (points != ds.num_points) {
    throw DataError(in.path(), in.line(),
                    "file ends after " + std::to_string(points) + " points but the header says " +
                        std::to_string(ds.num_points),
                    "the file is truncated or the header count is wrong");
  }
  ds.features.rows = points;
  if (!keep_features) ds.features.indptr.assign(static_cast<std::size_t>(points) + 1, 0);
  return ds;
}

}  // namespace stagesim::data
