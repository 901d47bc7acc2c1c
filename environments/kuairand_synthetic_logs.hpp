#pragma once
// KuaiRand-Pure-format logs generated from known session-world parameters: the data on which the
// calibration must recover those parameters (tests), and the KuaiRand-shaped data set the default
// fit is made on (tests/fixtures/kuairand_shaped). The files are the real formats
// (environments/data/kuairand.hpp): three logs, user_features_pure.csv and
// video_features_basic_pure.csv, so they go through the same reader as a downloaded copy.
//
// The model is that of environments/session_world_params.hpp, with every item drawn uniformly
// at random (the exposure of KuaiRand's random log; a recommender's selection is not modelled):
// users θ_u ~ N(0, I), groups by user_group_shares, items x_i = (m_c + z)/√dim, e_ib, durations;
// per request `slate` rows; satisfaction S_u start, −fatigue per request, + gains; leave when
// S ≤ 0, with leave_hazard, or after max_requests; the next session after a truncated-geometric
// gap with p = clip(return_bias + ρ_u + κ·signal), signal = the session's mean satisfaction
// after each request or, with return_signal = last_reward, the last request's mean behaviours
// per item (hate counted −1), as environments/kuairand_session.cpp defines them. A session is
// one user-day; users start on day 0 and have sessions until the window ends (max_sessions is a
// simulation horizon, not applied), so each user's last gap is cut by the window as in KuaiRand.
//
// Rows of a session go to log_random_* with probability random_share on days from 2022-04-22
// (is_rand = 1), else to the standard log of their date. tab is 1 (single-column UI: is_click is
// written as KuaiRand's valid play, from play time and duration) with probability
// single_column_share, else 0 (two-column UI: is_click is the click behaviour).
#include <cstdint>
#include <filesystem>

#include "environments/session_world_params.hpp"

namespace stagesim {

struct SyntheticLogOptions {
  std::int64_t users = 500;
  std::int64_t days = 31;  // from 2022-04-08 (KuaiRand-Pure's window is 31 days)
  double random_share = 0.3;
  double single_column_share = 0.7;
};

struct SyntheticLogCounts {
  std::int64_t rows = 0;
  std::int64_t sessions = 0;
  std::int64_t gaps = 0;
};

// Writes the five files of KuaiRand-Pure into `dir` (created). IoError when a file cannot be
// written. User groups are named by kuairand_active_degrees() (so user_groups <= 9).
SyntheticLogCounts write_synthetic_kuairand(const SessionWorldParams& p,
                                            const SyntheticLogOptions& o, std::uint64_t seed,
                                            const std::filesystem::path& dir);

}  // namespace stagesim
