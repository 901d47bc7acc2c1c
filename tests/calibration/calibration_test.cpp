// The KuaiRand calibration of the session world: the logistic-normal solve (worked values),
// recovery of known parameters from KuaiRand-format logs generated with them, and the
// `kuairand_calibration` job through `stagesim run` / `check` (fit file, result arrays, errors).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>

#include <boost/random/uniform_01.hpp>
#include "environments/data/kuairand.hpp"
#include "environments/kuairand_session.hpp"
#include "environments/kuairand_synthetic_logs.hpp"
#include "environments/session_world_fit.hpp"

#include "sim/output.hpp"
#include "tests/test_util.hpp"

namespace stagesim {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::scratch_dir;
using test::source_dir;
using test::stagesim_binary;

TEST(LogisticNormal, WorkedValuesAndInverse) {
  // τ = 0: the logistic itself; offset 0: 1/2 by symmetry for any τ.
  EXPECT_NEAR(mean_logistic_normal(-1.0, 0.0), 1 / (1 + std::exp(1.0)), 1e-12);
  EXPECT_NEAR(mean_logistic_normal(0.0, 2.5), 0.5, 1e-12);
  // The probit approximation E σ(o + τZ) ≈ σ(o / sqrt(1 + π τ² / 8)) is within 0.02.
  const double approx = 1 / (1 + std::exp(1.5 / std::sqrt(1 + M_PI * 1.44 / 8)));
  EXPECT_NEAR(mean_logistic_normal(-1.5, 1.2), approx, 0.02);
  // Spreading the logit pulls the mean towards 1/2: a rare behaviour needs a lower offset.
  EXPECT_GT(mean_logistic_normal(-6, 1.5), mean_logistic_normal(-6, 0.0));
  for (double r : {0.001, 0.02, 0.3, 0.7}) {
    for (double tau : {0.0, 1.0, 3.0}) {
      const double o = solve_logistic_offset(r, tau);
      EXPECT_NEAR(mean_logistic_normal(o, tau), r, 1e-9 * std::max(1.0, r * 1e3));
    }
  }
  // No double sigmoid: any base rate is reachable, e.g. KuaiRand's rarest behaviours.
  EXPECT_LT(mean_logistic_normal(solve_logistic_offset(3e-4, 1.2), 1.2), 4e-4);
}

// Parameters the data are generated from. Many item groups and items, so that one catalogue's
// realised affinity spread is close to its expectation (12 groups leave ±11 % in the spread,
// which the play-noise fit cannot tell from noise).
SessionWorldParams truth() {
  SessionWorldParams p;
  p.items = 2000;
  p.item_groups = 200;
  p.user_groups = 3;
  p.user_group_shares = {0.5, 0.3, 0.2};
  p.group_return = {0.1, 0.0, -0.15};
  p.logit_offset = {-1.0, -1.4, -3.5, -4.5, -4.8, -5.0, -5.5};
  p.initial_satisfaction = 2.5;
  p.satisfaction_sd = 0.5;
  p.leave_hazard = 0.05;
  p.return_bias = 0.3;
  p.personal_sd = 0.05;
  p.kappa = 0.1;
  p.play_offset = -0.4;
  p.play_noise = 0.6;
  return p;
}

struct Recovered {
  SessionWorldParams truth;
  KuaiRandObservations obs;
  SessionFit fit;
};

const Recovered& recovered() {
  static const Recovered r = [] {
    Recovered out;
    out.truth = truth();
    const fs::path dir = scratch_dir("kuairand_recovery");
    SyntheticLogOptions so;
    so.users = 1500;
    write_synthetic_kuairand(out.truth, so, 11, dir);
    SessionWorldParams base = out.truth;  // the fit must not see the fitted fields' true values
    base.logit_offset.assign(kBehaviours, 0.0);
    base.initial_satisfaction = 1.0;
    base.satisfaction_sd = 0.1;
    base.leave_hazard = 0.5;
    base.return_bias = 0.0;
    base.personal_sd = 1.0;
    base.group_return.clear();
    base.user_group_shares.clear();
    base.user_groups = 1;
    base.play_offset = 0;
    base.play_noise = 0;
    base.duration_log_mean = 0;
    base.duration_log_sd = 1;
    base.item_groups = 1;
    SessionFitOptions fo;
    out.obs = observe_kuairand(dir, "", fo, base);
    Rng rng(5);
    out.fit = fit_session_world(out.obs, base, fo, rng);
    fs::remove_all(dir);
    return out;
  }();
  return r;
}

TEST(CalibrationRecovery, BaseRatesAndPlayTime) {
  const Recovered& r = recovered();
  const SessionWorldParams& t = r.truth;
  const SessionWorldParams& f = r.fit.params;
  // The numbers docs/kuairand-calibration.md quotes.
  double shift = 0;
  for (std::size_t g = 0; g < 3; ++g) shift += f.user_group_shares[g] * t.group_return[g];
  std::printf("recovery (truth -> fit):");
  for (int b = 0; b < kBehaviours; ++b)
    std::printf(" %s %.3f -> %.3f;", std::string(behaviour_names()[b]).c_str(), t.logit_offset[b],
                f.logit_offset[b]);
  std::printf(
      "\n  play_offset %.3f -> %.3f; play_noise %.3f -> %.3f; duration %.3f/%.3f -> %.3f/%.3f; "
      "initial_satisfaction %.3f -> %.3f; satisfaction_sd %.3f -> %.3f; leave_hazard %.3f -> "
      "%.3f; return_bias (centred) %.3f -> %.3f; personal_sd %.3f -> %.3f (spread %.3f); "
      "group_return (centred) %.3f %.3f %.3f -> %.3f %.3f %.3f\n",
      t.play_offset, f.play_offset, t.play_noise, f.play_noise, t.duration_log_mean,
      t.duration_log_sd, f.duration_log_mean, f.duration_log_sd, t.initial_satisfaction,
      f.initial_satisfaction, t.satisfaction_sd, f.satisfaction_sd, t.leave_hazard, f.leave_hazard,
      t.return_bias + shift, f.return_bias, t.personal_sd, f.personal_sd, r.fit.return_spread,
      t.group_return[0] - shift, t.group_return[1] - shift, t.group_return[2] - shift,
      f.group_return[0], f.group_return[1], f.group_return[2]);
  for (int b = 0; b < kBehaviours; ++b) {
    // Tolerance: 4 standard errors of the offset, from the binomial SE of the rate over the
    // rows it was measured on (dr/do by finite differences), plus 0.05 for the realised
    // catalogue's affinity spread.
    const double rate = r.fit.observed_rate[b];
    const auto n = static_cast<double>(r.obs.rate_rows[b]);
    const double tau = std::sqrt(t.affinity[b] * t.affinity[b] * 1.25 + 0.25);
    const double slope = (mean_logistic_normal(f.logit_offset[b] + 1e-4, tau) -
                          mean_logistic_normal(f.logit_offset[b] - 1e-4, tau)) /
                         2e-4;
    const double tol = 4 * std::sqrt(rate * (1 - rate) / n) / slope + 0.05;
    EXPECT_NEAR(f.logit_offset[b], t.logit_offset[b], tol) << behaviour_names()[b];
    // The response model reaches the observed rate (simulated exposures, 4 SE).
    const double sim_n = 20000.0 / 64 * 64 * static_cast<double>(t.slate);
    EXPECT_NEAR(r.fit.simulated_rate[b], rate,
                4 * std::sqrt(rate * (1 - rate) / sim_n) + 0.1 * rate)
        << behaviour_names()[b];
  }
  // Click rate from the two-column tab only: in the single-column tab is_click is a valid play.
  EXPECT_EQ(r.obs.tabs[0], data::ClickMeaning::click);
  EXPECT_EQ(r.obs.tabs[1], data::ClickMeaning::valid_play);
  EXPECT_GT(r.obs.click_meaning_rows[1], 0);
  // Durations: 4 SE of the mean and sd of log duration over 2000 items.
  const double se = t.duration_log_sd / std::sqrt(2000.0);
  EXPECT_NEAR(f.duration_log_mean, t.duration_log_mean, 4 * se);
  EXPECT_NEAR(f.duration_log_sd, t.duration_log_sd, 4 * se / std::sqrt(2.0));
  // Play: the offset is well identified; the noise only up to the realised affinity spread.
  EXPECT_NEAR(f.play_offset, t.play_offset, 0.08);
  EXPECT_NEAR(f.play_noise, t.play_noise, 0.25);
  EXPECT_NEAR(r.fit.fitted_play_seconds, r.fit.observed_play_seconds,
              0.05 * r.fit.observed_play_seconds);
}

TEST(CalibrationRecovery, RequestsPerSession) {
  const Recovered& r = recovered();
  const SessionWorldParams& t = r.truth;
  const SessionWorldParams& f = r.fit.params;
  // The depth distribution is matched (CDFs within 0.03 everywhere) ...
  double a = 0, b = 0, worst = 0;
  for (std::size_t n = 0; n < r.fit.observed_depth.size(); ++n) {
    a += r.fit.observed_depth[n], b += r.fit.fitted_depth[n];
    worst = std::max(worst, std::abs(a - b));
  }
  EXPECT_LT(worst, 0.03);
  // ... by parameters close to the truth: the start level within 15 %, its spread within 0.15,
  // the hazard within 0.04 (hazard and spread both widen the distribution, so they trade off).
  EXPECT_NEAR(f.initial_satisfaction, t.initial_satisfaction, 0.15 * t.initial_satisfaction);
  EXPECT_NEAR(f.satisfaction_sd, t.satisfaction_sd, 0.15);
  EXPECT_NEAR(f.leave_hazard, t.leave_hazard, 0.04);
  EXPECT_LT(r.fit.request_drift, 0);
}

TEST(CalibrationRecovery, ReturnDaysAndGroups) {
  const Recovered& r = recovered();
  const SessionWorldParams& t = r.truth;
  const SessionWorldParams& f = r.fit.params;
  // Groups: the nine user_active_degree codes, the first three used, shares within 4 SE.
  ASSERT_EQ(f.user_groups, 9);
  const double users = 1500;
  for (std::size_t g = 0; g < 9; ++g) {
    const double s = g < 3 ? t.user_group_shares[g] : 0.0;
    EXPECT_NEAR(f.user_group_shares[g], s, 4 * std::sqrt(s * (1 - s) / users) + 1e-12) << g;
  }
  EXPECT_EQ(f.item_groups, t.item_groups);
  // The fit centres group_return on the users' shares and moves the mean into return_bias:
  // compare the same centring of the truth (with the observed shares).
  double mean_shift = 0;
  for (std::size_t g = 0; g < 3; ++g) mean_shift += f.user_group_shares[g] * t.group_return[g];
  EXPECT_NEAR(f.return_bias, t.return_bias + mean_shift, 0.03);
  for (std::size_t g = 0; g < 3; ++g)
    EXPECT_NEAR(f.group_return[g], t.group_return[g] - mean_shift, 0.03) << g;
  for (std::size_t g = 3; g < 9; ++g) EXPECT_EQ(f.group_return[g], 0.0);
  // personal_sd: the fitted spread of the return probability minus the simulated sessions'
  // κ·signal spread. The rest of the signal's spread between users (their θ and start levels
  // differ, but the simulated increments only partly follow a user) stays in: within 0.06.
  EXPECT_NEAR(f.personal_sd, t.personal_sd, 0.06);
  EXPECT_GE(r.fit.return_spread, f.personal_sd);
  // The posterior-predictive gap distribution is close to the observed one; not equal: the
  // observed gaps are those that ended inside the window (short ones are over-represented), the
  // predictive is of every gap.
  for (std::size_t d = 0; d < r.fit.observed_return.size(); ++d)
    EXPECT_NEAR(r.fit.fitted_return[d], r.fit.observed_return[d], 0.04) << d + 1;
  EXPECT_EQ(r.obs.gaps_beyond, 0);
}

// The world's own log (simulate_random_exposure, environments/kuairand_session.hpp) written in
// KuaiRand-Pure's format and fitted: the calibration recovers the parameters of the world that
// made the data, not only of our generator.
TEST(CalibrationRecovery, FromTheWorldsOwnRandomExposureLog) {
  SessionWorldParams t = truth();
  t.initial_satisfaction = 4.0;
  t.max_sessions = 8;
  const KuairandSessionWorld world(t, 21);
  const std::int64_t users = 1500;
  const fs::path dir = scratch_dir("kuairand_world_log");
  const char* header =
      "user_id,video_id,date,hourmin,time_ms,is_click,is_like,is_follow,is_comment,is_forward,"
      "is_hate,long_view,play_time_ms,duration_ms,profile_stay_time,comment_stay_time,"
      "is_profile_enter,is_rand,tab\n";
  std::ofstream early(dir / "log_standard_4_08_to_4_21_pure.csv"),
      late(dir / "log_standard_4_22_to_5_08_pure.csv"),
      random(dir / "log_random_4_22_to_5_08_pure.csv");
  early << header, late << header, random << header;
  Rng rng(4);
  boost::random::uniform_01<double> unif;
  std::int64_t rows = 0;
  simulate_random_exposure(world, users, [&](const SimulatedExposure& e) {
    using namespace std::chrono;
    const year_month_day ymd{sys_days{year{2022} / 4 / 8} + days{e.day}};
    const int date = static_cast<int>(ymd.year()) * 10000 +
                     static_cast<int>(static_cast<unsigned>(ymd.month())) * 100 +
                     static_cast<int>(static_cast<unsigned>(ymd.day()));
    const double play = std::round(e.play_seconds * 1000),
                 dur = std::round(e.duration_seconds * 1000);
    // Single-column feed (tab 1, is_click = valid play) for 70 % of the rows, else a click tab.
    const bool single = unif(rng) < 0.7;
    const int click =
        single ? data::kuairand_valid_play(play, dur) : static_cast<int>(e.behaviours[0]);
    const bool is_rand = date >= 20220422 && unif(rng) < 0.3;
    std::ofstream& out = is_rand ? random : date >= 20220422 ? late : early;
    const auto y = [&](int b) { return static_cast<int>(e.behaviours[b]); };
    out << e.user << ',' << e.item << ',' << date << ",1200," << 1650000000000 + rows << ','
        << click << ',' << y(2) << ',' << y(5) << ',' << y(3) << ',' << y(4) << ',' << y(6) << ','
        << y(1) << ',' << play << ',' << dur << ",0,0,0," << is_rand << ',' << (single ? 1 : 0)
        << '\n';
    ++rows;
  });
  early.close(), late.close(), random.close();
  {
    std::ofstream u(dir / "user_features_pure.csv");
    u << "user_id,user_active_degree,is_lowactive_period,is_live_streamer,is_video_author,"
         "follow_user_num,follow_user_num_range,fans_user_num,fans_user_num_range,"
         "friend_user_num,friend_user_num_range,register_days,register_days_range";
    for (int k = 0; k < 18; ++k) u << ",onehot_feat" << k;
    u << '\n';
    const auto all = world.make_users(0, 0, users);
    for (std::int64_t k = 0; k < users; ++k) {
      u << k << ',' << data::kuairand_active_degrees()[all[k].group]
        << ",0,0,0,0,0,0,0,0,0,30,15-30";
      for (int f = 0; f < 18; ++f) u << ",0";
      u << '\n';
    }
    std::ofstream v(dir / "video_features_basic_pure.csv");
    v << "video_id,author_id,video_type,upload_dt,upload_type,visible_status,video_duration,"
         "server_width,server_height,music_id,music_type,tag\n";
    for (int i = 0; i < world.items(); ++i)
      v << i << ",1,NORMAL,2022-03-01,ShortImport,1," << std::round(world.duration(i) * 1000)
        << ",720,1280,1,,\"" << world.item_group(i) << ",0\"\n";
  }
  SessionFitOptions fo;
  fo.censor_window = false;  // the world's users stop after max_sessions, not at a window's end
  SessionWorldParams base = t;
  base.logit_offset.assign(kBehaviours, 0.0);
  base.initial_satisfaction = 1.0;
  base.return_bias = 0.0;
  base.group_return.clear();
  base.user_group_shares.clear();
  base.user_groups = 1;
  const KuaiRandObservations obs = observe_kuairand(dir, "", fo, base);
  Rng fit_rng(6);
  const SessionFit fit = fit_session_world(obs, base, fo, fit_rng);
  const SessionWorldParams& f = fit.params;
  std::printf("world log: %lld rows, %lld sessions; offsets", static_cast<long long>(rows),
              static_cast<long long>(obs.sessions));
  for (int b = 0; b < kBehaviours; ++b)
    std::printf(" %.3f->%.3f", t.logit_offset[b], f.logit_offset[b]);
  double shift = 0;
  for (std::size_t g = 0; g < 3; ++g) shift += f.user_group_shares[g] * t.group_return[g];
  std::printf(
      "; initial %.3f->%.3f sd %.3f->%.3f hazard %.3f->%.3f; bias %.3f->%.3f; play %.3f->%.3f\n",
      t.initial_satisfaction, f.initial_satisfaction, t.satisfaction_sd, f.satisfaction_sd,
      t.leave_hazard, f.leave_hazard, t.return_bias + shift, f.return_bias, t.play_offset,
      f.play_offset);
  for (int b = 0; b < kBehaviours; ++b) {
    const double rate = fit.observed_rate[b];
    const double n = static_cast<double>(obs.rate_rows[b]);
    const double tau = std::sqrt(t.affinity[b] * t.affinity[b] * 1.25 + 0.25);
    const double slope = (mean_logistic_normal(f.logit_offset[b] + 1e-4, tau) -
                          mean_logistic_normal(f.logit_offset[b] - 1e-4, tau)) /
                         2e-4;
    EXPECT_NEAR(f.logit_offset[b], t.logit_offset[b],
                4 * std::sqrt(rate * (1 - rate) / n) / slope + 0.05)
        << behaviour_names()[b];
  }
  EXPECT_NEAR(f.play_offset, t.play_offset, 0.08);
  EXPECT_NEAR(f.duration_log_mean, t.duration_log_mean, 4 * t.duration_log_sd / std::sqrt(2000.0));
  EXPECT_NEAR(f.initial_satisfaction, t.initial_satisfaction, 0.15 * t.initial_satisfaction);
  EXPECT_NEAR(f.satisfaction_sd, t.satisfaction_sd, 0.15);
  EXPECT_NEAR(f.leave_hazard, t.leave_hazard, 0.04);
  EXPECT_NEAR(f.return_bias, t.return_bias + shift, 0.03);
  for (std::size_t g = 0; g < 3; ++g)
    EXPECT_NEAR(f.group_return[g], t.group_return[g] - shift, 0.03) << g;
  EXPECT_NEAR(f.personal_sd, t.personal_sd, 0.06);
  fs::remove_all(dir);
}

TEST(CalibrationObservations, WorkedExampleOnTheQuirkFixture) {
  // tests/fixtures/kuairand, both standard logs as rate and session logs, one row per request.
  SessionFitOptions fo;
  fo.rate_logs = {data::KuaiRandLog::standard_early, data::KuaiRandLog::standard_late};
  fo.session_logs = fo.rate_logs;
  fo.rows_per_request = 1;
  fo.depth_bins = 4;
  SessionWorldParams base;
  const fs::path dir = fs::path(source_dir()) / "tests" / "fixtures" / "kuairand";
  const KuaiRandObservations o = observe_kuairand(dir, "", fo, base);
  // Likes: users 17, 3, 25, 40 have 1/6, 1/6, 1/4, 0/2: per user 7/48, per row 3/18.
  EXPECT_EQ(o.rate_rows[2], 18);
  EXPECT_EQ(o.rate_positives[2], 3);
  EXPECT_DOUBLE_EQ(o.rate[2], 7.0 / 48);
  // Clicks only in tabs 0, 2, 4 (tab 1's is_click is a valid play): users 2/2, 1/2, 1/2, 0/1.
  EXPECT_EQ(o.tabs[1], data::ClickMeaning::valid_play);
  EXPECT_EQ(o.rate_rows[0], 7);
  EXPECT_EQ(o.rate_positives[0], 4);
  EXPECT_DOUBLE_EQ(o.rate[0], 0.5);
  EXPECT_EQ(o.click_meaning_rows[0], 11);
  EXPECT_EQ(o.click_meaning_positives[0], 9);
  // Sessions = user-days: 17 on 4 days, 3 on 5, 25 on 2, 40 on 1; requests 1..3 (bin 4 = 4+).
  EXPECT_EQ(o.sessions, 12);
  EXPECT_EQ(o.session_users, 4);
  EXPECT_EQ(o.session_rows, 18);
  EXPECT_EQ(o.depth_hist, (std::vector<std::int64_t>{8, 2, 2, 0}));
  // Per-user weights: 17: 1/4 each (3,1,1,1 rows), 3: 1/5 (1,2,1,1,1), 25: 1/2 (1,3), 40: 1 (2).
  EXPECT_NEAR(o.depth_share[0], (3 * 0.25 + 4 * 0.2 + 0.5) / 4, 1e-12);
  EXPECT_NEAR(o.depth_share[1], (0.2 + 1.0) / 4, 1e-12);
  EXPECT_NEAR(o.depth_share[2], (0.25 + 0.5) / 4, 1e-12);
  // Gaps: 17: 2, 12, 3; 3: 1, 3, 10, 16; 25: 1 — the 12 and 16 exceed max_return_day = 10.
  ASSERT_EQ(o.gap_hist.size(), 16u);
  EXPECT_EQ(o.gap_hist[0], 2);
  EXPECT_EQ(o.gap_hist[1], 1);
  EXPECT_EQ(o.gap_hist[2], 2);
  EXPECT_EQ(o.gap_hist[9], 1);
  EXPECT_EQ(o.gap_hist[11], 1);
  EXPECT_EQ(o.gap_hist[15], 1);
  EXPECT_EQ(o.gaps_beyond, 2);
  ASSERT_EQ(o.user_gaps.size(), 4u);  // users in id order: 3, 17, 25, 40
  EXPECT_EQ(o.user_gaps[0].count, 3);
  EXPECT_EQ(o.user_gaps[0].sum_minus_one, 0 + 2 + 9);
  EXPECT_EQ(o.user_gaps[0].censored, 0);   // active on the last day, 2022-05-08
  EXPECT_EQ(o.user_gaps[1].censored, -1);  // last seen 04-25: 13 days >= 10, no information
  EXPECT_EQ(o.user_gaps[3].count, 0);
  EXPECT_EQ(o.user_gaps[3].censored, 7);  // last seen 05-01: no return within 7 days
  // Groups by user_active_degree: 3 full_active, 17 high_active, 25 middle, 40 UNKNOWN.
  ASSERT_EQ(o.group_names.size(), 9u);
  EXPECT_EQ(o.group_users, (std::vector<std::int64_t>{1, 1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(o.user_gaps[0].group, 1);
  // Catalogue: 8 videos, first tags 12, 8, 3, none, 0, 65, 1, 47; 7 durations.
  EXPECT_EQ(o.catalogue_videos, 8);
  EXPECT_EQ(o.item_groups, 8);
  EXPECT_EQ(o.durations, 7);
  EXPECT_NEAR(o.log_duration_sum,
              std::log(12.0) + std::log(25.0) + std::log(40.0) + std::log(5.0) + std::log(61.0) +
                  std::log(15.0) + std::log(8.0),
              1e-9);
}

// ---- The job through the CLI --------------------------------------------------------------------

TEST(CalibrationJob, RunsOnTheShippedFixtureAndWritesALoadableFit) {
  const fs::path dir = scratch_dir("calibration_job");
  const std::string fit = (dir / "fit.toml").string();
  const std::string out = (dir / "cal.h5").string();
  const std::string cmd = "cd " + source_dir() + " && " + stagesim_binary() +
                          " run experiments/multi_stage_rl/calibrate.toml --set job.params_out=\"" +
                          fit + "\" --out " + out;
  const auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("log_random_4_22_to_5_08_pure.csv"), std::string::npos) << r.output;
  const SessionWorldParams p = read_session_world_params(fit);
  EXPECT_EQ(p.user_groups, 9);
  EXPECT_EQ(check_session_world_params(p), "");
  // The shipped default fit was made by this command: the same numbers on the machine that made
  // it (bit for bit there); elsewhere the last digits of sums may differ and move the
  // derivative-free searches a little, hence the tolerances.
  const SessionWorldParams shipped =
      read_session_world_params(source_dir() + "/params/kuairand_fixture_fit.toml");
  for (int b = 0; b < kBehaviours; ++b)
    EXPECT_NEAR(p.logit_offset[b], shipped.logit_offset[b], 1e-3);
  EXPECT_NEAR(p.initial_satisfaction, shipped.initial_satisfaction,
              0.05 * shipped.initial_satisfaction);
  EXPECT_NEAR(p.return_bias, shipped.return_bias, 0.02);
  // Result arrays: [task, replication, axis].
  const Dataset depth = read_dataset(out, "metrics/observed_depth");
  ASSERT_EQ(depth.shape.size(), 3u);
  EXPECT_EQ(depth.shape[2], 40u);
  const Dataset rate = read_dataset(out, "metrics/fitted_rate");
  const Dataset obs = read_dataset(out, "metrics/observed_rate");
  ASSERT_EQ(rate.shape[2], 7u);
  for (int b = 0; b < 7; ++b) EXPECT_NEAR(rate.values[b], obs.values[b], 1e-6);
  const Dataset ret = read_dataset(out, "metrics/fitted_return_day");
  EXPECT_EQ(ret.shape[2], 10u);
  EXPECT_NEAR(std::accumulate(ret.values.begin(), ret.values.end(), 0.0), 1.0, 1e-9);
  fs::remove_all(dir);
}

// Round trip: the calibration job's output is the world of an experiment that names it with
// data_params_file (relative to the experiment file's folder, not to the working directory): every
// fitted value arrives, and the experiment's own keys override the fit's.
TEST(CalibrationJob, ItsFitIsTheWorldOfDataParamsFile) {
  const fs::path dir = scratch_dir("calibration_roundtrip");
  fs::create_directories(dir / "params");
  fs::create_directories(dir / "experiments");
  const std::string fit = (dir / "params" / "fit.toml").string();
  auto r = run_command("cd " + source_dir() + " && " + stagesim_binary() +
                       " run experiments/multi_stage_rl/calibrate.toml --quiet --set "
                       "job.params_out=\"" +
                       fit + "\" --out " + (dir / "cal.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const SessionWorldParams written = read_session_world_params(fit);
  const std::string exp = (dir / "experiments" / "w.toml").string();
  test::write_file(exp,
                   "[experiment]\nname = \"w\"\n[world]\ntype = \"kuairand_session\"\n"
                   "data_params_file = \"../params/fit.toml\"\nitems = 700\n[job]\n"
                   "type = \"multi_stage_rl\"\n");
  r = run_command("cd / && " + stagesim_binary() + " check " + exp);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const toml::table world = *toml::parse_file(exp)["world"].as_table();
  const SessionWorldParams p =
      session_world_params_from_table(world, "world", "", (dir / "experiments").string());
  SessionWorldParams expected = written;
  expected.items = 700;
  EXPECT_EQ(session_world_table(p), session_world_table(expected));
  EXPECT_NE(written.items, 700);
  // params_file (against --data-dir) replaces data_params_file: the real fit beside the data.
  SessionWorldParams other = written;
  other.return_bias = 0.25;
  write_session_world_params(other, (dir / "real_fit.toml").string());
  toml::table both = world;
  both.insert_or_assign("params_file", "real_fit.toml");
  const SessionWorldParams q =
      session_world_params_from_table(both, "world", dir.string(), (dir / "experiments").string());
  EXPECT_EQ(q.return_bias, 0.25);
  EXPECT_EQ(q.items, 700);
  fs::remove_all(dir);
}

TEST(CalibrationJob, TheWorldLoadsTheShippedFit) {
  // The fit is a params_file of the kuairand_session world (environments/session_world_params.hpp):
  // `check` of a file that uses it passes, and a bad value in it is reported with its line.
  const fs::path dir = scratch_dir("calibration_world");
  const std::string fit = source_dir() + "/params/kuairand_fixture_fit.toml";
  test::write_file(dir / "w.toml",
                   "[experiment]\nname = \"w\"\n[world]\ntype = \"kuairand_session\"\n"
                   "params_file = \"" +
                       fit + "\"\n[job]\ntype = \"multi_stage_rl\"\n");
  auto r = run_command(stagesim_binary() + " check " + (dir / "w.toml").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(fit);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("leave_hazard = ");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "leave_hazard = 1.5");
  test::write_file(dir / "bad_fit.toml", text);
  test::write_file(dir / "w.toml",
                   "[experiment]\nname = \"w\"\n[world]\ntype = \"kuairand_session\"\n"
                   "params_file = \"" +
                       (dir / "bad_fit.toml").string() + "\"\n[job]\ntype = \"multi_stage_rl\"\n");
  r = run_command(stagesim_binary() + " check " + (dir / "w.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad_fit.toml:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("leave_hazard"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(CalibrationJob, BadDataAndBadKeysAreOneLineErrorsAtCheck) {
  const fs::path dir = scratch_dir("calibration_errors");
  const fs::path data = dir / "KuaiRand-Pure" / "data";
  fs::create_directories(data);
  for (const auto& e : fs::directory_iterator(source_dir() + "/tests/fixtures/kuairand_shaped"))
    fs::copy_file(e.path(), data / e.path().filename());
  {  // Break line 3 of the random log: a flag of 2.
    const fs::path log = data / "log_random_4_22_to_5_08_pure.csv";
    std::ifstream in(log);
    std::string text, line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (n == 3) {  // field 5 is is_click
        std::size_t start = 0;
        for (int k = 0; k < 5; ++k) start = line.find(',', start) + 1;
        line = line.substr(0, start) + "2" + line.substr(line.find(',', start));
      }
      text += line + "\n";
    }
    in.close();
    std::ofstream(log) << text;
  }
  test::write_file(dir / "cal.toml",
                   "[experiment]\nname = \"c\"\n[job]\ntype = \"kuairand_calibration\"\n");
  auto r = run_command(stagesim_binary() + " check " + (dir / "cal.toml").string() +
                       " --data-dir " + dir.string());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(
      r.output.find("log_random_4_22_to_5_08_pure.csv:3: column 'is_click': '2' is not 0 or 1"),
      std::string::npos)
      << r.output;
  test::write_file(dir / "bad.toml",
                   "[experiment]\nname = \"c\"\n[job]\ntype = \"kuairand_calibration\"\n"
                   "session_logs = [\"standard\"]\n");
  r = run_command("cd " + source_dir() + " && " + stagesim_binary() + " check " +
                  (dir / "bad.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.toml:5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("standard_early, standard_late or random"), std::string::npos)
      << r.output;
  // No data and no fixture here: the message says what to do.
  r = run_command("cd " + dir.string() + " && " + stagesim_binary() + " check " +
                  (dir / "cal.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--data-dir"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stagesim
