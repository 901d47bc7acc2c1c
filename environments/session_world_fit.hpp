#pragma once
// Fitting the session world's parameters (environments/session_world_params.hpp) to KuaiRand
// logs: what `observe_kuairand` measures in one streamed pass over the files, and how
// `fit_session_world` turns it into parameters.
//
// What is fitted (the rest of SessionWorldParams is kept from the base parameters):
//   logit_offset[b]     — base rate r_b of behaviour b in the rate logs (default: the random log,
//                          whose items were exposed at random): solve E σ(o_b + τ_b Z) = r_b,
//                          τ_b² = affinity_b²·(1 + item_spread²) + item_effect_sd² (the logit's
//                          spread over user–item pairs), Z ~ N(0, 1). click counts only rows of
//                          tabs where is_click is a click (two-column UI; see click_rows).
//   duration_log_mean/sd — mean and sd of log(video duration in s) over the catalogue
//                          (video_features_basic; the rate logs' distinct videos without it).
//   play_offset, play_noise — the watched fraction min(play/duration, 1) in the rate logs has
//                          the mean and variance of σ(play_offset + τ Z), τ² = play_affinity²·(1 +
//                          item_spread²) + play_noise².
//   initial_satisfaction, satisfaction_sd, leave_hazard — the distribution of requests per
//                          session (session = user-day, requests = ⌈rows / rows_per_request⌉;
//                          with rate_weighting = user each user's sessions weigh 1 in total):
//                          sessions simulated with the world's satisfaction dynamics, per-request
//                          increments drawn from the fitted response model under random exposure,
//                          matched to the observed CDF (least squares, Nelder–Mead, common random
//                          numbers). fatigue and the gains are kept: only their ratio to the
//                          starting satisfaction is identified.
//   return_bias, personal_sd, group_return — gaps between a user's consecutive active dates
//                          (gaps > max_return_day are left out and counted; the gap after a
//                          user's last active day is right-censored at the logs' end): maximum
//                          likelihood of the truncated geometric with p_u = clip(μ_g + sd·z_u), z_u
//                          ~ N(0, 1), per user_active_degree group g; then return_bias = Σ_g
//                          share_g μ_g − κ·E[signal], personal_sd² = sd² − κ²·Var[signal] (the
//                          signal's moments from the simulated sessions: the mean satisfaction
//                          after each request, or for last_reward the last request's mean
//                          behaviours per item with hate counted −1, as the world defines them)
//                          and group_return[g] = μ_g − Σ share μ.
//   user_groups, user_group_shares — user_active_degree values of user_features and the share of
//                          logged users in each (when the file is present).
//   item_groups          — distinct first tags in video_features_basic (when present).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "environments/data/kuairand.hpp"
#include "environments/session_world_params.hpp"

namespace stagesim {

enum class ClickRows {
  click_tabs,  // only rows of tabs where is_click is a click (inferred; all rows if none is)
  all,         // every row, as logged (KuaiSim's reading)
};

// How rates and play-time moments average over rows: per user, then over users (default: a user's
// own sessions are longer when they respond more, so row averages over-weight keen users), or
// over rows as logged.
enum class RateWeighting { user, row };

struct SessionFitOptions {
  std::vector<data::KuaiRandLog> rate_logs = {data::KuaiRandLog::random};
  std::vector<data::KuaiRandLog> session_logs = {data::KuaiRandLog::standard_early,
                                                 data::KuaiRandLog::standard_late,
                                                 data::KuaiRandLog::random};
  data::KuaiRandRelease release = data::KuaiRandRelease::pure;          // rate logs, features
  data::KuaiRandRelease session_release = data::KuaiRandRelease::pure;  // session logs
  ClickRows click_rows = ClickRows::click_tabs;
  RateWeighting rate_weighting = RateWeighting::user;
  // A tab is the single-column feed (is_click = valid play) when its is_click agrees with the
  // valid-play rule on at least this share of its rows with play time and duration.
  double valid_play_agreement = 0.98;
  std::int64_t rows_per_request = 0;    // 0 = the slate size
  std::int64_t depth_bins = 40;         // requests 1..depth_bins; the last bin holds the rest
  std::int64_t fit_sessions = 20000;    // simulated sessions per evaluation of the depth fit
  std::int64_t increment_pool = 20000;  // simulated requests the increments are drawn from
  bool censor_window = true;  // the last gap of each user runs past the logs' end (censored)
  bool use_user_features = true;
  bool use_video_features = true;
};

// Everything the fit needs from the logs, gathered in one pass.
struct KuaiRandObservations {
  // Base rates (rate logs).
  std::array<std::int64_t, kBehaviours> rate_rows{};
  std::array<std::int64_t, kBehaviours> rate_positives{};
  std::array<double, kBehaviours> rate{};            // what the fit matches (rate_weighting)
  std::array<std::int64_t, 2> click_meaning_rows{};  // [valid_play tabs, click tabs]
  std::array<std::int64_t, 2> click_meaning_positives{};
  data::TabSemantics tabs{};
  bool click_from_all_rows = false;  // click_tabs asked for, but no tab's is_click is a click
  // Watched fraction (rate logs; rows with a duration > 0 and a play time).
  std::int64_t play_rows = 0;
  double play_fraction_sum = 0, play_fraction_sq = 0, play_seconds_sum = 0;  // over rows
  double play_mean = 0, play_second_moment = 0, play_seconds = 0;            // what the fit matches
  std::vector<std::int64_t> play_fraction_hist = std::vector<std::int64_t>(10, 0);
  // Durations in the catalogue.
  std::int64_t durations = 0;
  double log_duration_sum = 0, log_duration_sq = 0;
  // Sessions (session logs).
  std::int64_t rows_per_request = 1;
  std::vector<std::int64_t> depth_hist;  // [n − 1]: sessions of n requests; last = the rest
  std::vector<double> depth_share;       // what the fit matches: shares, per rate_weighting
  std::int64_t sessions = 0;
  std::int64_t session_rows = 0;
  double mean_requests = 0;
  std::int64_t session_users = 0;
  // Return gaps: all gaps (d = 1..gap_hist.size()) and, per user, those <= max_return_day.
  std::int64_t max_return_day = 10;
  std::vector<std::int64_t> gap_hist;
  std::int64_t gaps_beyond = 0;  // gaps > max_return_day (left out of the fit)
  struct UserGaps {
    std::int32_t group = 0;
    std::int64_t count = 0;          // gaps <= max_return_day
    std::int64_t sum_minus_one = 0;  // Σ (gap − 1) over them
    // Days from the user's last active day to the last day of the logs when fewer than
    // max_return_day (the next gap is then known to exceed it: right-censored); -1 otherwise.
    std::int64_t censored = -1;
  };
  std::vector<UserGaps> user_gaps;
  // Groups (user_active_degree) of the users in the session logs.
  std::vector<std::string> group_names;  // [] without user_features
  std::vector<std::int64_t> group_users;
  std::int64_t users_without_features = 0;
  std::int64_t item_groups = 0;  // distinct first tags (0 without video_features_basic)
  std::int64_t catalogue_videos = 0;
  std::vector<std::string> reports;  // one load summary per file
  std::vector<std::string> warnings;
};

// Reads the logs (and the feature files when present) under `data_dir` (located as
// data::locate_kuairand_dir does; the session logs under `session_dir`, "" = data_dir).
// DataError on a malformed file.
KuaiRandObservations observe_kuairand(const std::filesystem::path& data_dir,
                                      const std::filesystem::path& session_dir,
                                      const SessionFitOptions& options,
                                      const SessionWorldParams& base);

struct SessionFit {
  SessionWorldParams params;
  std::array<double, kBehaviours> observed_rate{};
  std::array<double, kBehaviours> fitted_rate{};       // E σ(o + τZ) at the fitted offsets
  std::array<double, kBehaviours> simulated_rate{};    // in the simulated random exposures
  std::vector<double> observed_depth, fitted_depth;    // shares over 1..depth_bins requests
  std::vector<double> observed_return, fitted_return;  // shares over 1..max_return_day days
  std::vector<double> observed_play_fraction, fitted_play_fraction;  // 10 bins of [0, 1]
  double observed_play_seconds = 0, fitted_play_seconds = 0;         // mean per exposure
  // Means of observed_depth / fitted_depth (same weighting; the last bin counted as its n).
  double observed_mean_requests = 0, fitted_mean_requests = 0;
  double observed_mean_return = 0, fitted_mean_return = 0;
  double request_drift = 0;  // mean satisfaction change per request (−fatigue + gains)
  double mean_signal = 0;    // E[signal] of the simulated sessions
  double signal_sd = 0;      // its sd over sessions
  double return_spread = 0;  // fitted sd of the return probability (personal_sd² + κ²·signal_sd²)
  double depth_loss = 0;     // Σ (F_obs − F_fit)² over the depth CDF
  std::vector<std::string> warnings;
};

// `rng` draws the simulated exposures and sessions (the same numbers for every evaluation).
SessionFit fit_session_world(const KuaiRandObservations& obs, const SessionWorldParams& base,
                             const SessionFitOptions& options, Rng& rng);

// E σ(offset + tau·Z), Z ~ N(0, 1) (quadrature), and its inverse in `offset`.
double mean_logistic_normal(double offset, double tau);
double solve_logistic_offset(double mean, double tau);

}  // namespace stagesim
