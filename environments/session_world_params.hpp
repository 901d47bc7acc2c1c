#pragma once
// Parameters of the KuaiRand-shaped session world (environments/kuairand_session.hpp): what the
// calibration job fits and writes, what `[world] type = "kuairand_session"` reads. One struct, one
// option table (session_world_options) shared by the experiment file and the fitted-parameter
// file, so a fit and a hand-written world use the same names, ranges and error messages.
//
// The model (every term below is a field):
//   users u: latent preference θ_u ~ N(0, I_dim); activity group g_u ∈ [0, user_groups) with
//     shares user_group_shares (KuaiRand's user_active_degree); observable features =
//     one-hot(g_u) ++ user_features noisy linear views of θ_u (noise sd feature_noise);
//     personal return term ρ_u ~ N(group_return[g_u], personal_sd²).
//   items i: first-tag group c_i ∈ [0, item_groups) uniform; embedding x_i = (m_{c_i} + z)/√dim
//     with group centre m ~ N(0, I) and z ~ N(0, item_spread² I); duration_i ~ LogNormal(
//     duration_log_mean, duration_log_sd) seconds; per-behaviour item effect e_ib ~ N(0,
//     item_effect_sd²).
//   affinity s_ui = θ_u · x_i (≈ N(0, 1 + item_spread²) over pairs).
//   behaviour b of an exposed item (one logistic, so any base rate is reachable — no double
//     sigmoid): P(y_b = 1) = σ(logit_offset[b] + affinity[b] · s_ui + e_ib).
//   play time (s) = duration_i · σ(play_offset + play_affinity · s_ui + play_noise · ε), ε ~
//   N(0,1). satisfaction: starts a session at S_u = initial_satisfaction · exp(satisfaction_sd ·
//   η_u −
//     satisfaction_sd²/2) (η_u ~ N(0,1), fixed per user); after each request of `slate` items
//     S ← S − fatigue + Σ_positions (Σ_b gain_b · y_b + (play_gain − fatigue_per_minute) ·
//     play/60), with gain_b, play_gain = satisfaction_gain, play_gain or, when
//     group_satisfaction_gain is given, its row of the user's activity group;
//     the session ends when S ≤ 0, with probability leave_hazard after any request, or after
//     max_requests requests (a safety cap, far above typical depths: not a depth band).
//   return: next-day probability P = clip(return_bias + ρ_u + κ · signal, 0.001, 0.999) with
//     signal = the session's mean satisfaction over its requests (return_signal =
//     "mean_satisfaction"; the end value is ≈ 0 by construction) or the mean per-item reward of the
//     last request (return_signal = "last_reward": KuaiSim's parametric form); the gap in days is
//     truncated-geometric on 1..max_return_day: P(d) ∝ (1 − P)^(d−1) P. A user has at most
//     max_sessions sessions; a user "retains" when a session is followed by a return.
//
// Behaviour order everywhere (arrays of 7): click, long_view, like, comment, forward, follow,
// hate — KuaiRand's is_click, long_view, is_like, is_comment, is_forward, is_follow, is_hate.
//
// Fitted-parameter file (written by the calibration job, read through `params_file` or
// `data_params_file`): TOML with
// one table [session_world] whose keys are exactly the option names below (any subset; missing
// keys keep their defaults), e.g.
//     [session_world]
//     logit_offset = [-0.9, -1.4, -4.1, -6.0, -6.5, -6.8, -7.5]
//     fatigue = 0.12
//     return_bias = 0.42
//   and any other tables (e.g. [fit] with data source, sample sizes, observed vs fitted
//   distributions) which the loader ignores. In an experiment, keys written in [world] override
//   the file's: `params_file` is the base, the experiment's keys are the edits.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/options.hpp"

namespace stagesim {

constexpr int kBehaviours = 7;
// "click", "long_view", "like", "comment", "forward", "follow", "hate"
const std::array<std::string_view, kBehaviours>& behaviour_names();

enum class ReturnSignal { mean_satisfaction, last_reward };

struct SessionWorldParams {
  // Population and catalogue.
  int64_t users = 200;  // users per population (training; evaluation draws fresh ones)
  int64_t items = 1000;
  int64_t dim = 8;          // latent preference / item embedding dimension
  int64_t user_groups = 4;  // activity groups (user_active_degree; the real file has 9 values)
  std::vector<double> user_group_shares = {};  // [] = uniform; else user_groups shares, sum 1
  int64_t user_features = 4;                   // numeric observable features besides one-hot(g)
  double feature_noise = 0.5;
  int64_t item_groups = 10;  // first-tag groups
  double item_spread = 0.5;
  int64_t slate = 6;  // items shown per request (KuaiSim: 6)

  // Responses (one logistic per behaviour).
  std::vector<double> logit_offset = {-1.0, -1.5, -4.0, -5.5, -6.0, -6.5, -7.0};
  std::vector<double> affinity = {1.0, 1.0, 1.0, 0.8, 0.8, 0.8, -1.0};
  double item_effect_sd = 0.5;

  // Play time.
  double duration_log_mean = 3.0;  // log seconds: median duration e³ ≈ 20 s
  double duration_log_sd = 0.6;
  double play_offset = -0.5;
  double play_affinity = 1.5;
  double play_noise = 0.5;

  // Satisfaction.
  double initial_satisfaction = 10.0;
  double satisfaction_sd = 0.5;
  double fatigue = 1.0;
  std::vector<double> satisfaction_gain = {0.0, 0.08, 0.15, 0.15, 0.15, 0.25, -1.0};
  double play_gain = 0.05;  // per minute of play time
  // Per activity group: [] = every group uses satisfaction_gain and play_gain; else user_groups
  // rows of 8 (the 7 behaviours' gains, then the gain per play minute), row-major: group g's
  // tastes. Makes the best fusion weights differ between users (observable through the one-hot
  // group among the user features), so a per-user policy can beat any one weight vector.
  std::vector<double> group_satisfaction_gain = {};
  double fatigue_per_minute = 0.0;  // satisfaction every minute watched costs (besides fatigue)
  double leave_hazard = 0.01;
  int64_t max_requests = 500;

  // Return between sessions.
  ReturnSignal return_signal = ReturnSignal::mean_satisfaction;
  double return_bias = 0.4;
  double personal_sd = 0.1;
  std::vector<double> group_return = {};  // [] = all 0; else one shift per user group
  double kappa = 0.1;
  int64_t max_return_day = 10;
  int64_t max_sessions = 6;
};

// The option table: names, defaults, ranges, help (for [world], the fitted file and `list`).
// Cross-field checks (array lengths, shares summing to 1) are in check_session_world_params.
OptionGroup<SessionWorldParams> session_world_options();

// "" when consistent, else "KEY: what is wrong and the fix" (KEY is the offending option).
std::string check_session_world_params(const SessionWorldParams& p);

// Reads a fitted-parameter file (see above). ConfigError "PATH:LINE:COL: ..." on unreadable TOML,
// a missing [session_world] table, unknown keys or bad values; the cross-field check included.
SessionWorldParams read_session_world_params(const std::string& path);
// The [session_world] table of p (every key), for writing a fit.
toml::table session_world_table(const SessionWorldParams& p);
// Writes `[session_world]` (and `extra` tables, e.g. [fit]) to path; IoError on failure.
void write_session_world_params(const SessionWorldParams& p, const std::string& path,
                                const toml::table& extra = {});

// [world] table → params: the base file, then the table's own keys except `type`, `params_file`
// and `data_params_file`. The base file is `params_file` (resolved against data_dir, i.e.
// --data-dir: the real fit beside the data) when given and non-empty, else `data_params_file`
// (resolved against config_dir, the experiment file's folder: a fit kept in the repository, e.g.
// params/kuairand_fixture_fit.toml), else none (the defaults). ConfigError with file:line and the
// key on any problem (missing file, wrong type, malformed TOML, bad values in the file).
SessionWorldParams session_world_params_from_table(const toml::table& world,
                                                   const std::string& path,
                                                   const std::string& data_dir,
                                                   const std::string& config_dir = "");

}  // namespace stagesim
