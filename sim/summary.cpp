#include "sim/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "sim/output.hpp"

namespace stagesim {
namespace {

std::string printf_string(const char* fmt, double a, double b, int decimals) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, decimals, a, decimals, b);
  return buf;
}

// Code points, for aligning labels that are not pure ASCII.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A linked grid value as stored ('{ "stages.nominators.features" = 5, "world.dim" = 10 }') in
// short form ("features=5 dim=10"); other values unchanged.
std::string compact_grid_value(const std::string& v) {
  if (v.find('"') == std::string::npos) return v;
  std::string out;
  std::size_t i = 0;
  while (i < v.size()) {
    if (v[i] == '"') {
      const std::size_t end = v.find('"', i + 1);
      if (end == std::string::npos) return v;
      std::string key = v.substr(i + 1, end - i - 1);
      if (const std::size_t dot = key.rfind('.'); dot != std::string::npos)
        key = key.substr(dot + 1);
      i = end + 1;
      while (i < v.size() && (v[i] == ' ' || v[i] == '=')) ++i;
      std::size_t stop = i;
      while (stop < v.size() && v[stop] != ' ' && v[stop] != ',' && v[stop] != '}') ++stop;
      if (!out.empty()) out += ' ';
      out += key + "=" + v.substr(i, stop - i);
      i = stop;
    } else {
      ++i;
    }
  }
  return out;
}

std::string system_label(const Config& c) {
  std::string s = c.variant;
  for (const auto& [axis, value] : c.grid) {
    if (!s.empty()) s += ", ";
    const std::string v = compact_grid_value(value);
    s += v != value ? v : axis + "=" + value;
  }
  return s.empty() ? "task " + std::to_string(c.index) : s;
}

struct Stat {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;
};

// Over the replications of one configuration at checkpoint p of a [task, rep, checkpoint] set.
Stat stat_at(const Dataset& d, std::size_t task, std::size_t p) {
  const std::size_t R = d.shape[1], P = d.shape[2];
  Stat s;
  double sum = 0;
  for (std::size_t r = 0; r < R; ++r) {
    const double v = d.values[(task * R + r) * P + p];
    if (std::isnan(v)) continue;
    sum += v;
    ++s.n;
  }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double ss = 0;
  for (std::size_t r = 0; r < R; ++r) {
    const double v = d.values[(task * R + r) * P + p];
    if (!std::isnan(v)) ss += (v - s.mean) * (v - s.mean);
  }
  s.se = std::sqrt(ss / static_cast<double>(s.n - 1) / static_cast<double>(s.n));
  return s;
}

std::string sanitize(std::string s) {
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

}  // namespace

std::string format_mean_se(double mean, double se) {
  char buf[64];
  if (!std::isfinite(mean)) return "n/a";
  if (!std::isfinite(se)) {
    std::snprintf(buf, sizeof buf, "%.4g", mean);
    return buf;
  }
  if (se == 0) {
    std::snprintf(buf, sizeof buf, "%.4g ± 0", mean);
    return buf;
  }
  const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(se))));
  return printf_string("%.*f ± %.*f", mean, se, decimals);
}

std::string results_summary(const Experiment& ex, const std::string& path, std::size_t max_rows) {
  if (ex.series.empty() || ex.checkpoints < 1) return "";
  const std::string main = ex.series.front().name;
  std::string baseline;
  for (const SeriesInfo& s : ex.series)
    if (s.name == "random_" + main) baseline = s.name;
  const Dataset d = read_dataset(path, "metrics/" + sanitize(main));
  Dataset b;
  if (!baseline.empty()) b = read_dataset(path, "metrics/" + sanitize(baseline));
  if (d.shape.size() != 3 || d.shape[0] != ex.configs.size()) return "";
  const std::size_t P = d.shape[2], R = d.shape[1];

  std::int64_t last = -1;
  bool same_last = true;
  for (const Config& c : ex.configs) {
    const std::int64_t l = c.checkpoint_steps.empty() ? 0 : c.checkpoint_steps.back();
    same_last = same_last && (last < 0 || l == last);
    last = l;
  }
  std::string out = main + " at " +
                    (same_last ? "request " + std::to_string(last) : "the last checkpoint") +
                    ", mean ± SE over " + std::to_string(R) + " replications";
  if (!baseline.empty()) out += " (random: uniformly random slates, same requests)";
  out += ":\n";

  const std::size_t rows = std::min(max_rows, ex.configs.size());
  std::vector<std::string> labels, values, randoms;
  std::size_t width = 0, vwidth = 0;
  for (std::size_t t = 0; t < rows; ++t) {
    const Config& c = ex.configs[t];
    labels.push_back(system_label(c));
    width = std::max(width, display_width(labels.back()));
    const Stat s = stat_at(d, t, P - 1);
    std::string v = format_mean_se(s.mean, s.se);
    if (s.n > 0 && s.n < R) v += " (" + std::to_string(s.n) + " of " + std::to_string(R) + ")";
    if (!same_last) v += " at " + std::to_string(c.checkpoint_steps.back());
    values.push_back(v);
    vwidth = std::max(vwidth, display_width(v));
    if (!baseline.empty()) {
      const Stat r = stat_at(b, t, P - 1);
      randoms.push_back(r.n ? "random " + format_mean_se(r.mean, r.se) : "");
    }
  }
  width = std::min<std::size_t>(width, 60);
  for (std::size_t t = 0; t < rows; ++t) {
    std::string line = "  " + labels[t];
    line += std::string(width + 2 - std::min(width, display_width(labels[t])), ' ');
    line += values[t];
    if (!baseline.empty() && !randoms[t].empty())
      line += std::string(vwidth + 3 - display_width(values[t]), ' ') + randoms[t];
    out += line + "\n";
  }
  if (rows < ex.configs.size())
    out += "  ... and " + std::to_string(ex.configs.size() - rows) +
           " more systems; all of them: python3 -c 'import stagesim; print(stagesim.open(\"" +
           path + "\").summary().to_string())' (PYTHONPATH=python)\n";
  return out;
}

std::string wall_time_line(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "wall time %.2f s\n", seconds);
  return buf;
}

}  // namespace stagesim
