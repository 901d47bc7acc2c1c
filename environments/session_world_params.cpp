#include "environments/session_world_params.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

namespace stagesim {

const std::array<std::string_view, kBehaviours>& behaviour_names() {
  static const std::array<std::string_view, kBehaviours> n = {
      "click", "long_view", "like", "comment", "forward", "follow", "hate"};
  return n;
}

namespace {
const EnumTable<ReturnSignal> kSignals{{"mean_satisfaction", ReturnSignal::mean_satisfaction},
                                       {"last_reward", ReturnSignal::last_reward}};
}  // namespace

OptionGroup<SessionWorldParams> session_world_options() {
  using P = SessionWorldParams;
  OptionGroup<P> g;
  g.add("users", &P::users, "users per population (evaluation draws fresh users)",
        between<int64_t>(1, 1e8))
      .add("items", &P::items, "items in the catalogue", between<int64_t>(1, 1e8))
      .add("dim", &P::dim, "latent preference / item embedding dimension",
           between<int64_t>(1, 4096))
      .add("user_groups", &P::user_groups,
           "activity groups (KuaiRand's user_active_degree; 9 values in the real file)",
           between<int64_t>(1, 1000))
      .add("user_group_shares", &P::user_group_shares,
           "share of each activity group ([] = uniform; else user_groups values summing to 1)")
      .add("user_features", &P::user_features,
           "observable numeric user features besides the one-hot group (noisy views of θ_u)",
           between<int64_t>(0, 4096))
      .add("feature_noise", &P::feature_noise, "noise sd of the observable user features",
           at_least<double>(0))
      .add("item_groups", &P::item_groups, "item groups (KuaiRand's first tag)",
           between<int64_t>(1, 1e6))
      .add("item_spread", &P::item_spread, "spread of item embeddings around their group centre",
           at_least<double>(0))
      .add("slate", &P::slate, "items shown per request (KuaiSim: 6)", between<int64_t>(1, 1000))
      .add("logit_offset", &P::logit_offset,
           "per behaviour (click, long_view, like, comment, forward, follow, hate): logit at zero "
           "affinity; sets the base rate")
      .add("affinity", &P::affinity,
           "per behaviour: weight of the user–item affinity θ_u·x_i in its logit (hate < 0)")
      .add("item_effect_sd", &P::item_effect_sd, "sd of the per-item, per-behaviour logit effect",
           at_least<double>(0))
      .add("duration_log_mean", &P::duration_log_mean, "mean of log(duration in seconds)")
      .add("duration_log_sd", &P::duration_log_sd, "sd of log(duration in seconds)",
           at_least<double>(0))
      .add("play_offset", &P::play_offset, "logit of the watched fraction at zero affinity")
      .add("play_affinity", &P::play_affinity, "weight of the affinity in the watched fraction")
      .add("play_noise", &P::play_noise, "noise sd of the watched fraction's logit",
           at_least<double>(0))
      .add("initial_satisfaction", &P::initial_satisfaction,
           "median satisfaction at the start of a session", greater_than<double>(0))
      .add("satisfaction_sd", &P::satisfaction_sd,
           "log-normal spread of the users' initial satisfaction", at_least<double>(0))
      .add("fatigue", &P::fatigue, "satisfaction every request costs", greater_than<double>(0))
      .add("satisfaction_gain", &P::satisfaction_gain,
           "per behaviour: satisfaction each positive response adds (hate < 0)")
      .add("play_gain", &P::play_gain, "satisfaction per minute of play time", at_least<double>(0))
      .add("group_satisfaction_gain", &P::group_satisfaction_gain,
           "per activity group, 8 values each (the 7 behaviours' satisfaction gains, then the "
           "gain per play minute), row-major; [] = every group uses satisfaction_gain, play_gain")
      .add("fatigue_per_minute", &P::fatigue_per_minute,
           "satisfaction every minute of play time costs (besides fatigue per request)",
           at_least<double>(0))
      .add("leave_hazard", &P::leave_hazard,
           "probability of leaving after any request, however satisfied", between<double>(0, 1))
      .add("max_requests", &P::max_requests,
           "safety cap on requests per session (far above typical depths)",
           between<int64_t>(1, 1e6))
      .add("return_signal", &P::return_signal,
           "what κ multiplies: the session's mean satisfaction, or the last request's mean reward "
           "(KuaiSim)",
           kSignals)
      .add("return_bias", &P::return_bias, "next-day return probability's bias")
      .add("personal_sd", &P::personal_sd, "sd of the users' personal return term",
           at_least<double>(0))
      .add("group_return", &P::group_return,
           "per activity group: shift of the return probability ([] = none)")
      .add("kappa", &P::kappa, "κ: weight of the last session's signal in the return probability")
      .add("max_return_day", &P::max_return_day,
           "return gaps are truncated-geometric on 1..max_return_day days",
           between<int64_t>(1, 10000))
      .add("max_sessions", &P::max_sessions, "sessions per user at most (KuaiSim: 6)",
           between<int64_t>(1, 1e6));
  return g;
}

std::string check_session_world_params(const SessionWorldParams& p) {
  auto per_behaviour = [](const std::vector<double>& v, const char* key) -> std::string {
    if (v.size() != kBehaviours)
      return std::string(key) + ": has " + std::to_string(v.size()) +
             " values; give 7, one per behaviour (click, long_view, like, comment, forward, "
             "follow, hate)";
    for (double x : v)
      if (!std::isfinite(x)) return std::string(key) + ": has a non-finite value";
    return "";
  };
  for (auto [v, k] :
       {std::pair{&p.logit_offset, "logit_offset"}, std::pair{&p.affinity, "affinity"},
        std::pair{&p.satisfaction_gain, "satisfaction_gain"}})
    if (std::string e = per_behaviour(*v, k); !e.empty()) return e;
  if (!p.user_group_shares.empty()) {
    if (static_cast<int64_t>(p.user_group_shares.size()) != p.user_groups)
      return "user_group_shares: has " + std::to_string(p.user_group_shares.size()) +
             " values but user_groups = " + std::to_string(p.user_groups) +
             "; give one share per group or []";
    double s = 0;
    for (double x : p.user_group_shares) {
      if (!(x >= 0)) return "user_group_shares: shares must be >= 0";
      s += x;
    }
    if (std::abs(s - 1) > 1e-6)
      return "user_group_shares: sum to " + format_number(s) + "; they must sum to 1";
  }
  if (!p.group_satisfaction_gain.empty()) {
    if (static_cast<int64_t>(p.group_satisfaction_gain.size()) != p.user_groups * 8)
      return "group_satisfaction_gain: has " + std::to_string(p.group_satisfaction_gain.size()) +
             " values but user_groups = " + std::to_string(p.user_groups) +
             "; give 8 per group (7 behaviours, then per play minute) or []";
    for (double x : p.group_satisfaction_gain)
      if (!std::isfinite(x)) return "group_satisfaction_gain: has a non-finite value";
  }
  if (!p.group_return.empty() && static_cast<int64_t>(p.group_return.size()) != p.user_groups)
    return "group_return: has " + std::to_string(p.group_return.size()) +
           " values but user_groups = " + std::to_string(p.user_groups) +
           "; give one shift per group or []";
  return "";
}

namespace {
SessionWorldParams parse_checked(const toml::table& t, const std::string& path,
                                 const std::string& where) {
  SessionWorldParams p = session_world_options().parse(t, path, "session world");
  if (std::string e = check_session_world_params(p); !e.empty()) {
    const std::string key = e.substr(0, e.find(':'));
    throw ConfigError(key_source(t, key) + ": key '" + (path.empty() ? "" : path + ".") + key +
                      "'" + e.substr(e.find(':')) + where);
  }
  return p;
}

toml::table read_table(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": " +
                      std::string(e.description()) +
                      " (a session-world parameter file must be TOML with a [session_world] "
                      "table)");
  }
}
}  // namespace

SessionWorldParams read_session_world_params(const std::string& path) {
  {
    std::ifstream f(path);
    if (!f) throw ConfigError(path + ": cannot open the session-world parameter file");
  }
  const toml::table t = read_table(path);
  const toml::table* sw = t["session_world"].as_table();
  if (!sw)
    throw ConfigError(path +
                      ":1:1: has no [session_world] table; a fitted-parameter file keeps "
                      "the world's options there (see environments/session_world_params.hpp)");
  return parse_checked(*sw, "session_world", "");
}

toml::table session_world_table(const SessionWorldParams& p) {
  toml::table t;
  session_world_options().write(p, t);
  return t;
}

void write_session_world_params(const SessionWorldParams& p, const std::string& path,
                                const toml::table& extra) {
  toml::table root = extra;
  root.insert_or_assign("session_world", session_world_table(p));
  std::ofstream f(path);
  if (!f) throw IoError(path + ": cannot write the session-world parameter file");
  f << "# session-world parameters (environments/session_world_params.hpp)\n" << root << "\n";
  if (!f) throw IoError(path + ": write failed");
}

SessionWorldParams session_world_params_from_table(const toml::table& world,
                                                   const std::string& path,
                                                   const std::string& data_dir,
                                                   const std::string& config_dir) {
  toml::table merged;
  std::string where;
  // The base file: params_file (against --data-dir) when given, else data_params_file (against
  // the experiment file's folder).
  auto base_file = [&](const char* key, const std::string& dir,
                       const char* relative_to) -> std::pair<const toml::node*, std::string> {
    const toml::node* f = world.get(key);
    if (!f) return {nullptr, ""};
    auto s = f->value_exact<std::string>();
    if (!s)
      throw ConfigError(source_of(*f) + ": key '" + path + "." + key +
                        "' must be a string (the path of a fit written by the calibration job, " +
                        relative_to + ")");
    if (s->empty()) return {nullptr, ""};
    return {f, ((*s)[0] == '/' || dir.empty()) ? *s : dir + "/" + *s};
  };
  auto [node, file] = base_file("params_file", data_dir, "relative to --data-dir");
  std::string key = "params_file";
  if (auto [dnode, dfile] =
          base_file("data_params_file", config_dir, "relative to the experiment file's folder");
      !node && dnode) {
    node = dnode;
    file = dfile;
    key = "data_params_file";
  }
  if (node) {
    const std::string at = source_of(*node) + ": key '" + path + "." + key + "': ";
    if (!std::filesystem::is_regular_file(file))
      throw ConfigError(
          at + "cannot open " + file +
          (key == "params_file" ? " (relative to --data-dir)"
                                : " (relative to the experiment file's folder)") +
          "; write it with the calibration job (experiments/multi_stage_rl/calibrate.toml) or fix "
          "the path");
    toml::table t;
    try {
      t = read_table(file);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(e.what()) + " (read for key '" + path + "." + key + "' at " +
                        source_of(*node) + ")");
    }
    const toml::table* sw = t["session_world"].as_table();
    if (!sw)
      throw ConfigError(at + file +
                        " has no [session_world] table; give a fit written by the calibration "
                        "job (experiments/multi_stage_rl/calibrate.toml)");
    // Validate the file on its own first, so its errors name the file's lines.
    const std::string read_for = "read for key '" + path + "." + key + "' at " + source_of(*node);
    try {
      (void)parse_checked(*sw, "session_world", " (in " + file + ", " + read_for + ")");
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      throw ConfigError(m.find(read_for) == std::string::npos ? m + " (" + read_for + ")" : m);
    }
    merged = *sw;
    where = " (with the parameters of " + file + ")";
  }
  for (const auto& [k, v] : world) {
    if (k.str() == "type" || k.str() == "params_file" || k.str() == "data_params_file") continue;
    merged.insert_or_assign(k, v);
  }
  // Keys from the experiment keep their own source positions after the copy.
  SessionWorldParams p = session_world_options().parse(
      merged, path, "world type 'kuairand_session'", {"type", "params_file", "data_params_file"});
  if (std::string e = check_session_world_params(p); !e.empty()) {
    const std::string key = e.substr(0, e.find(':'));
    throw ConfigError(key_source(world, key) + ": key '" + path + "." + key + "'" +
                      e.substr(e.find(':')) + where);
  }
  return p;
}

}  // namespace stagesim
