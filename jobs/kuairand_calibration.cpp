// The `kuairand_calibration` job: fits the session world's parameters
// (environments/session_world_params.hpp) to KuaiRand logs — per-behaviour base rates, play
// time, the distribution of requests per session (session = user-day) and of return days (gaps
// between a user's consecutive active dates) — writes the fit as a parameter file the world
// loads (`params_file`), and records observed vs fitted distributions as result arrays
// (plots/kuairand_calibration.py). How each field is fitted: environments/session_world_fit.hpp.
//
// Data: `data_dir` (resolved against --data-dir), else --data-dir itself, else the KuaiRand-shaped
// fixture tests/fixtures/kuairand_shaped (generated from known parameters; see
// docs/kuairand-calibration.md). The logs are read once per process, when the file is
// parsed (so `check` reports a malformed file), and the load summaries printed once.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "environments/data/data_error.hpp"
#include "environments/data_source.hpp"
#include "environments/session_world_fit.hpp"
#include "sim/errors.hpp"
#include "sim/job.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

namespace fs = std::filesystem;

const EnumTable<ClickRows> kClickRows{{"click_tabs", ClickRows::click_tabs},
                                      {"all", ClickRows::all}};
const EnumTable<RateWeighting> kWeightings{{"user", RateWeighting::user},
                                           {"row", RateWeighting::row}};
const char* const kDefaultData = "tests/fixtures/kuairand_shaped";

struct CalibrationOpts {
  std::string data_dir;
  std::string release = "pure";
  std::string session_data_dir;
  std::string session_release = "pure";
  std::vector<std::string> rate_logs = {"random"};
  std::vector<std::string> session_logs = {"standard_early", "standard_late", "random"};
  ClickRows click_rows = ClickRows::click_tabs;
  RateWeighting rate_weighting = RateWeighting::user;
  double valid_play_agreement = 0.98;
  int64_t rows_per_request = 0;
  int64_t depth_bins = 40;
  int64_t fit_sessions = 20000;
  int64_t increment_pool = 20000;
  bool user_features = true;
  bool video_features = true;
  std::string base_params;
  std::string params_out = "kuairand_session_fit.toml";
};

data::KuaiRandLog parse_log(const std::string& s) {
  if (s == "standard_early") return data::KuaiRandLog::standard_early;
  if (s == "standard_late") return data::KuaiRandLog::standard_late;
  return data::KuaiRandLog::random;
}

Allowed<std::vector<std::string>> log_names() {
  Allowed<std::vector<std::string>> a;
  a.text_override = "a non-empty list of standard_early, standard_late, random";
  a.check = [](const std::vector<std::string>& v) -> std::string {
    if (v.empty()) return "a non-empty list of standard_early, standard_late, random";
    for (const std::string& s : v)
      if (s != "standard_early" && s != "standard_late" && s != "random")
        return "standard_early, standard_late or random (not '" + s + "')";
    return "";
  };
  return a;
}

Allowed<std::string> release_names() {
  Allowed<std::string> a;
  a.text_override = "pure, 1k or 27k";
  a.check = [](const std::string& s) -> std::string {
    return s == "pure" || s == "1k" || s == "27k" ? "" : "pure, 1k or 27k";
  };
  return a;
}

OptionGroup<CalibrationOpts> options() {
  using O = CalibrationOpts;
  OptionGroup<O> g;
  g.add("data_dir", &O::data_dir,
        "directory of the KuaiRand CSVs (relative to --data-dir); \"\" = --data-dir, or the "
        "KuaiRand-shaped fixture tests/fixtures/kuairand_shaped without it")
      .add("release", &O::release, "release of the rate logs and feature files", release_names())
      .add("session_data_dir", &O::session_data_dir,
           "directory of the session logs (\"\" = data_dir); e.g. KuaiRand-27K, whose logs are "
           "complete (Pure keeps only the 7,583 candidate videos' rows)")
      .add("session_release", &O::session_release, "release of the session logs", release_names())
      .add("rate_logs", &O::rate_logs,
           "logs the base rates and play time are measured on (random = random exposure)",
           log_names())
      .add("session_logs", &O::session_logs,
           "logs whose rows make the sessions (user-days) and return gaps", log_names())
      .add("click_rows", &O::click_rows,
           "rows the click rate counts: click_tabs (tabs where is_click is a click, not a valid "
           "play) or all (as logged, KuaiSim's reading)",
           kClickRows)
      .add("rate_weighting", &O::rate_weighting,
           "user (rates and play moments per user, then averaged over users: keen users' longer "
           "sessions do not dominate) or row (over rows as logged)",
           kWeightings)
      .add("valid_play_agreement", &O::valid_play_agreement,
           "a tab is the single-column feed (is_click = valid play, not a click) when is_click "
           "follows the valid-play rule on at least this share of its rows",
           between<double>(0, 1))
      .add("rows_per_request", &O::rows_per_request,
           "log rows per request: requests per session = ceil(rows / this); 0 = the slate",
           between<int64_t>(0, 1000000))
      .add("depth_bins", &O::depth_bins,
           "requests per session recorded 1..depth_bins (the last bin holds the rest)",
           between<int64_t>(2, 100000))
      .add("fit_sessions", &O::fit_sessions, "simulated sessions per evaluation of the depth fit",
           between<int64_t>(100, 10000000))
      .add("increment_pool", &O::increment_pool,
           "simulated requests (random exposures) the session increments are drawn from",
           between<int64_t>(100, 10000000))
      .add("user_features", &O::user_features,
           "fit user groups (user_active_degree) from user_features when the file is there")
      .add("video_features", &O::video_features,
           "take durations and first-tag groups from video_features_basic when it is there")
      .add("base_params", &O::base_params,
           "parameter file ([session_world]) whose values the fit keeps where it does not fit "
           "(\"\" = a [world] of type kuairand_session, else on the shipped fixture its "
           "session_world.toml, else the defaults)")
      .add("params_out", &O::params_out,
           "where replication 0 writes the fit ([session_world] + [fit]); \"\" = nowhere");
  return g;
}

struct Calibration {
  KuaiRandObservations obs;
  SessionFitOptions fit;
  SessionWorldParams base;
  std::string source;
};

enum Output : std::size_t {
  kObservedRate,
  kFittedRate,
  kSimulatedRate,
  kLogitOffset,
  kClickByMeaning,
  kObservedDepth,
  kFittedDepth,
  kObservedReturn,
  kFittedReturn,
  kObservedPlay,
  kFittedPlay,
  kGroupShare,
  kGroupReturn,
  kScalars  // first scalar output
};

const char* const kScalarNames[][3] = {
    {"observed_play_seconds", "s", "mean watched time per exposure in the rate logs"},
    {"fitted_play_seconds", "s", "mean watched time per simulated exposure"},
    {"observed_mean_requests", "requests",
     "mean of observed_depth (per user with rate_weighting = user; last bin counted as its n)"},
    {"fitted_mean_requests", "requests", "mean of fitted_depth (same)"},
    {"observed_mean_return_day", "days", "mean return gap (gaps <= max_return_day)"},
    {"fitted_mean_return_day", "days", "mean return gap under the fit"},
    {"sessions", "sessions", "user-days in the session logs"},
    {"session_users", "users", "users in the session logs"},
    {"session_rows", "rows", "rows of the session logs"},
    {"gaps_beyond", "gaps", "return gaps longer than max_return_day (not fitted)"},
    {"request_drift", "satisfaction", "mean satisfaction change per request (< 0 ends sessions)"},
    {"depth_loss", "1", "sum of squared differences of the depth CDFs"},
    {"initial_satisfaction", "satisfaction", "fitted initial_satisfaction"},
    {"satisfaction_sd", "1", "fitted satisfaction_sd"},
    {"leave_hazard", "probability", "fitted leave_hazard"},
    {"return_bias", "probability", "fitted return_bias"},
    {"personal_sd", "probability", "fitted personal_sd"},
    {"play_offset", "logit", "fitted play_offset"},
    {"play_noise", "logit", "fitted play_noise"},
    {"duration_log_mean", "log s", "fitted duration_log_mean"},
    {"duration_log_sd", "log s", "fitted duration_log_sd"},
    {"mean_signal", "satisfaction", "E[signal] of the simulated sessions (enters return_bias)"},
};
constexpr std::size_t kScalarCount = sizeof(kScalarNames) / sizeof(kScalarNames[0]);

toml::array to_array(const std::vector<double>& v) {
  toml::array a;
  for (double x : v) {
    char buf[32];  // 6 significant digits: a readable file
    std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(x) ? x : 0.0);
    a.push_back(std::stod(buf));
  }
  return a;
}
template <std::size_t N>
toml::array to_array(const std::array<double, N>& v) {
  return to_array(std::vector<double>(v.begin(), v.end()));
}

class CalibrationJob final : public Job {
 public:
  CalibrationJob(const CalibrationOpts& o, std::shared_ptr<const Calibration> c,
                 std::uint64_t scope)
      : o_(o), c_(std::move(c)), scope_(scope) {}

  void run(JobContext& ctx) override {
    // Keyed by what the fit depends on, not by params_out: where the fit is written does not
    // change it.
    const StreamKey key{ctx.key().master_seed, scope_, ctx.key().replication};
    Rng rng = key.stream("calibration");
    const SessionFit f = fit_session_world(c_->obs, c_->base, c_->fit, rng);
    auto copy = [&](std::size_t out, const auto& v) {
      std::span<double> s = ctx.output(out);
      for (std::size_t i = 0; i < s.size() && i < v.size(); ++i) s[i] = v[i];
    };
    copy(kObservedRate, f.observed_rate);
    copy(kFittedRate, f.fitted_rate);
    copy(kSimulatedRate, f.simulated_rate);
    copy(kLogitOffset, f.params.logit_offset);
    std::vector<double> meaning(2, std::nan(""));
    for (int m = 0; m < 2; ++m)
      if (c_->obs.click_meaning_rows[m] > 0)
        meaning[m] = static_cast<double>(c_->obs.click_meaning_positives[m]) /
                     static_cast<double>(c_->obs.click_meaning_rows[m]);
    copy(kClickByMeaning, meaning);
    copy(kObservedDepth, f.observed_depth);
    copy(kFittedDepth, f.fitted_depth);
    copy(kObservedReturn, f.observed_return);
    copy(kFittedReturn, f.fitted_return);
    copy(kObservedPlay, f.observed_play_fraction);
    copy(kFittedPlay, f.fitted_play_fraction);
    copy(kGroupShare, f.params.user_group_shares);
    copy(kGroupReturn, f.params.group_return);
    const KuaiRandObservations& obs = c_->obs;
    const double scalars[] = {f.observed_play_seconds,
                              f.fitted_play_seconds,
                              f.observed_mean_requests,
                              f.fitted_mean_requests,
                              f.observed_mean_return,
                              f.fitted_mean_return,
                              static_cast<double>(obs.sessions),
                              static_cast<double>(obs.session_users),
                              static_cast<double>(obs.session_rows),
                              static_cast<double>(obs.gaps_beyond),
                              f.request_drift,
                              f.depth_loss,
                              f.params.initial_satisfaction,
                              f.params.satisfaction_sd,
                              f.params.leave_hazard,
                              f.params.return_bias,
                              f.params.personal_sd,
                              f.params.play_offset,
                              f.params.play_noise,
                              f.params.duration_log_mean,
                              f.params.duration_log_sd,
                              f.mean_signal};
    static_assert(sizeof(scalars) / sizeof(double) == kScalarCount);
    for (std::size_t i = 0; i < kScalarCount; ++i) ctx.output(kScalars + i)[0] = scalars[i];
    if (ctx.replication() == 0 && !o_.params_out.empty()) write(f);
    ctx.advance(1);
  }

 private:
  void write(const SessionFit& f) const {
    toml::table fit;
    fit.insert("data", c_->source);
    fit.insert("release", o_.release);
    fit.insert("session_release", o_.session_release);
    fit.insert("sessions", c_->obs.sessions);
    fit.insert("session_users", c_->obs.session_users);
    fit.insert("session_rows", c_->obs.session_rows);
    fit.insert("rows_per_request", c_->obs.rows_per_request);
    fit.insert("observed_rate", to_array(f.observed_rate));
    fit.insert("fitted_rate", to_array(f.fitted_rate));
    fit.insert("simulated_rate", to_array(f.simulated_rate));
    fit.insert("observed_depth", to_array(f.observed_depth));
    fit.insert("fitted_depth", to_array(f.fitted_depth));
    fit.insert("observed_return_day", to_array(f.observed_return));
    fit.insert("fitted_return_day", to_array(f.fitted_return));
    fit.insert("observed_mean_requests", f.observed_mean_requests);
    fit.insert("fitted_mean_requests", f.fitted_mean_requests);
    fit.insert("observed_play_seconds",
               std::isfinite(f.observed_play_seconds) ? f.observed_play_seconds : 0.0);
    fit.insert("fitted_play_seconds", f.fitted_play_seconds);
    toml::array warnings;
    for (const std::string& w : f.warnings) warnings.push_back(w);
    fit.insert("warnings", warnings);
    toml::table extra;
    extra.insert("fit", fit);
    write_session_world_params(f.params, o_.params_out, extra);
  }

  CalibrationOpts o_;
  std::shared_ptr<const Calibration> c_;
  std::uint64_t scope_;
};

JobBuild build(CalibrationOpts& o, const toml::table& t, const std::string& path,
               const ParseContext& ctx) {
  SessionFitOptions fo;
  fo.release = data::parse_kuairand_release(o.release);
  fo.session_release = data::parse_kuairand_release(o.session_release);
  fo.rate_logs.clear();
  fo.session_logs.clear();
  for (const std::string& s : o.rate_logs) fo.rate_logs.push_back(parse_log(s));
  for (const std::string& s : o.session_logs) fo.session_logs.push_back(parse_log(s));
  fo.click_rows = o.click_rows;
  fo.rate_weighting = o.rate_weighting;
  fo.valid_play_agreement = o.valid_play_agreement;
  fo.rows_per_request = o.rows_per_request;
  fo.depth_bins = o.depth_bins;
  fo.fit_sessions = o.fit_sessions;
  fo.increment_pool = o.increment_pool;
  fo.use_user_features = o.user_features;
  fo.use_video_features = o.video_features;
  const std::string root = !o.data_dir.empty()     ? ctx.data_path(o.data_dir)
                           : !ctx.data_dir.empty() ? ctx.data_dir
                                                   : std::string(kDefaultData);
  if (o.data_dir.empty() && ctx.data_dir.empty() && !fs::is_directory(root))
    throw KeyError("data_dir",
                   "is not set and the default KuaiRand-shaped fixture " + root +
                       " is not here: run from the repository root, or give --data-dir / "
                       "data_dir (the unpacked KuaiRand-Pure folder)");
  // Base parameters: a file, else a [world] of type kuairand_session, else (on the shipped
  // fixture) the parameters it was generated from, else the defaults.
  SessionWorldParams base;
  const bool fixture = o.data_dir.empty() && ctx.data_dir.empty();
  if (!o.base_params.empty()) {
    base = read_session_world_params(ctx.data_path(o.base_params));
  } else if (ctx.world_table && ctx.world_table->get("type") &&
             ctx.world_table->get("type")->value_or(std::string()) == "kuairand_session") {
    base = session_world_params_from_table(*ctx.world_table, "world", ctx.data_dir, ctx.config_dir);
  } else if (fixture && fs::is_regular_file(root + "/session_world.toml")) {
    base = read_session_world_params(root + "/session_world.toml");
  }
  const std::string session_root =
      o.session_data_dir.empty() ? root : ctx.data_path(o.session_data_dir);
  const std::string where = key_location(t, path, "data_dir");
  auto load = [&] {
    return load_data(where, [&] {
      Calibration c;
      c.obs = observe_kuairand(root, session_root, fo, base);
      c.fit = fo;
      c.base = base;
      c.source = root;
      for (const std::string& r : c.obs.reports) std::fprintf(stderr, "stagesim: %s\n", r.c_str());
      for (const std::string& w : c.obs.warnings)
        std::fprintf(stderr, "stagesim: warning: %s\n", w.c_str());
      if (c.obs.sessions == 0)
        throw data::DataError(root, "the session logs have no rows",
                              "point data_dir at the KuaiRand logs");
      return c;
    });
  };
  std::string key = "kuairand_calibration\n" + root + "\n" + session_root + "\n" + o.release +
                    "\n" + o.session_release + "\n" + join_words(o.rate_logs) + "\n" +
                    join_words(o.session_logs) + "\n" + kClickRows.name(o.click_rows) + " " +
                    kWeightings.name(o.rate_weighting) + " " +
                    format_number(o.valid_play_agreement) + "\n" +
                    std::to_string(o.rows_per_request) + " " + std::to_string(o.depth_bins) + " " +
                    (o.user_features ? "u" : "-") + (o.video_features ? "v" : "-") + "\n" + [&] {
                      // Keys the fit does not model (the mechanisms world's design keys,
                      // added after the shipped fit was made) stay out of the stream key, so
                      // the calibration's draws, and the shipped fit, do not move with them.
                      toml::table t = session_world_table(base);
                      t.erase("group_satisfaction_gain");
                      t.erase("fatigue_per_minute");
                      std::ostringstream os;
                      os << t;
                      return os.str();
                    }();
  std::shared_ptr<const Calibration> c = ctx.cache ? ctx.cache->get<Calibration>(key, load)
                                                   : std::make_shared<const Calibration>(load());

  JobBuild b;
  const std::uint64_t scope = hash_text(key + "\n" + std::to_string(o.fit_sessions) + " " +
                                        std::to_string(o.increment_pool));
  b.make = [o, c, scope] { return std::make_unique<CalibrationJob>(o, c, scope); };
  auto range = [](std::int64_t first, std::int64_t n) {
    std::vector<double> v;
    for (std::int64_t k = 0; k < n; ++k) v.push_back(static_cast<double>(first + k));
    return v;
  };
  const auto groups = static_cast<std::int64_t>(
      c->obs.group_names.empty() ? base.user_groups
                                 : static_cast<std::int64_t>(c->obs.group_names.size()));
  std::vector<double> fraction;
  for (int k = 0; k < 10; ++k) fraction.push_back(0.05 + 0.1 * k);
  b.axes = {{"behaviour", "index (click, long_view, like, comment, forward, follow, hate)",
             range(0, kBehaviours)},
            {"click_meaning", "index (0 = tabs where is_click is a valid play, 1 = a click)",
             range(0, 2)},
            {"requests", "requests per session", range(1, o.depth_bins)},
            {"return_day", "days", range(1, base.max_return_day)},
            {"play_fraction", "watched fraction (bin centre)", fraction},
            {"user_group", "index (user_active_degree code)", range(0, groups)}};
  b.outputs = {
      {"observed_rate",
       "probability",
       "base rate of each behaviour in the rate logs",
       {"behaviour"}},
      {"fitted_rate", "probability", "E σ(logit_offset + τZ) at the fitted offsets", {"behaviour"}},
      {"simulated_rate", "probability", "rate in the simulated random exposures", {"behaviour"}},
      {"logit_offset", "logit", "fitted logit_offset", {"behaviour"}},
      {"click_rate_by_meaning",
       "probability",
       "is_click rate in tabs where it means a valid play / a click (NaN: no such tab)",
       {"click_meaning"}},
      {"observed_depth", "share", "sessions with n requests (last bin: n or more)", {"requests"}},
      {"fitted_depth", "share", "simulated sessions with n requests", {"requests"}},
      {"observed_return_day",
       "share",
       "return gaps of d days (among gaps <= max_return_day)",
       {"return_day"}},
      {"fitted_return_day",
       "share",
       "posterior-predictive return gaps under the fit",
       {"return_day"}},
      {"observed_play_fraction",
       "share",
       "watched fraction min(play/duration, 1), 10 bins",
       {"play_fraction"}},
      {"fitted_play_fraction", "share", "simulated watched fraction, 10 bins", {"play_fraction"}},
      {"user_group_share", "share", "fitted user_group_shares", {"user_group"}},
      {"group_return", "probability", "fitted group_return", {"user_group"}}};
  for (const auto& s : kScalarNames) b.outputs.push_back({s[0], s[1], s[2], {}});
  // The depth fit: ~300 evaluations of fit_sessions simulated sessions (a counter-based draw or
  // two per request, ~200 flops); the rate and play-time solves over 8192 sampled affinities;
  // the simulated exposures.
  b.cost =
      300.0 * static_cast<double>(o.fit_sessions) * std::max(1.0, c->obs.mean_requests) * 200.0 +
      8192.0 * 3000.0 * 20.0 +
      static_cast<double>(o.increment_pool) * static_cast<double>(base.slate) *
          (30.0 * kBehaviours + 6.0 * static_cast<double>(base.dim));
  // Per running fit: the simulated requests, the sessions' start draws, the affinity sample, the
  // return-gap classes (the observations themselves are shared through the cache).
  b.bytes = 16.0 * static_cast<double>(o.increment_pool) +
            8.0 * static_cast<double>(o.fit_sessions) + 16.0 * 8192 +
            48.0 * static_cast<double>(c->obs.user_gaps.size());
  b.work = 1;
  b.work_units = "fits";
  return b;
}

}  // namespace

JobEntry kuairand_calibration_job_entry() {
  JobEntry e;
  e.type = "kuairand_calibration";
  e.help =
      "fits the kuairand_session world's parameters to KuaiRand logs (base rates, play time, "
      "requests per session, return days) and writes the fit; observed vs fitted distributions";
  const OptionGroup<CalibrationOpts> g = options();
  e.params = g.info();
  e.parse = [g](const toml::table& t, const std::string& path, toml::table& resolved,
                const ParseContext& ctx) {
    CalibrationOpts o = g.parse(t, path, "job type 'kuairand_calibration'", {"type"});
    try {
      JobBuild b = build(o, t, path, ctx);
      g.write(o, resolved);
      return b;
    } catch (const KeyError& k) {
      throw ConfigError(key_source(t, k.key) + ": key '" + path + "." + k.key + "' " + k.what());
    } catch (const data::DataError& d) {
      throw IoError(key_location(t, path, "data_dir") + ": " + d.what());
    }
  };
  return e;
}

}  // namespace stagesim
