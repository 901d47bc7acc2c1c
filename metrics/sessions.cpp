// Session statistics from a session world's events: completed sessions, their depth (requests per
// session) with its distribution, reward per session, and the gap before users return. Names
// follow KuaiSim's where they exist (depth, total reward per session, return time).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct SessionOpts {
  std::vector<double> depth_quantiles = {0.1, 0.5, 0.9};
};

// 0.1 -> "10", 0.025 -> "2.5": a series-name-safe percentage.
std::string percent_label(double q) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::round(1000 * q) / 10);
  return buf;
}

class SessionMetric final : public Metric {
 public:
  explicit SessionMetric(const SessionOpts& o) : q_(o.depth_quantiles) {}

  std::vector<SeriesInfo> series() const override {
    std::vector<SeriesInfo> v = {
        {"sessions", "sessions", "completed sessions so far"},
        {"session_depth", "requests", "mean requests per completed session"},
        {"session_reward", "reward", "mean total primary outcome per completed session"},
        {"return_gap", "time", "mean time between a user's sessions (returns so far)"},
    };
    for (double q : q_)
      v.push_back({"session_depth_q" + percent_label(q), "requests",
                   "quantile " + format_number(q) + " of the requests per completed session"});
    return v;
  }
  void observe(const Trace& t) override {
    for (const World::SessionEvent& e : t.events) {
      if (e.kind == World::SessionEvent::Kind::end) {
        depths_.push_back(static_cast<double>(e.requests));
        reward_ += e.reward;
      } else if (!std::isnan(e.gap)) {
        gap_ += e.gap;
        ++returns_;
      }
    }
  }
  void record(std::span<double> out, Checkpoint&) override {
    const double n = static_cast<double>(depths_.size());
    double depth = 0;
    for (double d : depths_) depth += d;
    out[0] = n;
    out[1] = n > 0 ? depth / n : NAN;
    out[2] = n > 0 ? reward_ / n : NAN;
    out[3] = returns_ > 0 ? gap_ / static_cast<double>(returns_) : NAN;
    sorted_ = depths_;
    std::sort(sorted_.begin(), sorted_.end());
    for (std::size_t i = 0; i < q_.size(); ++i) out[4 + i] = quantile(q_[i]);
  }

 private:
  // Linear interpolation between order statistics (numpy's default).
  double quantile(double q) const {
    if (sorted_.empty()) return NAN;
    const double pos = q * static_cast<double>(sorted_.size() - 1);
    const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, sorted_.size() - 1);
    return sorted_[lo] + (pos - static_cast<double>(lo)) * (sorted_[hi] - sorted_[lo]);
  }
  std::vector<double> q_, depths_, sorted_;
  double reward_ = 0, gap_ = 0;
  std::int64_t returns_ = 0;
};

}  // namespace

MetricEntry session_metric_entry() {
  OptionGroup<SessionOpts> g;
  g.add("depth_quantiles", &SessionOpts::depth_quantiles,
        "quantiles of the session depth distribution to record (each in [0, 1])");
  return make_entry<MetricBuild>(
      "metric", "sessions",
      "session count, depth (mean and quantiles), reward per session, return gap (session worlds)",
      g,
      [](const SessionOpts& o) {
        for (double q : o.depth_quantiles)
          if (!(q >= 0 && q <= 1))
            throw ConfigError("key 'metrics.sessions.depth_quantiles' = " + format_number(q) +
                              " is out of range; each quantile must be in [0, 1]");
        MetricBuild b;
        b.make = [o](const MetricSetup&) { return std::make_unique<SessionMetric>(o); };
        return b;
      },
      {});
}

}  // namespace stagesim
