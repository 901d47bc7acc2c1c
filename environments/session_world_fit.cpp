#include "environments/session_world_fit.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "environments/data/data_error.hpp"
#include "sim/random.hpp"

namespace stagesim {
namespace {

namespace fs = std::filesystem;
using data::KuaiRandLog;
using data::KuaiRandRelease;

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// Standard-normal quadrature: a fine trapezoid grid on [-8, 8] with normalised weights (the
// integrands are smooth, so this is accurate to ~1e-10 and needs no tables).
struct NormalGrid {
  std::vector<double> z, w;
  explicit NormalGrid(int n, double half_width) {
    const double h = 2 * half_width / (n - 1);
    double total = 0;
    for (int k = 0; k < n; ++k) {
      const double x = -half_width + h * k;
      z.push_back(x);
      w.push_back(std::exp(-0.5 * x * x));
      total += w.back();
    }
    for (double& v : w) v /= total;
  }
};
const NormalGrid& fine_grid() {
  static const NormalGrid g(641, 8.0);
  return g;
}

// E σ(o + τZ) and E σ²(o + τZ).
std::pair<double, double> logistic_normal_moments(double o, double tau) {
  const NormalGrid& g = fine_grid();
  double m1 = 0, m2 = 0;
  for (std::size_t k = 0; k < g.z.size(); ++k) {
    const double s = sigmoid(o + tau * g.z[k]);
    m1 += g.w[k] * s;
    m2 += g.w[k] * s * s;
  }
  return {m1, m2};
}

// Minimises f over R^n from x0 (Nelder–Mead; a few parameters, derivative-free because the
// simulated objectives are piecewise constant).
std::vector<double> nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                                std::vector<double> x0, std::vector<double> step, int max_evals,
                                double ftol) {
  const std::size_t n = x0.size();
  std::vector<std::vector<double>> s(n + 1, x0);
  for (std::size_t i = 0; i < n; ++i) s[i + 1][i] += step[i];
  std::vector<double> fs;
  for (auto& v : s) fs.push_back(f(v));
  int evals = static_cast<int>(n + 1);
  auto point = [&](const std::vector<double>& c, const std::vector<double>& w, double t) {
    std::vector<double> r(n);
    for (std::size_t i = 0; i < n; ++i) r[i] = c[i] + t * (w[i] - c[i]);
    return r;
  };
  while (evals < max_evals) {
    std::vector<std::size_t> order(n + 1);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return fs[a] < fs[b]; });
    std::vector<std::vector<double>> s2;
    std::vector<double> f2;
    for (auto i : order) s2.push_back(s[i]), f2.push_back(fs[i]);
    s = std::move(s2);
    fs = std::move(f2);
    if (std::abs(fs[n] - fs[0]) <= ftol * (std::abs(fs[0]) + 1e-12)) break;
    std::vector<double> c(n, 0.0);
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t i = 0; i < n; ++i) c[i] += s[j][i] / static_cast<double>(n);
    const auto xr = point(c, s[n], -1.0);
    const double fr = f(xr);
    ++evals;
    if (fr < fs[0]) {
      const auto xe = point(c, s[n], -2.0);
      const double fe = f(xe);
      ++evals;
      if (fe < fr)
        s[n] = xe, fs[n] = fe;
      else
        s[n] = xr, fs[n] = fr;
    } else if (fr < fs[n - 1]) {
      s[n] = xr, fs[n] = fr;
    } else {
      const auto xc = point(c, s[n], fr < fs[n] ? -0.5 : 0.5);
      const double fc = f(xc);
      ++evals;
      if (fc < std::min(fr, fs[n])) {
        s[n] = xc, fs[n] = fc;
      } else {
        for (std::size_t j = 1; j <= n; ++j) {
          s[j] = point(s[0], s[j], 0.5);
          fs[j] = f(s[j]);
          ++evals;
        }
      }
    }
  }
  std::size_t best = 0;
  for (std::size_t j = 1; j <= n; ++j)
    if (fs[j] < fs[best]) best = j;
  return s[best];
}

// Golden-section maximisation of a unimodal f on [a, b].
double golden_max(const std::function<double(double)>& f, double a, double b, int iters) {
  const double r = (std::sqrt(5.0) - 1) / 2;
  double c = b - r * (b - a), d = a + r * (b - a);
  double fc = f(c), fd = f(d);
  for (int k = 0; k < iters; ++k) {
    if (fc > fd) {
      b = d, d = c, fd = fc;
      c = b - r * (b - a);
      fc = f(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + r * (b - a);
      fd = f(d);
    }
  }
  return (a + b) / 2;
}

struct LogFile {
  KuaiRandLog log;
  KuaiRandRelease release;
  fs::path root;
  bool rate = false;
  bool session = false;
};

bool contains(const std::vector<KuaiRandLog>& v, KuaiRandLog l) {
  return std::find(v.begin(), v.end(), l) != v.end();
}

}  // namespace

double mean_logistic_normal(double offset, double tau) {
  return logistic_normal_moments(offset, tau).first;
}

double solve_logistic_offset(double mean, double tau) {
  double lo = -60, hi = 60;
  for (int k = 0; k < 200 && hi - lo > 1e-12; ++k) {
    const double mid = (lo + hi) / 2;
    (mean_logistic_normal(mid, tau) < mean ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// ---- Observations -------------------------------------------------------------------------------

KuaiRandObservations observe_kuairand(const fs::path& data_dir, const fs::path& session_dir_in,
                                      const SessionFitOptions& o, const SessionWorldParams& base) {
  KuaiRandObservations obs;
  const fs::path session_dir = session_dir_in.empty() ? data_dir : session_dir_in;
  obs.max_return_day = base.max_return_day;
  obs.rows_per_request = o.rows_per_request > 0 ? o.rows_per_request : base.slate;
  obs.depth_hist.assign(static_cast<std::size_t>(std::max<std::int64_t>(o.depth_bins, 1)), 0);

  std::vector<LogFile> files;
  auto add = [&](KuaiRandLog l, KuaiRandRelease r, const fs::path& root, bool rate) {
    for (LogFile& f : files) {
      if (f.log == l && f.release == r && f.root == root) {
        (rate ? f.rate : f.session) = true;
        return;
      }
    }
    LogFile f{l, r, root};
    (rate ? f.rate : f.session) = true;
    files.push_back(f);
  };
  for (KuaiRandLog l : o.rate_logs) add(l, o.release, data_dir, true);
  for (KuaiRandLog l : o.session_logs) add(l, o.session_release, session_dir, false);

  std::array<std::array<std::int64_t, kBehaviours>, data::kKuaiRandTabs> pos_by_tab{};
  std::array<std::int64_t, data::kKuaiRandTabs> rows_by_tab{};
  data::KuaiRandLogSummary tabs_seen;                        // tab statistics of every file read
  std::unordered_map<std::uint64_t, std::int32_t> user_day;  // (user << 20 | day) -> rows
  struct UserRates {
    std::array<std::int32_t, data::kKuaiRandTabs> rows{}, clicks{};
    std::array<std::int64_t, kBehaviours> positives{};
    std::int64_t plays = 0;
    double f1 = 0, f2 = 0, seconds = 0;
  };
  std::unordered_map<std::int64_t, UserRates> per_user;  // rate logs
  data::IdMap logged_videos;
  std::int64_t standard_rows = 0, random_rows = 0, random_users = 0, random_items = 0;
  bool both_standard = true;
  for (KuaiRandLog l : {KuaiRandLog::standard_early, KuaiRandLog::standard_late})
    both_standard = both_standard && contains(o.session_logs, l);
  const bool pure_sessions = o.session_release == KuaiRandRelease::pure;

  for (const LogFile& f : files) {
    const std::string name = data::kuairand_log_file(f.log, f.release);
    const fs::path dir = data::locate_kuairand_dir(f.root, name);
    // Distinct users and videos (an id map each) only where they are few: the 27K logs hold 32 M
    // videos, which would cost a gigabyte for a summary line.
    data::KuaiRandLogOptions lo;
    lo.count_distinct = f.rate || f.release == KuaiRandRelease::pure;
    data::KuaiRandLogReader reader(data::kuairand_log_parts(dir, name), lo);
    data::KuaiRandLogRow row;
    while (reader.next(row)) {
      if (f.rate) {
        ++rows_by_tab[row.tab];
        for (int b = 0; b < kBehaviours; ++b) pos_by_tab[row.tab][b] += row.behaviour[b];
        UserRates& ur = per_user[row.user_id];
        ++ur.rows[row.tab];
        ur.clicks[row.tab] += row.behaviour[0];
        for (int b = 1; b < kBehaviours; ++b) ur.positives[b] += row.behaviour[b];
        if (!std::isnan(row.play_time_ms) && !std::isnan(row.duration_ms) && row.duration_ms > 0) {
          const double frac = std::min(row.play_time_ms / row.duration_ms, 1.0);
          ++obs.play_rows;
          obs.play_fraction_sum += frac;
          obs.play_fraction_sq += frac * frac;
          obs.play_seconds_sum += frac * row.duration_ms / 1000.0;
          ++ur.plays;
          ur.f1 += frac;
          ur.f2 += frac * frac;
          ur.seconds += frac * row.duration_ms / 1000.0;
          ++obs.play_fraction_hist[std::min<std::size_t>(static_cast<std::size_t>(frac * 10), 9)];
        }
      }
      if (f.session) {
        if (row.user_id >= (std::int64_t{1} << 43)) {
          throw data::DataError(reader.path(), reader.line(),
                                "user_id " + std::to_string(row.user_id) + " is too large",
                                "KuaiRand user ids are below 2^43");
        }
        ++user_day[(static_cast<std::uint64_t>(row.user_id) << 20) |
                   static_cast<std::uint64_t>(row.day & 0xFFFFF)];
      }
      if (!f.rate) continue;  // catalogue durations: from the rate logs' videos
      const auto before = logged_videos.size();
      logged_videos.intern(row.video_id);
      if (logged_videos.size() != before && !std::isnan(row.duration_ms) && row.duration_ms > 0) {
        ++obs.durations;
        const double l = std::log(row.duration_ms / 1000.0);
        obs.log_duration_sum += l;
        obs.log_duration_sq += l * l;
      }
    }
    const data::KuaiRandLogSummary& s = reader.summary();
    obs.reports.push_back(s.report());
    for (int k = 0; k < data::kKuaiRandTabs; ++k) {
      tabs_seen.tab_rows[k] += s.tab_rows[k];
      tabs_seen.tab_timed_rows[k] += s.tab_timed_rows[k];
      tabs_seen.tab_click_is_valid_play[k] += s.tab_click_is_valid_play[k];
    }
    if (f.session && f.log != KuaiRandLog::random) standard_rows += s.rows;
    if (f.log == KuaiRandLog::random && f.release == KuaiRandRelease::pure)
      random_rows = s.rows, random_users = s.users, random_items = s.items;
  }
  if (pure_sessions && both_standard) {
    const std::string w = data::kuairand_count_mismatch(
        {standard_rows, 0, 0}, {data::kuairand_pure_standard_counts().rows, 0, 0},
        "KuaiRand-Pure standard logs (rows of both files)");
    if (!w.empty()) obs.warnings.push_back(w);
  }
  if (random_rows > 0 && o.release == KuaiRandRelease::pure) {
    const std::string w = data::kuairand_count_mismatch({random_rows, random_users, random_items},
                                                        data::kuairand_pure_random_counts(),
                                                        "KuaiRand-Pure random log");
    if (!w.empty()) obs.warnings.push_back(w);
  }

  // Base rates; is_click by what it means in each tab.
  obs.tabs = data::infer_tab_semantics(tabs_seen, o.valid_play_agreement);
  {
    // The maintainers: the most frequent tab is the single-column feed. Say so when the rule
    // disagrees (e.g. durations in the log differ from those the app's rule used).
    int top = 0;
    for (int k = 1; k < data::kKuaiRandTabs; ++k)
      if (tabs_seen.tab_rows[k] > tabs_seen.tab_rows[top]) top = k;
    if (tabs_seen.tab_rows[top] > 0 && obs.tabs[top] != data::ClickMeaning::valid_play) {
      const double agree = tabs_seen.tab_timed_rows[top]
                               ? static_cast<double>(tabs_seen.tab_click_is_valid_play[top]) /
                                     static_cast<double>(tabs_seen.tab_timed_rows[top])
                               : 0.0;
      obs.warnings.push_back(
          "the most frequent tab (" + std::to_string(top) +
          ", said to be the single-column feed) has is_click = valid play on only " +
          std::to_string(100.0 * agree).substr(0, 5) +
          " % of its rows, so it counts as a click tab; lower valid_play_agreement if that is "
          "wrong");
    }
  }
  for (int k = 0; k < data::kKuaiRandTabs; ++k) {
    for (int b = 1; b < kBehaviours; ++b) {
      obs.rate_rows[b] += rows_by_tab[k];
      obs.rate_positives[b] += pos_by_tab[k][b];
    }
    if (obs.tabs[k] == data::ClickMeaning::valid_play || obs.tabs[k] == data::ClickMeaning::click) {
      const int m = obs.tabs[k] == data::ClickMeaning::click ? 1 : 0;
      obs.click_meaning_rows[m] += rows_by_tab[k];
      obs.click_meaning_positives[m] += pos_by_tab[k][0];
    }
  }
  std::int64_t click_rows = 0, click_pos = 0;
  for (int k = 0; k < data::kKuaiRandTabs; ++k) {
    const bool use = o.click_rows == ClickRows::all || obs.tabs[k] == data::ClickMeaning::click;
    if (use) click_rows += rows_by_tab[k], click_pos += pos_by_tab[k][0];
  }
  if (o.click_rows == ClickRows::click_tabs && click_rows == 0) {
    obs.click_from_all_rows = true;
    for (int k = 0; k < data::kKuaiRandTabs; ++k)
      click_rows += rows_by_tab[k], click_pos += pos_by_tab[k][0];
    obs.warnings.push_back(
        "no tab has is_click as a click (every tab's is_click follows the valid-play rule): the "
        "click rate uses all rows");
  }
  obs.rate_rows[0] = click_rows;
  obs.rate_positives[0] = click_pos;
  // The rates and play moments the fit matches: per row, or per user and then over users.
  const bool all_click_tabs = o.click_rows == ClickRows::all || obs.click_from_all_rows;
  if (o.rate_weighting == RateWeighting::row) {
    for (int b = 0; b < kBehaviours; ++b)
      obs.rate[b] = obs.rate_rows[b] ? static_cast<double>(obs.rate_positives[b]) /
                                           static_cast<double>(obs.rate_rows[b])
                                     : 0.0;
    if (obs.play_rows > 0) {
      const auto n = static_cast<double>(obs.play_rows);
      obs.play_mean = obs.play_fraction_sum / n;
      obs.play_second_moment = obs.play_fraction_sq / n;
      obs.play_seconds = obs.play_seconds_sum / n;
    }
  } else {
    std::array<double, kBehaviours> sum{}, users{};
    double plays = 0;
    for (const auto& [id, ur] : per_user) {
      std::int64_t rows = 0, crow = 0, cpos = 0;
      for (int k = 0; k < data::kKuaiRandTabs; ++k) {
        rows += ur.rows[k];
        if (all_click_tabs || obs.tabs[k] == data::ClickMeaning::click)
          crow += ur.rows[k], cpos += ur.clicks[k];
      }
      if (crow > 0) sum[0] += static_cast<double>(cpos) / static_cast<double>(crow), users[0] += 1;
      for (int b = 1; b < kBehaviours && rows > 0; ++b)
        sum[b] += static_cast<double>(ur.positives[b]) / static_cast<double>(rows), users[b] += 1;
      if (ur.plays > 0) {
        const auto n = static_cast<double>(ur.plays);
        obs.play_mean += ur.f1 / n;
        obs.play_second_moment += ur.f2 / n;
        obs.play_seconds += ur.seconds / n;
        plays += 1;
      }
    }
    for (int b = 0; b < kBehaviours; ++b) obs.rate[b] = users[b] > 0 ? sum[b] / users[b] : 0.0;
    if (plays > 0) {
      obs.play_mean /= plays;
      obs.play_second_moment /= plays;
      obs.play_seconds /= plays;
    }
  }

  // Sessions and gaps.
  std::vector<std::pair<std::uint64_t, std::int32_t>> days(user_day.begin(), user_day.end());
  user_day.clear();
  std::sort(days.begin(), days.end());
  const auto bins = static_cast<std::int64_t>(obs.depth_hist.size());
  double requests_sum = 0;
  std::vector<std::int64_t> session_user_ids;
  std::int64_t last_day = 0;
  for (const auto& d : days)
    last_day = std::max(last_day, static_cast<std::int64_t>(d.first & 0xFFFFF));
  obs.depth_share.assign(static_cast<std::size_t>(bins), 0.0);
  double users_weight = 0;
  for (std::size_t i = 0; i < days.size();) {
    const std::uint64_t user = days[i].first >> 20;
    session_user_ids.push_back(static_cast<std::int64_t>(user));
    KuaiRandObservations::UserGaps g;
    std::int64_t prev = -1;
    const std::size_t first = i;
    std::size_t end = i;
    while (end < days.size() && (days[end].first >> 20) == user) ++end;
    const double weight =
        o.rate_weighting == RateWeighting::user ? 1.0 / static_cast<double>(end - first) : 1.0;
    users_weight += weight * static_cast<double>(end - first);
    for (; i < end; ++i) {
      const auto day = static_cast<std::int64_t>(days[i].first & 0xFFFFF);
      const std::int64_t req = (days[i].second + obs.rows_per_request - 1) / obs.rows_per_request;
      ++obs.depth_hist[static_cast<std::size_t>(std::min(req, bins) - 1)];
      obs.depth_share[static_cast<std::size_t>(std::min(req, bins) - 1)] += weight;
      requests_sum += static_cast<double>(req);
      obs.session_rows += days[i].second;
      ++obs.sessions;
      if (prev >= 0) {
        const std::int64_t gap = day - prev;
        if (static_cast<std::int64_t>(obs.gap_hist.size()) < gap) obs.gap_hist.resize(gap, 0);
        ++obs.gap_hist[static_cast<std::size_t>(gap - 1)];
        if (gap <= obs.max_return_day) {
          ++g.count;
          g.sum_minus_one += gap - 1;
        } else {
          ++obs.gaps_beyond;
        }
      }
      prev = day;
    }
    if (o.censor_window && last_day - prev < obs.max_return_day) g.censored = last_day - prev;
    obs.user_gaps.push_back(g);
  }
  for (double& d : obs.depth_share) d = users_weight > 0 ? d / users_weight : 0.0;
  obs.session_users = static_cast<std::int64_t>(session_user_ids.size());
  obs.mean_requests = obs.sessions ? requests_sum / static_cast<double>(obs.sessions) : 0;

  // Groups from user_features.
  if (o.use_user_features) {
    const std::string name = data::kuairand_user_features_file(o.release);
    fs::path dir;
    try {
      dir = data::locate_kuairand_dir(data_dir, name);
    } catch (const data::DataError&) {
      obs.warnings.push_back("no " + name + ": one user group");
    }
    if (!dir.empty()) {
      const data::KuaiRandUserFeatures u = data::load_kuairand_user_features(dir / name);
      obs.reports.push_back(u.report());
      obs.group_names = u.active_degree_names;
      obs.group_users.assign(obs.group_names.size(), 0);
      const std::int32_t unknown = 3;  // "UNKNOWN" in kuairand_active_degrees()
      for (std::size_t k = 0; k < session_user_ids.size(); ++k) {
        std::int32_t code = unknown;
        if (auto row = u.row_of(session_user_ids[k])) {
          if (u.active_degree[*row] >= 0) code = u.active_degree[*row];
        } else {
          ++obs.users_without_features;
        }
        obs.user_gaps[k].group = code;
        ++obs.group_users[static_cast<std::size_t>(code)];
      }
      if (obs.users_without_features > 0)
        obs.warnings.push_back(std::to_string(obs.users_without_features) +
                               " logged users are not in " + name + " (counted as UNKNOWN)");
    }
  }
  // Catalogue: durations and first-tag groups from video_features_basic.
  if (o.use_video_features) {
    const std::string name = data::kuairand_video_features_file(o.release);
    fs::path dir;
    try {
      dir = data::locate_kuairand_dir(data_dir, name);
    } catch (const data::DataError&) {
      obs.warnings.push_back("no " + name + ": durations of the logged videos");
    }
    if (!dir.empty()) {
      const data::KuaiRandVideoFeatures v = data::load_kuairand_video_features(dir / name);
      obs.reports.push_back(v.report());
      obs.catalogue_videos = v.rows;
      std::int64_t n = 0;
      double s = 0, s2 = 0;
      std::vector<std::int32_t> first;
      for (std::size_t i = 0; i < v.video_duration.size(); ++i) {
        first.push_back(v.first_tag(i));
        if (!(v.video_duration[i] > 0)) continue;
        const double l = std::log(v.video_duration[i] / 1000.0);
        ++n, s += l, s2 += l * l;
      }
      if (n >= 2) obs.durations = n, obs.log_duration_sum = s, obs.log_duration_sq = s2;
      std::sort(first.begin(), first.end());
      obs.item_groups = std::unique(first.begin(), first.end()) - first.begin();
    }
  }
  return obs;
}

// ---- The fit ------------------------------------------------------------------------------------

namespace {

struct Request {
  double delta;   // satisfaction change of the request (−fatigue + gains)
  double reward;  // mean positive behaviours per item (the last_reward signal)
};

// Sessions simulated with common random numbers: session j's start and its per-request draws
// are functions of (seed, j, request number) only, so nearby parameters see the same numbers.
struct SessionSimulator {
  const std::vector<Request>* pool;
  std::uint64_t seed;
  std::int64_t sessions;
  std::int64_t max_requests;
  std::vector<double> eta;  // per session

  std::int64_t per_user;  // requests of one simulated user in the pool (consecutive)

  SessionSimulator(const std::vector<Request>& p, std::int64_t r, std::uint64_t s, std::int64_t m,
                   std::int64_t cap)
      : pool(&p), seed(s), sessions(m), max_requests(cap), per_user(r) {
    for (std::int64_t j = 0; j < m; ++j) {
      const double u1 = counter_uniform(seed, static_cast<std::uint64_t>(j), 0, 7);
      const double u2 = counter_uniform(seed, static_cast<std::uint64_t>(j), 0, 8);
      eta.push_back(std::sqrt(-2 * std::log1p(-u1)) * std::cos(6.283185307179586 * u2));
    }
  }

  struct Result {
    std::vector<double> hist;  // shares over 1..bins
    double mean_requests = 0;
    double mean_signal_satisfaction = 0;
    double mean_signal_reward = 0;
    double var_signal_satisfaction = 0;  // over sessions
    double var_signal_reward = 0;
  };

  Result run(double init, double sd, double hazard, std::int64_t bins) const {
    Result r;
    r.hist.assign(static_cast<std::size_t>(bins), 0.0);
    const auto users = static_cast<std::int64_t>(pool->size()) / per_user;
    const auto R = static_cast<double>(per_user);
    for (std::int64_t j = 0; j < sessions; ++j) {
      double s = init * std::exp(sd * eta[j] - sd * sd / 2);
      double sum_s = 0, last = 0;
      std::int64_t n = 0;
      for (;;) {
        ++n;
        const auto jj = static_cast<std::uint64_t>(j), nn = static_cast<std::uint64_t>(n);
        const auto k =
            std::min(static_cast<std::int64_t>(counter_uniform(seed, jj, nn, 1) * R), per_user - 1);
        const Request& q = (*pool)[static_cast<std::size_t>((j % users) * per_user + k)];
        s += q.delta;
        sum_s += s;
        last = q.reward;
        if (s <= 0 || counter_uniform(seed, jj, nn, 2) < hazard || n >= max_requests) break;
      }
      r.hist[static_cast<std::size_t>(std::min(n, bins) - 1)] += 1;
      r.mean_requests += static_cast<double>(n);
      const double sig = sum_s / static_cast<double>(n);
      r.mean_signal_satisfaction += sig;
      r.mean_signal_reward += last;
      r.var_signal_satisfaction += sig * sig;
      r.var_signal_reward += last * last;
    }
    const auto m = static_cast<double>(sessions);
    for (double& h : r.hist) h /= m;
    r.mean_requests /= m;
    r.mean_signal_satisfaction /= m;
    r.mean_signal_reward /= m;
    r.var_signal_satisfaction =
        std::max(0.0, r.var_signal_satisfaction / m -
                          r.mean_signal_satisfaction * r.mean_signal_satisfaction);
    r.var_signal_reward =
        std::max(0.0, r.var_signal_reward / m - r.mean_signal_reward * r.mean_signal_reward);
    return r;
  }
};

double cdf_loss(const std::vector<double>& obs, const std::vector<double>& fit) {
  double a = 0, b = 0, loss = 0;
  for (std::size_t n = 0; n + 1 < obs.size(); ++n) {
    a += obs[n], b += fit[n];
    loss += (a - b) * (a - b);
  }
  return loss;
}

// log of the truncated-geometric likelihood of `count` gaps with Σ(gap − 1) = sum at p.
// With censored = c > 0, times P(gap > c) = ((1 − p)^c − (1 − p)^D) / (1 − (1 − p)^D).
double log_gaps(double p, std::int64_t count, std::int64_t sum, std::int64_t censored,
                std::int64_t D) {
  p = std::clamp(p, 0.001, 0.999);
  const double c = static_cast<double>(count);
  const double norm = std::log1p(-std::pow(1 - p, static_cast<double>(D)));
  double l = c * std::log(p) + static_cast<double>(sum) * std::log1p(-p) - c * norm;
  if (censored > 0) {
    const double tail =
        std::pow(1 - p, static_cast<double>(censored)) - std::pow(1 - p, static_cast<double>(D));
    l += std::log(std::max(tail, 1e-300)) - norm;
  }
  return l;
}

struct GapClass {
  std::int32_t group;
  std::int64_t count, sum, censored;
  double users;
};

const NormalGrid& coarse_grid() {
  static const NormalGrid g(81, 5.0);
  return g;
}

// Σ over classes of users · log E_z L(clip(mu_g + sd z)).
double gap_loglik(const std::vector<GapClass>& classes, const std::vector<double>& mu, double sd,
                  std::int64_t D) {
  const NormalGrid& g = coarse_grid();
  double total = 0;
  std::vector<double> l(g.z.size());
  for (const GapClass& c : classes) {
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < g.z.size(); ++k) {
      l[k] = log_gaps(mu[static_cast<std::size_t>(c.group)] + sd * g.z[k], c.count, c.sum,
                      c.censored, D);
      mx = std::max(mx, l[k]);
    }
    double s = 0;
    for (std::size_t k = 0; k < g.z.size(); ++k) s += g.w[k] * std::exp(l[k] - mx);
    total += c.users * (mx + std::log(s));
  }
  return total;
}

}  // namespace

SessionFit fit_session_world(const KuaiRandObservations& obs, const SessionWorldParams& base,
                             const SessionFitOptions& o, Rng& rng) {
  SessionFit fit;
  SessionWorldParams& p = fit.params;
  p = base;
  fit.warnings = obs.warnings;
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_01<double> unif;
  // The world's affinities s = θ_u·x_i over user–item pairs (θ ~ N(0, I_dim), x = (m + z)/√dim,
  // m ~ N(0, I), z ~ N(0, item_spread² I)), sampled once with a paired N(0, 1) noise draw: the
  // expectations below average over this sample rather than a normal approximation (θ·x is a
  // sum of products, with heavier tails than a normal for small dim).
  const std::size_t samples = 8192;
  std::vector<double> aff(samples), eps(samples);
  {
    const auto dim = static_cast<int>(p.dim);
    const double inv = 1.0 / std::sqrt(static_cast<double>(dim));
    for (std::size_t k = 0; k < samples; ++k) {
      double v = 0;
      for (int d = 0; d < dim; ++d) v += normal(rng) * (normal(rng) + p.item_spread * normal(rng));
      aff[k] = v * inv;
      eps[k] = normal(rng);
    }
  }
  auto moments = [&](double offset, double a, double noise) {
    double m1 = 0, m2 = 0;
    for (std::size_t k = 0; k < samples; ++k) {
      const double v = sigmoid(offset + a * aff[k] + noise * eps[k]);
      m1 += v, m2 += v * v;
    }
    return std::pair{m1 / samples, m2 / samples};
  };
  auto solve = [&](double mean, double a, double noise) {
    double lo = -60, hi = 60;
    for (int k = 0; k < 60 && hi - lo > 1e-10; ++k) {
      const double mid = (lo + hi) / 2;
      (moments(mid, a, noise).first < mean ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
  };

  // Base rates.
  for (int b = 0; b < kBehaviours; ++b) {
    const auto n = static_cast<double>(obs.rate_rows[b]);
    const std::string name(behaviour_names()[b]);
    if (n == 0) {
      fit.warnings.push_back("no rows for the " + name + " rate: logit_offset kept");
      fit.observed_rate[b] = std::nan("");
      fit.fitted_rate[b] = std::nan("");
      continue;
    }
    double r = obs.rate[b];
    fit.observed_rate[b] = r;
    if (obs.rate_positives[b] == 0 || obs.rate_positives[b] == obs.rate_rows[b]) {
      fit.warnings.push_back("the " + name + " rate is " + (r == 0 ? "0" : "1") +
                             " in the data: fitted to half an event instead");
      r = r == 0 ? 0.5 / n : 1 - 0.5 / n;
    }
    p.logit_offset[b] = solve(r, p.affinity[b], p.item_effect_sd);
    fit.fitted_rate[b] = moments(p.logit_offset[b], p.affinity[b], p.item_effect_sd).first;
  }

  // Durations.
  if (obs.durations >= 2) {
    const auto n = static_cast<double>(obs.durations);
    p.duration_log_mean = obs.log_duration_sum / n;
    p.duration_log_sd = std::sqrt(std::max(
        0.0, (obs.log_duration_sq - n * p.duration_log_mean * p.duration_log_mean) / (n - 1)));
  } else {
    fit.warnings.push_back("fewer than 2 video durations: duration_log_mean/sd kept");
  }

  // Watched fraction: match its mean and variance.
  if (obs.play_rows >= 2) {
    const auto n = static_cast<double>(obs.play_rows);
    const double m = obs.play_mean;
    const double v = std::max(0.0, obs.play_second_moment - m * m);
    const double mc = std::clamp(m, 1e-9, 1 - 1e-9);
    auto var_at = [&](double noise) {
      const auto [m1, m2] = moments(solve(mc, p.play_affinity, noise), p.play_affinity, noise);
      return m2 - m1 * m1;
    };
    double noise = 0;
    if (v <= var_at(0)) {
      fit.warnings.push_back(
          "the watched fraction varies less than play_affinity alone implies: play_noise = 0");
    } else {
      double lo = 0, hi = 30;
      if (var_at(hi) < v) {
        fit.warnings.push_back(
            "the watched fraction's variance is near its maximum: play noise capped");
        lo = hi;
      }
      for (int k = 0; k < 40 && hi - lo > 1e-6; ++k) {
        const double mid = (lo + hi) / 2;
        (var_at(mid) < v ? lo : hi) = mid;
      }
      noise = (lo + hi) / 2;
    }
    p.play_noise = noise;
    p.play_offset = solve(mc, p.play_affinity, noise);
    fit.observed_play_seconds = obs.play_seconds;
    for (std::int64_t h : obs.play_fraction_hist)
      fit.observed_play_fraction.push_back(static_cast<double>(h) / n);
  } else {
    fit.warnings.push_back("no play times: play_offset/play_noise kept");
    fit.observed_play_seconds = std::nan("");
    fit.observed_play_fraction.assign(10, std::nan(""));
  }

  // Simulated random exposures under the fitted responses, grouped by simulated user (θ_u fixed,
  // items at random): the requests sessions are made of. A session draws its requests from one
  // user's pool, so users who like more of the catalogue stay longer, as in the world.
  const std::int64_t per_user = 64;
  const std::int64_t sim_users =
      std::max<std::int64_t>(1, std::max<std::int64_t>(o.increment_pool, per_user) / per_user);
  std::vector<Request> pool(static_cast<std::size_t>(sim_users * per_user));
  std::array<double, kBehaviours> positives{};
  fit.fitted_play_fraction.assign(10, 0.0);
  double play_sum = 0, exposures = 0;
  {
    const auto dim = static_cast<int>(p.dim);
    const double inv = 1.0 / std::sqrt(static_cast<double>(dim));
    std::vector<double> theta(dim);
    for (std::int64_t u = 0; u < sim_users; ++u) {
      for (double& t : theta) t = normal(rng);
      for (std::int64_t r = 0; r < per_user; ++r) {
        Request& q = pool[static_cast<std::size_t>(u * per_user + r)];
        q.delta = -p.fatigue;
        double pos = 0;
        for (std::int64_t k = 0; k < p.slate; ++k) {
          double s_ui = 0;
          for (int d = 0; d < dim; ++d)
            s_ui += theta[d] * (normal(rng) + p.item_spread * normal(rng));
          s_ui *= inv;
          for (int b = 0; b < kBehaviours; ++b) {
            const double logit =
                p.logit_offset[b] + p.affinity[b] * s_ui + p.item_effect_sd * normal(rng);
            const bool y = unif(rng) < sigmoid(logit);
            positives[b] += y;
            pos += (b == kBehaviours - 1 ? -1.0 : 1.0) * y;  // hate counts against
            q.delta += y ? p.satisfaction_gain[b] : 0.0;
          }
          const double dur = std::exp(p.duration_log_mean + p.duration_log_sd * normal(rng));
          const double frac =
              sigmoid(p.play_offset + p.play_affinity * s_ui + p.play_noise * normal(rng));
          q.delta += p.play_gain * dur * frac / 60.0;
          play_sum += dur * frac;
          fit.fitted_play_fraction[std::min<std::size_t>(static_cast<std::size_t>(frac * 10), 9)] +=
              1;
          exposures += 1;
        }
        q.reward = pos / static_cast<double>(p.slate);
      }
    }
  }
  for (int b = 0; b < kBehaviours; ++b) fit.simulated_rate[b] = positives[b] / exposures;
  for (double& h : fit.fitted_play_fraction) h /= exposures;
  fit.fitted_play_seconds = play_sum / exposures;
  for (const Request& q : pool) fit.request_drift += q.delta;
  fit.request_drift /= static_cast<double>(pool.size());

  // Depth: match the CDF of requests per session.
  const auto bins = static_cast<std::int64_t>(obs.depth_hist.size());
  fit.observed_depth.assign(static_cast<std::size_t>(bins), 0.0);
  for (std::int64_t n = 0; n < bins; ++n) fit.observed_depth[n] = obs.depth_share[n];
  // Means of the two distributions compared (same weighting; the last bin counts as its n).
  for (std::int64_t n = 0; n < bins; ++n)
    fit.observed_mean_requests += static_cast<double>(n + 1) * fit.observed_depth[n];
  const std::uint64_t depth_seed = rng();
  const SessionSimulator sim(pool, per_user, depth_seed, std::max<std::int64_t>(o.fit_sessions, 1),
                             p.max_requests);
  if (obs.sessions > 0) {
    if (fit.request_drift >= 0)
      fit.warnings.push_back("a request raises satisfaction on average (drift " +
                             std::to_string(fit.request_drift) +
                             "): sessions end only by leave_hazard or max_requests; raise fatigue");
    double median = 1, acc = 0;
    for (std::int64_t n = 0; n < bins; ++n) {
      acc += fit.observed_depth[n];
      if (acc >= 0.5) {
        median = static_cast<double>(n + 1);
        break;
      }
    }
    const double drain = std::max(-fit.request_drift, 0.05);
    auto loss = [&](const std::vector<double>& x) {
      const auto r = sim.run(std::exp(x[0]), std::exp(x[1]), sigmoid(x[2]), bins);
      return cdf_loss(fit.observed_depth, r.hist);
    };
    const std::vector<double> x =
        nelder_mead(loss, {std::log(std::max(median - 0.5, 0.5) * drain), std::log(0.5), -4.0},
                    {0.5, 0.7, 1.0}, 300, 1e-10);
    p.initial_satisfaction = std::exp(x[0]);
    p.satisfaction_sd = std::min(std::exp(x[1]), 5.0);
    p.leave_hazard = sigmoid(x[2]);
  } else {
    fit.warnings.push_back("no sessions: satisfaction parameters kept");
  }
  {
    const SessionSimulator check(pool, per_user, rng(), std::max<std::int64_t>(o.fit_sessions, 1),
                                 p.max_requests);
    const auto r = check.run(p.initial_satisfaction, p.satisfaction_sd, p.leave_hazard, bins);
    fit.fitted_depth = r.hist;
    for (std::int64_t n = 0; n < bins; ++n)
      fit.fitted_mean_requests += static_cast<double>(n + 1) * fit.fitted_depth[n];
    const bool sat = p.return_signal == ReturnSignal::mean_satisfaction;
    fit.mean_signal = sat ? r.mean_signal_satisfaction : r.mean_signal_reward;
    fit.signal_sd = std::sqrt(sat ? r.var_signal_satisfaction : r.var_signal_reward);
    fit.depth_loss = cdf_loss(fit.observed_depth, fit.fitted_depth);
  }

  // Return gaps.
  const std::int64_t D = p.max_return_day;
  const bool grouped = !obs.group_names.empty();
  const std::size_t G = grouped ? obs.group_names.size() : 1;
  std::map<std::tuple<std::int32_t, std::int64_t, std::int64_t, std::int64_t>, double> counted;
  std::int64_t gap_total = 0;
  for (const auto& u : obs.user_gaps) {
    if (u.count == 0 && u.censored <= 0) continue;
    counted[{grouped ? u.group : 0, u.count, u.sum_minus_one, u.censored}] += 1;
    gap_total += u.count;
  }
  std::vector<GapClass> classes;
  for (const auto& [k, users] : counted)
    classes.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), users});
  fit.observed_return.assign(static_cast<std::size_t>(D), 0.0);
  fit.fitted_return.assign(static_cast<std::size_t>(D), 0.0);
  if (gap_total > 0) {
    std::vector<GapClass> pooled = classes;
    for (GapClass& c : pooled) c.group = 0;
    const auto xs = nelder_mead(
        [&](const std::vector<double>& x) {
          return -gap_loglik(pooled, {x[0]}, std::exp(x[1]), D);
        },
        {0.4, std::log(0.1)}, {0.1, 0.5}, 400, 1e-12);
    const double sd = std::min(std::exp(xs[1]), 5.0);
    std::vector<double> mu(G, xs[0]);
    if (grouped) {
      for (std::size_t g = 0; g < G; ++g) {
        std::vector<GapClass> mine;
        for (const GapClass& c : classes)
          if (static_cast<std::size_t>(c.group) == g) mine.push_back(c);
        if (mine.empty()) continue;
        for (GapClass& c : mine) c.group = 0;
        mu[g] = golden_max([&](double m) { return gap_loglik(mine, {m}, sd, D); }, -1.0, 2.0, 80);
      }
    }
    std::vector<double> share(G, 1.0);
    if (grouped) {
      double total = 0;
      for (std::int64_t n : obs.group_users) total += static_cast<double>(n);
      for (std::size_t g = 0; g < G; ++g)
        share[g] = total > 0 ? static_cast<double>(obs.group_users[g]) / total : 1.0 / G;
    }
    double mean_mu = 0;
    for (std::size_t g = 0; g < G; ++g) mean_mu += share[g] * mu[g];
    // The return probability varies between gaps by κ·signal too (sessions differ in
    // satisfaction); the fitted spread holds both, so the simulated sessions' share is taken out
    // (to first order: variances add).
    p.personal_sd = std::sqrt(std::max(0.0, sd * sd - std::pow(p.kappa * fit.signal_sd, 2)));
    fit.return_spread = sd;
    p.return_bias = mean_mu - p.kappa * fit.mean_signal;
    if (grouped) {
      p.group_return.assign(G, 0.0);
      for (std::size_t g = 0; g < G; ++g) p.group_return[g] = mu[g] - mean_mu;
      for (std::size_t g = 0; g < G; ++g)
        if (obs.group_users[g] == 0) p.group_return[g] = 0;  // no users: no information
    } else {
      p.group_return.clear();
    }
    // Observed and posterior-predictive gap distributions over 1..D.
    std::int64_t within = 0;
    for (std::int64_t d = 1; d <= D && d <= static_cast<std::int64_t>(obs.gap_hist.size()); ++d)
      within += obs.gap_hist[d - 1];
    for (std::int64_t d = 1; d <= D && d <= static_cast<std::int64_t>(obs.gap_hist.size()); ++d)
      fit.observed_return[d - 1] = static_cast<double>(obs.gap_hist[d - 1]) / within;
    const NormalGrid& grid = coarse_grid();
    std::vector<double> post(grid.z.size());
    for (const GapClass& c : classes) {
      const double m = mu[grouped ? static_cast<std::size_t>(c.group) : 0];
      double mx = -std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < grid.z.size(); ++k) {
        post[k] = log_gaps(m + sd * grid.z[k], c.count, c.sum, c.censored, D);
        mx = std::max(mx, post[k]);
      }
      double z = 0;
      for (std::size_t k = 0; k < grid.z.size(); ++k)
        z += (post[k] = grid.w[k] * std::exp(post[k] - mx));
      for (std::size_t k = 0; k < grid.z.size(); ++k) {
        const double q = std::clamp(m + sd * grid.z[k], 0.001, 0.999);
        const double norm = 1 - std::pow(1 - q, static_cast<double>(D));
        for (std::int64_t d = 1; d <= D; ++d)
          fit.fitted_return[d - 1] += c.users * static_cast<double>(c.count) * post[k] / z *
                                      std::pow(1 - q, static_cast<double>(d - 1)) * q / norm;
      }
    }
    for (double& f : fit.fitted_return) f /= static_cast<double>(gap_total);
    for (std::int64_t d = 1; d <= D; ++d) {
      fit.observed_mean_return += static_cast<double>(d) * fit.observed_return[d - 1];
      fit.fitted_mean_return += static_cast<double>(d) * fit.fitted_return[d - 1];
    }
    if (obs.gaps_beyond > 0)
      fit.warnings.push_back(std::to_string(obs.gaps_beyond) +
                             " return gaps exceed max_return_day = " + std::to_string(D) +
                             " and are left out of the return fit");
  } else {
    fit.warnings.push_back("no user has two active days: return parameters kept");
    for (double& f : fit.observed_return) f = std::nan("");
  }

  // Groups and catalogue.
  if (grouped) {
    double total = 0;
    for (std::int64_t n : obs.group_users) total += static_cast<double>(n);
    if (total > 0) {
      p.user_groups = static_cast<std::int64_t>(G);
      p.user_group_shares.assign(G, 0.0);
      for (std::size_t g = 0; g < G; ++g)
        p.user_group_shares[g] = static_cast<double>(obs.group_users[g]) / total;
      // Exact sum of 1 for the parameter check: the rounding goes to the largest share.
      const double s = std::accumulate(p.user_group_shares.begin(), p.user_group_shares.end(), 0.0);
      auto big = std::max_element(p.user_group_shares.begin(), p.user_group_shares.end());
      *big += 1.0 - s;
      if (p.group_return.size() != G) p.group_return.clear();
    }
  }
  if (obs.item_groups > 0) p.item_groups = obs.item_groups;
  if (std::string e = check_session_world_params(p); !e.empty())
    throw data::DataError("calibration", "the fitted parameters are inconsistent: " + e,
                          "report this with the data that produced it");
  return fit;
}

}  // namespace stagesim
