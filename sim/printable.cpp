#include "sim/printable.hpp"

#include <cstdint>
#include <cstdio>

namespace stagesim {
namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  std::uint32_t cp = n == 1 ? b : b & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  // Overlong forms, surrogates, out of range, and the C1 controls (U+0080..U+009F) are escaped.
  static constexpr std::uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF ||
      (cp >= 0x80 && cp <= 0x9F))
    return 0;
  return n;
}

std::string escape(std::string_view s, std::size_t max, bool quote_cut) {
  std::string out;
  std::size_t i = 0, shown = 0;
  while (i < s.size() && shown < max) {
    const char c = s[i];
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out += c;
      ++i;
    } else if (c == '\n') {
      out += "\\n";
      ++i;
    } else if (c == '\t') {
      out += "\\t";
      ++i;
    } else if (c == '\r') {
      out += "\\r";
      ++i;
    } else if (c == '\0') {
      out += "\\0";
      ++i;
    } else if (std::size_t n = b >= 0x80 ? utf8_length(s, i) : 0; n > 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", b);
      out += buf;
      ++i;
    }
    ++shown;
  }
  if (i < s.size()) {
    out += "...";
    if (quote_cut) {
      out += '(';
      out += std::to_string(s.size());
      out += " bytes)";
    }
  }
  return out;
}

}  // namespace

std::string printable(std::string_view s, std::size_t max) {
  return escape(s, max, true);
}

std::string printable_message(std::string_view s, std::size_t max) {
  return escape(s, max, false);
}

}  // namespace stagesim
