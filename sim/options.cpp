#include "sim/options.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace stagesim {

std::string source_of(const toml::source_region& r) {
  std::string file = r.path ? *r.path : std::string("<input>");
  // Values given on the command line are named by their --set argument, not a line of it.
  if (r.begin.line == 0 || file.rfind("--set ", 0) == 0) return file;
  return file + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

std::string source_of(const toml::node& n) {
  return source_of(n.source());
}

std::string key_source(const toml::table& t, const std::string& key) {
  const toml::node* n = t.get(key);
  return n ? source_of(*n) : source_of(t);
}

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest text that round-trips.
  for (int p = 1; p < 17; ++p) {
    char b2[64];
    std::snprintf(b2, sizeof b2, "%.*g", p, v);
    if (std::strtod(b2, nullptr) == v) return b2;
  }
  return buf;
}

std::string describe_node(const toml::node& n) {
  std::ostringstream os;
  switch (n.type()) {
    case toml::node_type::string:
      os << '"' << printable(*n.value<std::string>()) << '"';
      break;
    case toml::node_type::integer:
      os << *n.value<int64_t>();
      break;
    case toml::node_type::floating_point:
      os << format_number(*n.value<double>());
      break;
    case toml::node_type::boolean:
      os << (*n.value<bool>() ? "true" : "false");
      break;
    case toml::node_type::table:
      os << "a table";
      break;
    case toml::node_type::array:
      os << "an array";
      break;
    default:
      os << "a date/time";
      break;
  }
  return os.str();
}

static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

void throw_unknown_key(const toml::key& key, const std::string& path, const std::string& owner,
                       const std::vector<std::string>& allowed, const toml::node* value) {
  const bool key_located = key.source().begin.line != 0;
  std::string msg = (key_located || !value ? source_of(key.source()) : source_of(*value)) +
                    ": unknown key '" + printable(path) + "'";
  if (!owner.empty()) msg += " for " + owner;
  std::string hint = closest_match(std::string(key.str()), allowed);
  if (!hint.empty() && hint != key.str()) msg += " (did you mean '" + hint + "'?)";
  msg += "; allowed: ";
  if (allowed.empty()) msg += "none";
  for (size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : "") + allowed[i];
  throw ConfigError(msg);
}

}  // namespace stagesim
