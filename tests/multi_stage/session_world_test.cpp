// The KuaiRand-shaped session world and its parameter file: option checks and round trips,
// base rates that reach KuaiRand's low rates (one logistic, no double sigmoid), common random
// numbers per user, depth that follows quality without a band, and the truncated-geometric
// return gap.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "environments/kuairand_session.hpp"
#include "metrics/session_summary.hpp"

using namespace stagesim;

namespace {

std::filesystem::path scratch(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("stagesim_msrl_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SessionWorldParams, DefaultsAreConsistentAndRoundTrip) {
  SessionWorldParams p;
  EXPECT_EQ(check_session_world_params(p), "");
  p.fatigue = 0.37;
  p.logit_offset = {-1, -2, -3, -4, -5, -6, -8.5};
  p.return_signal = ReturnSignal::last_reward;
  p.group_return = {0.1, 0, 0, -0.2};
  const auto path = scratch("roundtrip") / "fit.toml";
  toml::table extra;
  extra.insert("fit", toml::table{{"source", "test"}});
  write_session_world_params(p, path.string(), extra);
  const SessionWorldParams q = read_session_world_params(path.string());
  EXPECT_EQ(q.fatigue, 0.37);
  EXPECT_EQ(q.logit_offset, p.logit_offset);
  EXPECT_EQ(q.return_signal, ReturnSignal::last_reward);
  EXPECT_EQ(q.group_return, p.group_return);
  EXPECT_EQ(session_world_table(q), session_world_table(p));
}

TEST(SessionWorldParams, BadFilesAreOneLineErrorsWithTheirPlace) {
  const auto d = scratch("bad");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(d / name) << text;
    return (d / name).string();
  };
  const std::string no_table = write("a.toml", "fatigue = 1\n");
  EXPECT_NE(error_of([&] { read_session_world_params(no_table); }).find("no [session_world]"),
            std::string::npos);
  const std::string unknown = write("b.toml", "[session_world]\nfatige = 1\n");
  const std::string e1 = error_of([&] { read_session_world_params(unknown); });
  EXPECT_NE(e1.find("b.toml:2"), std::string::npos) << e1;
  EXPECT_NE(e1.find("fatigue"), std::string::npos) << e1;  // did you mean
  const std::string short_array = write("c.toml", "[session_world]\nlogit_offset = [1, 2]\n");
  const std::string e2 = error_of([&] { read_session_world_params(short_array); });
  EXPECT_NE(e2.find("c.toml:2"), std::string::npos) << e2;
  EXPECT_NE(e2.find("give 7"), std::string::npos) << e2;
  const std::string syntax = write("d.toml", "[session_world\n");
  EXPECT_NE(error_of([&] { read_session_world_params(syntax); }).find("d.toml:1"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              read_session_world_params((d / "missing.toml").string());
            }).find("cannot open"),
            std::string::npos);
  const std::string bad_range = write("e.toml", "[session_world]\nfatigue = -1\n");
  EXPECT_NE(error_of([&] { read_session_world_params(bad_range); }).find("out of range"),
            std::string::npos);
}

TEST(SessionWorldParams, ExperimentKeysOverrideTheFile) {
  const auto d = scratch("override");
  std::ofstream(d / "fit.toml") << "[session_world]\nfatigue = 0.5\nkappa = 0.3\n";
  toml::table world =
      toml::parse("type = \"kuairand_session\"\nparams_file = \"fit.toml\"\nkappa = 0.7\n");
  const SessionWorldParams p = session_world_params_from_table(world, "world", d.string());
  EXPECT_EQ(p.fatigue, 0.5);
  EXPECT_EQ(p.kappa, 0.7);
  EXPECT_EQ(p.users, SessionWorldParams{}.users);
}

// data_params_file: resolved against the experiment file's folder; every bad input is one line
// that names the key, the file and the fix (missing file, wrong type, malformed TOML, a fit
// without [session_world], a bad value inside the fit at its own line).
TEST(SessionWorldParams, DataParamsFileIsRelativeToTheExperimentAndItsErrorsNameFileAndKey) {
  const auto d = scratch("data_params");
  std::filesystem::create_directories(d / "params");
  std::filesystem::create_directories(d / "exp");
  SessionWorldParams fit;
  fit.fatigue = 0.4;
  fit.return_bias = 0.3;
  write_session_world_params(fit, (d / "params" / "fit.toml").string());
  auto world_with = [](const std::string& value) {
    return toml::parse("type = \"kuairand_session\"\ndata_params_file = " + value + "\n",
                       std::string_view("exp/main.toml"));
  };
  const std::string exp_dir = (d / "exp").string();
  const SessionWorldParams p = session_world_params_from_table(world_with("\"../params/fit.toml\""),
                                                               "world", "/nonexistent", exp_dir);
  EXPECT_EQ(session_world_table(p), session_world_table(fit));
  // An empty value = no file (the defaults).
  EXPECT_EQ(session_world_table(
                session_world_params_from_table(world_with("\"\""), "world", "", exp_dir)),
            session_world_table(SessionWorldParams{}));
  auto one_line_error = [&](const std::string& value) {
    const std::string e = error_of(
        [&] { (void)session_world_params_from_table(world_with(value), "world", "", exp_dir); });
    EXPECT_FALSE(e.empty()) << value;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_NE(e.find("world.data_params_file"), std::string::npos) << e;
    return e;
  };
  std::string e = one_line_error("\"../params/missing.toml\"");
  EXPECT_NE(e.find("exp/main.toml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("params/missing.toml"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
  EXPECT_NE(e.find("calibrate.toml"), std::string::npos) << e;  // the fix
  e = one_line_error("3");
  EXPECT_NE(e.find("exp/main.toml:2"), std::string::npos) << e;
  EXPECT_NE(e.find("must be a string"), std::string::npos) << e;
  std::ofstream(d / "params" / "syntax.toml") << "[session_world]\nfatigue = = 1\n";
  e = one_line_error("\"../params/syntax.toml\"");
  EXPECT_NE(e.find("syntax.toml:2"), std::string::npos) << e;
  std::ofstream(d / "params" / "no_table.toml") << "fatigue = 1\n";
  e = one_line_error("\"../params/no_table.toml\"");
  EXPECT_NE(e.find("no [session_world]"), std::string::npos) << e;
  std::ofstream(d / "params" / "bad_value.toml") << "[session_world]\nitems = 10\nfatigue = -2\n";
  e = one_line_error("\"../params/bad_value.toml\"");
  EXPECT_NE(e.find("bad_value.toml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("fatigue"), std::string::npos) << e;
  // A directory is not a fit.
  e = one_line_error("\"../params\"");
  EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
}

// Under random exposure the rate of behaviour b is E σ(offset_b + affinity_b s + e_ib): with
// KuaiRand-like offsets the rare behaviours sit far below 0.5 (a double sigmoid would keep every
// rate above 0.5). The simulated log's rates agree with the model's expectation within 5 SE.
TEST(SessionWorld, BaseRatesReachLowValuesAndMatchTheModel) {
  SessionWorldParams p;
  p.users = 300;
  p.items = 500;
  p.logit_offset = {-1.0, -1.6, -4.0, -6.0, -6.0, -6.5, -7.0};
  KuairandSessionWorld w(p, 42);
  double n = 0;
  std::vector<double> count(kBehaviours, 0.0);
  simulate_random_exposure(w, p.users, [&](const SimulatedExposure& e) {
    n += 1;
    for (int b = 0; b < kBehaviours; ++b) count[b] += e.behaviours[b];
  });
  ASSERT_GT(n, 10000);
  // The model's expectation over the same users and items (every pair).
  const auto users = w.make_users(0, 0, p.users);
  std::vector<double> expect(kBehaviours, 0.0);
  Eigen::VectorXd s;
  RowMatrixXd truth;
  std::vector<int> all(p.items);
  for (int i = 0; i < p.items; ++i) all[i] = i;
  for (const auto& u : users) {
    w.affinity(u, s);
    w.predict(s, all, -1, truth);
    for (int b = 0; b < kBehaviours; ++b) expect[b] += truth.col(b).mean() / p.users;
  }
  for (int b = 0; b < kBehaviours; ++b) {
    const double rate = count[b] / n;
    const double se = std::sqrt(expect[b] * (1 - expect[b]) / n) * 3.0;  // × 3: users cluster
    EXPECT_NEAR(rate, expect[b], 5 * se + 1e-5) << behaviour_names()[b];
  }
  EXPECT_LT(count[6] / n, 0.01);  // hate
  EXPECT_LT(count[3] / n, 0.01);  // comment
  EXPECT_LT(count[0] / n, 0.5);
}

TEST(SessionWorld, ResponsesAreCommonRandomNumbersPerUserAndRequest) {
  SessionWorldParams p;
  p.items = 200;
  KuairandSessionWorld w(p, 7);
  const auto users = w.make_users(0, 0, 3);
  Eigen::VectorXd s;
  w.affinity(users[1], s);
  const std::vector<int> served = {5, 17, 80};
  RowMatrixXd a, b, c;
  w.respond(users[1], s, 12, served, a);
  w.respond(users[1], s, 12, served, b);
  EXPECT_EQ(a, b);
  // Another population's user with the same index draws differently.
  const auto fresh = w.make_users(1, 0, 3);
  EXPECT_NE(fresh[1].key, users[1].key);
  w.affinity(fresh[1], s);
  w.respond(fresh[1], s, 12, served, c);
  EXPECT_NE(c, a);
  // The pool of a request is a pure function of (user, request).
  std::vector<int> p1, p2, p3;
  w.pool(users[0], 3, 50, p1);
  w.pool(users[0], 3, 50, p2);
  w.pool(users[0], 4, 50, p3);
  EXPECT_EQ(p1, p2);
  EXPECT_NE(p1, p3);
  EXPECT_EQ(p1.size(), 50u);
}

// Depth follows the quality of what is shown (better items → longer sessions) and has a spread,
// not a band: serving by predicted play time vs. serving the pool's first items.
TEST(SessionWorld, DepthRespondsToQualityWithoutABand) {
  SessionWorldParams p;
  p.items = 400;
  p.users = 200;
  KuairandSessionWorld w(p, 3, {0.0});
  const auto users = w.make_users(0, 0, p.users);
  auto depths = [&](bool good) {
    std::vector<double> d;
    Eigen::VectorXd s;
    RowMatrixXd pred, resp;
    std::vector<int> pool, order(p.items);
    for (const auto& u : users) {
      w.affinity(u, s);
      SessionState st;
      w.start_session(u, st);
      std::int64_t r = 0;
      for (bool more = true; more; ++r) {
        w.pool(u, r, 60, pool);
        std::vector<int> served(pool.begin(), pool.begin() + p.slate);
        if (good) {
          w.predict(s, pool, 0, pred);
          std::vector<int> idx(pool.size());
          for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = static_cast<int>(k);
          std::partial_sort(idx.begin(), idx.begin() + p.slate, idx.end(),
                            [&](int a, int b) { return pred(a, kPlayTime) > pred(b, kPlayTime); });
          for (int k = 0; k < p.slate; ++k) served[k] = pool[idx[k]];
        }
        w.respond(u, s, r, served, resp);
        more = w.update(u, r, resp, st);
      }
      d.push_back(static_cast<double>(st.depth));
    }
    std::sort(d.begin(), d.end());
    return d;
  };
  const auto bad = depths(false), good = depths(true);
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / v.size();
  };
  EXPECT_GT(mean(good), 1.2 * mean(bad));
  // A spread, not a band: the 90 % quantile is well above the 10 % one in both.
  EXPECT_GT(good[good.size() * 9 / 10], 2.0 * good[good.size() / 10]);
  EXPECT_GT(bad[bad.size() * 9 / 10], 2.0 * bad[bad.size() / 10]);
}

// The return gap is the geometric truncated to 1..D with the next-day probability
// clip(bias + ρ_u + κ·signal): its empirical mean matches Σ d P(d).
TEST(SessionWorld, ReturnDayIsTruncatedGeometric) {
  SessionWorldParams p;
  p.users = 4000;
  p.items = 10;
  p.personal_sd = 0;
  p.return_bias = 0.25;
  p.kappa = 0.05;
  p.max_return_day = 6;
  KuairandSessionWorld w(p, 9);
  const auto users = w.make_users(0, 0, p.users);
  SessionState st;
  st.depth = 4;
  st.satisfaction_sum = 4 * 2.0;  // mean satisfaction 2
  const double P = 0.25 + 0.05 * 2.0;
  EXPECT_NEAR(w.next_day_probability(users[0], st), P, 1e-12);
  double num = 0, den = 0, second = 0;
  for (int d = 1; d <= 6; ++d) {
    const double pd = std::pow(1 - P, d - 1) * P;
    num += d * pd;
    second += d * d * pd;
    den += pd;
  }
  const double mean = num / den, var = second / den - mean * mean;
  double sum = 0;
  int ones = 0;
  for (const auto& u : users) {
    const int d = w.return_day(u, 0, st);
    ASSERT_GE(d, 1);
    ASSERT_LE(d, 6);
    sum += d;
    ones += d == 1;
  }
  EXPECT_NEAR(sum / p.users, mean, 4 * std::sqrt(var / p.users));
  EXPECT_NEAR(static_cast<double>(ones) / p.users, P / den,
              4 * std::sqrt(P / den * (1 - P / den) / p.users));
}

// KuaiSim's session metrics on hand-made sessions: retention pools every return gap, user
// retention counts each user once, by the gap after the user's first session.
TEST(SessionSummary, RetentionOverReturnsAndOverUsers) {
  SessionSummary s;
  s.begin_user();  // user A: gaps 1, 3 (first return next day)
  s.add_session(4, 2.0, 60);
  s.add_return(1, 1);
  s.add_session(2, 1.0, 30);
  s.add_return(3, 1);
  s.add_session(6, 3.0, 90);
  s.begin_user();  // user B: gaps 2, 1, 1 (first return after 2 days)
  s.add_session(1, 0.5, 10);
  s.add_return(2, 1);
  s.add_return(1, 1);
  s.add_return(1, 1);
  EXPECT_DOUBLE_EQ(s.retention(), 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(s.user_retention(), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(s.return_day(), 8.0 / 5.0);
  EXPECT_DOUBLE_EQ(s.depth(), 13.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.play_time(), 190.0 / 4.0);
  EXPECT_DOUBLE_EQ(s.depth_quantile(0.5), 3.0);
  EXPECT_EQ(s.depth_histogram(4), (std::vector<double>{0.25, 0.25, 0.0, 0.5}));
}
