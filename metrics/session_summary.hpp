#pragma once
// Per-session statistics under KuaiSim's names, for jobs that run sessions themselves (the
// multi-stage RL job): depth (requests per session) with its distribution (quantiles and a
// histogram), total and average reward per session, play time per session, return day (gap in
// days before the next session), retention (share of returns within a horizon of days, over every
// session that could be followed by another) and user retention (share of users whose first
// session is followed by a return within the horizon: each user counts once).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace stagesim {

class SessionSummary {
 public:
  void add_session(std::int64_t depth, double reward, double play_seconds) {
    depths_.push_back(static_cast<double>(depth));
    reward_ += reward;
    play_ += play_seconds;
    play_sq_ += play_seconds * play_seconds;
  }
  // The sessions that follow belong to a new user (for user_retention).
  void begin_user() { first_return_pending_ = true; }
  // A finished session that could be followed by another: its return gap in days.
  void add_return(int day, int retention_days) {
    day_ += day;
    ++returns_;
    if (day <= retention_days) ++retained_;
    if (first_return_pending_) {
      first_return_pending_ = false;
      ++users_;
      if (day <= retention_days) ++users_retained_;
    }
  }

  double sessions() const { return static_cast<double>(depths_.size()); }
  double requests() const {
    double s = 0;
    for (double d : depths_) s += d;
    return s;
  }
  double depth() const { return ratio(requests(), sessions()); }
  double total_reward() const { return ratio(reward_, sessions()); }
  double average_reward() const { return ratio(reward_, requests()); }
  double play_time() const { return ratio(play_, sessions()); }
  // Standard error of play time per session over sessions (sessions taken as independent).
  double play_time_se() const {
    const double n = sessions();
    if (n < 2) return NAN;
    const double m = play_ / n;
    return std::sqrt(std::max(play_sq_ / n - m * m, 0.0) / (n - 1));
  }
  double return_day() const { return ratio(day_, static_cast<double>(returns_)); }
  double retention() const {
    return ratio(static_cast<double>(retained_), static_cast<double>(returns_));
  }
  // Share of users (begun with begin_user, with at least one return) whose first return came
  // within the horizon.
  double user_retention() const {
    return ratio(static_cast<double>(users_retained_), static_cast<double>(users_));
  }
  // Quantile q of the depth distribution (linear interpolation between order statistics).
  double depth_quantile(double q) const {
    if (depths_.empty()) return NAN;
    std::vector<double> s = depths_;
    std::sort(s.begin(), s.end());
    const double pos = q * static_cast<double>(s.size() - 1);
    const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min(lo + 1, s.size() - 1);
    return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
  }
  // Share of sessions with depth d for d = 1..bins (the last bin: depth >= bins).
  std::vector<double> depth_histogram(int bins) const {
    std::vector<double> h(static_cast<std::size_t>(bins), 0.0);
    for (double d : depths_)
      h[static_cast<std::size_t>(std::clamp(static_cast<int>(d), 1, bins) - 1)] += 1;
    for (double& v : h) v = depths_.empty() ? NAN : v / sessions();
    return h;
  }

 private:
  static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }
  std::vector<double> depths_;
  double reward_ = 0, play_ = 0, play_sq_ = 0, day_ = 0;
  std::int64_t returns_ = 0, retained_ = 0, users_ = 0, users_retained_ = 0;
  bool first_return_pending_ = false;
};

}  // namespace stagesim
