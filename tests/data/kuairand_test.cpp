#include "environments/data/kuairand.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;
using testing::DataErrorOf;
using testing::ExpectMessage;
using testing::Fixture;

std::vector<KuaiRandLogRow> read_all(const std::vector<fs::path>& parts,
                                     KuaiRandLogSummary* summary = nullptr) {
  KuaiRandLogReader r(parts);
  std::vector<KuaiRandLogRow> rows;
  KuaiRandLogRow row;
  while (r.next(row)) rows.push_back(row);
  if (summary) *summary = r.summary();
  return rows;
}

fs::path pure(const std::string& f) {
  return Fixture("kuairand/" + f);
}

TEST(KuaiRandFiles, NamesAndLayouts) {
  EXPECT_EQ(kuairand_log_file(KuaiRandLog::standard_early, KuaiRandRelease::pure),
            "log_standard_4_08_to_4_21_pure.csv");
  EXPECT_EQ(kuairand_log_file(KuaiRandLog::standard_late, KuaiRandRelease::k1),
            "log_standard_4_22_to_5_08_1k.csv");
  EXPECT_EQ(kuairand_log_file(KuaiRandLog::random, KuaiRandRelease::k27),
            "log_random_4_22_to_5_08_27k.csv");
  EXPECT_EQ(kuairand_user_features_file(KuaiRandRelease::pure), "user_features_pure.csv");
  EXPECT_EQ(kuairand_video_features_file(KuaiRandRelease::k27), "video_features_basic_27k.csv");
  EXPECT_EQ(parse_kuairand_release("27k"), KuaiRandRelease::k27);
  ExpectMessage(DataErrorOf([] { parse_kuairand_release("2k"); }), {"'2k'", "pure, 1k or 27k"});

  EXPECT_EQ(locate_kuairand_dir(Fixture("kuairand"), "user_features_pure.csv"),
            Fixture("kuairand"));
  const std::string split = kuairand_log_file(KuaiRandLog::standard_early, KuaiRandRelease::k27);
  const fs::path d27 = Fixture("kuairand_27k") / "KuaiRand-27K" / "data";
  EXPECT_EQ(locate_kuairand_dir(Fixture("kuairand_27k"), split), d27);
  const auto parts = kuairand_log_parts(d27, split);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], d27 / "log_standard_4_08_to_4_21_27k_part1.csv");
  EXPECT_EQ(parts[1], d27 / "log_standard_4_08_to_4_21_27k_part2.csv");
  EXPECT_EQ(kuairand_log_parts(Fixture("kuairand"), "log_random_4_22_to_5_08_pure.csv").size(), 1u);

  const fs::path tmp = testing::TempDir();
  fs::create_directories(tmp / "KuaiRand-Pure" / "data");
  fs::copy_file(pure("user_features_pure.csv"),
                tmp / "KuaiRand-Pure" / "data" / "user_features_pure.csv");
  EXPECT_EQ(locate_kuairand_dir(tmp, "user_features_pure.csv"), tmp / "KuaiRand-Pure" / "data");
  ExpectMessage(DataErrorOf([&] { locate_kuairand_dir(tmp, "log_random_4_22_to_5_08_pure.csv"); }),
                {"log_random_4_22_to_5_08_pure.csv", (tmp / "KuaiRand-27K" / "data").string(),
                 "_part1", "docs/datasets.md"});
  ExpectMessage(DataErrorOf([&] { kuairand_log_parts(tmp, "log_x_pure.csv"); }),
                {"log_x_pure.csv", "log_x_pure_part1.csv", "release"});
}

TEST(KuaiRandDates, DayNumbersAndPlayRules) {
  EXPECT_EQ(kuairand_day_number(19700101), 0);
  EXPECT_EQ(kuairand_day_number(20220408), 19090);
  EXPECT_EQ(*kuairand_day_number(20220508) - *kuairand_day_number(20220408), 30);
  EXPECT_EQ(*kuairand_day_number(20000301) - *kuairand_day_number(20000228), 2);  // leap year
  EXPECT_FALSE(kuairand_day_number(19000229));  // 1900 is not a leap year
  EXPECT_FALSE(kuairand_day_number(20220431));
  EXPECT_FALSE(kuairand_day_number(20221301));
  EXPECT_FALSE(kuairand_day_number(2022040));
  // valid play: the whole video when it is at most 7 s, else more than 7 s.
  EXPECT_TRUE(kuairand_valid_play(7000, 7000));
  EXPECT_FALSE(kuairand_valid_play(6999, 7000));
  EXPECT_FALSE(kuairand_valid_play(7000, 20000));
  EXPECT_TRUE(kuairand_valid_play(7001, 20000));
  // long view: the whole video when it is at most 18 s, else at least 18 s.
  EXPECT_TRUE(kuairand_long_view(18000, 90000));
  EXPECT_FALSE(kuairand_long_view(17999, 90000));
  EXPECT_TRUE(kuairand_long_view(7000, 7000));
  EXPECT_FALSE(kuairand_long_view(NAN, 7000));
}

TEST(KuaiRandLogs, StandardEarlyExactValues) {
  KuaiRandLogSummary s;
  const auto rows = read_all({pure("log_standard_4_08_to_4_21_pure.csv")}, &s);
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(s.rows, 12);
  EXPECT_EQ(s.users, 3);
  EXPECT_EQ(s.items, 6);
  EXPECT_EQ(s.first_date, 20220408);
  EXPECT_EQ(s.last_date, 20220421);
  EXPECT_EQ(s.missing_values, 1);  // the empty comment_stay_time
  EXPECT_EQ(s.duplicates, 0);
  // Row 2 is written with floats ("1.0", "30000.0"), row 5 with a quoted user id.
  EXPECT_EQ(rows[1].user_id, 17);
  EXPECT_EQ(rows[1].video_id, 102);
  EXPECT_EQ(rows[1].is_click(), 1);
  EXPECT_EQ(rows[1].behaviour[2], 1);  // like
  EXPECT_EQ(rows[1].behaviour[1], 1);  // long_view
  EXPECT_EQ(rows[1].play_time_ms, 30000.0);
  EXPECT_EQ(rows[1].hourmin, 401);
  EXPECT_EQ(rows[4].user_id, 3);
  EXPECT_TRUE(std::isnan(rows[4].comment_stay_time));
  EXPECT_EQ(rows[4].hourmin, 2359);
  EXPECT_EQ(rows[0].date, 20220408);
  EXPECT_EQ(rows[0].day, 19090);
  EXPECT_EQ(rows[0].time_ms, 1649361601301);
  EXPECT_EQ(rows[3].day - rows[0].day, 2);
  EXPECT_EQ(rows[5].behaviour[5], 1);  // follow
  EXPECT_EQ(rows[5].behaviour[3], 1);  // comment
  EXPECT_EQ(rows[6].behaviour[4], 1);  // forward
  EXPECT_EQ(rows[3].behaviour[6], 1);  // hate
  EXPECT_EQ(rows[11].tab, 4);
  const std::array<std::int64_t, kKuaiRandBehaviours> positives = {9, 4, 2, 1, 1, 1, 1};
  EXPECT_EQ(s.positives, positives);
  EXPECT_EQ(s.tab_rows[0], 3);
  EXPECT_EQ(s.tab_rows[1], 7);
  EXPECT_EQ(s.tab_rows[2], 1);
  EXPECT_EQ(s.tab_rows[4], 1);
  // is_click is valid play in tab 1 (7 of 7 agree) and a click elsewhere (2 of 3, 0 of 1).
  EXPECT_EQ(s.tab_click_is_valid_play[1], 7);
  EXPECT_EQ(s.tab_click_is_valid_play[0], 2);
  EXPECT_EQ(s.tab_click_is_valid_play[2], 0);
  const TabSemantics t = infer_tab_semantics(s);
  EXPECT_EQ(t[1], ClickMeaning::valid_play);
  EXPECT_EQ(t[0], ClickMeaning::click);
  EXPECT_EQ(t[2], ClickMeaning::click);
  EXPECT_EQ(t[4], ClickMeaning::click);
  EXPECT_EQ(t[3], ClickMeaning::unknown);
  EXPECT_EQ(infer_tab_semantics(s, 0.98, 5)[0], ClickMeaning::unknown);  // too few rows
  // Recorded long_view equals KuaiRand's rule on every fixture row.
  for (const auto& r : rows) {
    EXPECT_EQ(r.behaviour[1], kuairand_long_view(r.play_time_ms, r.duration_ms) ? 1 : 0);
  }
  const std::string rep = s.report();
  ExpectMessage(rep, {"12 rows", "3 users x 6 videos", "20220408..20220421", "1: 7, 100.0 %"});
}

TEST(KuaiRandLogs, SplitPartsReadAsOneFile) {
  KuaiRandLogSummary whole, split;
  const auto a = read_all({pure("log_standard_4_08_to_4_21_pure.csv")}, &whole);
  const fs::path d27 = Fixture("kuairand_27k") / "KuaiRand-27K" / "data";
  const auto b = read_all(
      kuairand_log_parts(d27, kuairand_log_file(KuaiRandLog::standard_early, KuaiRandRelease::k27)),
      &split);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].user_id, b[i].user_id);
    EXPECT_EQ(a[i].video_id, b[i].video_id);
    EXPECT_EQ(a[i].time_ms, b[i].time_ms);
    EXPECT_EQ(a[i].behaviour, b[i].behaviour);
  }
  EXPECT_EQ(split.parts.size(), 2u);
  // Read twice in one log (both parts listed twice): every row of the second pass repeats.
  KuaiRandLogSummary twice;
  read_all({d27 / "log_standard_4_08_to_4_21_27k_part1.csv",
            d27 / "log_standard_4_08_to_4_21_27k_part2.csv",
            d27 / "log_standard_4_08_to_4_21_27k_part1.csv",
            d27 / "log_standard_4_08_to_4_21_27k_part2.csv"},
           &twice);
  EXPECT_EQ(twice.rows, 24);
  EXPECT_EQ(twice.duplicates, 12);
  EXPECT_NE(twice.report().find("12 duplicate (user, video) rows"), std::string::npos);
  EXPECT_EQ(split.positives, whole.positives);
  EXPECT_EQ(split.users, whole.users);
  EXPECT_NE(split.report().find("+1 more part"), std::string::npos);
}

TEST(KuaiRandLogs, RandomLogWithCrlfAndOtherColumnOrder) {
  KuaiRandLogSummary s;
  const auto rows = read_all({pure("log_random_4_22_to_5_08_pure.csv")}, &s);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) EXPECT_EQ(r.is_rand, 1);
  EXPECT_EQ(rows[0].tab, 1);
  EXPECT_EQ(rows[1].tab, 0);
  EXPECT_EQ(rows[1].behaviour[6], 1);
  EXPECT_EQ(rows[2].is_click(), 1);  // 12 s of a 12 s video: valid play
  EXPECT_EQ(rows[2].duration_ms, 12000.0);
  KuaiRandLogSummary late;
  EXPECT_EQ(read_all({pure("log_standard_4_22_to_5_08_pure.csv")}, &late).size(), 6u);
  EXPECT_EQ(late.first_date, 20220422);
  EXPECT_EQ(late.last_date, 20220508);
}

TEST(KuaiRandLogs, OfficialCountComparison) {
  EXPECT_EQ(kuairand_count_mismatch({1436609, 27285, 7551}, kuairand_pure_standard_counts(),
                                    "KuaiRand-Pure standard logs"),
            "");
  ExpectMessage(kuairand_count_mismatch({18, 4, 6}, kuairand_pure_standard_counts(), "Pure"),
                {"rows 18 vs 1,436,609", "users 4 vs 27,285", "items 6 vs 7,551"});
}

TEST(KuaiRandUsers, EveryQuirk) {
  const KuaiRandUserFeatures u = load_kuairand_user_features(pure("user_features_pure.csv"));
  ASSERT_EQ(u.rows, 9);
  EXPECT_EQ(u.user_id, (std::vector<std::int64_t>{17, 3, 25, 40, 41, 42, 43, 44, 45}));
  // The nine active degrees, each once, coded in the listed order; none unlisted.
  ASSERT_EQ(u.active_degree_names.size(), 9u);
  EXPECT_EQ(u.active_degree_names, kuairand_active_degrees());
  EXPECT_EQ(u.active_degree_names[0], "high_active");
  EXPECT_EQ(u.active_degree_names[3], "UNKNOWN");
  EXPECT_EQ(u.active_degree, (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(u.active_degree_names[7], "30day_retention");
  EXPECT_EQ(u.unknown_markers, 5);  // -124 cells
  EXPECT_EQ(u.missing_values, 24);  // four users with empty onehot_feat12..17
  const std::size_t streamer = *u.numeric_column("is_live_streamer");
  const std::size_t oh12 = *u.numeric_column("onehot_feat12");
  const std::size_t oh3 = *u.numeric_column("onehot_feat3");
  EXPECT_TRUE(std::isnan(u.numeric(1, static_cast<std::int64_t>(streamer))));  // -124
  EXPECT_EQ(u.numeric(0, static_cast<std::int64_t>(oh12)), 1.0);               // "1.0"
  EXPECT_TRUE(std::isnan(u.numeric(2, static_cast<std::int64_t>(oh12))));      // empty
  EXPECT_EQ(u.numeric(3, static_cast<std::int64_t>(oh3)), 1470.0);
  // Ranges: quoted "(0,10]" is one value; "[10w,100w)" is not in the README's list.
  EXPECT_EQ(u.range_values[0][u.ranges[0][0]], "(0,10]");
  EXPECT_EQ(u.ranges[0][2], 0);  // "0"
  EXPECT_EQ(u.range_values[1].size(), 8u);
  EXPECT_EQ(u.range_values[1][u.ranges[1][3]], "[10w,100w)");
  EXPECT_EQ(u.ranges[1][3], 7);
  EXPECT_EQ(u.range_values[3][u.ranges[3][0]], "730+");
  ASSERT_EQ(u.warnings.size(), 1u);
  ExpectMessage(u.warnings[0], {"fans_user_num_range", "[10w,100w)"});
  EXPECT_EQ(u.row_of(40), 3u);
  EXPECT_FALSE(u.row_of(99));
  ExpectMessage(u.report(), {"9 users", "9 user_active_degree values", "5 cells of -124"});
}

TEST(KuaiRandVideos, EveryQuirk) {
  const KuaiRandVideoFeatures v =
      load_kuairand_video_features(pure("video_features_basic_pure.csv"));
  ASSERT_EQ(v.rows, 8);
  EXPECT_EQ(v.missing_values, 8);
  EXPECT_EQ(v.video_duration[0], 12000.0);  // "12000.0"
  EXPECT_TRUE(std::isnan(v.video_duration[5]));
  EXPECT_EQ(v.music_type[0], 4);  // "4.0"
  EXPECT_EQ(v.music_type[3], -1);
  EXPECT_EQ(v.music_id[6], -1);
  EXPECT_EQ(v.author_id[4], 8839734);
  EXPECT_EQ(v.video_type[3], "AD");
  EXPECT_EQ(v.upload_dt[0], "2022-03-01");
  EXPECT_TRUE(std::isnan(v.server_width[7]));
  auto tags = [&](std::int64_t i) {
    return std::vector<std::int32_t>(v.tags[i].begin(), v.tags[i].end());
  };
  EXPECT_EQ(tags(0), (std::vector<std::int32_t>{12, 65}));  // quoted "12,65"
  EXPECT_EQ(tags(1), (std::vector<std::int32_t>{8}));       // unquoted single tag
  EXPECT_EQ(tags(2), (std::vector<std::int32_t>{3, 8, 21}));
  EXPECT_TRUE(tags(3).empty());  // empty cell
  EXPECT_EQ(tags(4), (std::vector<std::int32_t>{0}));
  EXPECT_EQ(tags(5), (std::vector<std::int32_t>{65}));  // quoted single "65"
  EXPECT_EQ(v.first_tag(0), 12);
  EXPECT_EQ(v.first_tag(3), -1);
  EXPECT_EQ(v.row_of(108), 7u);
  std::vector<std::int32_t> out;
  EXPECT_TRUE(parse_kuairand_tag_list(" 3, 4", out));
  EXPECT_EQ(out, (std::vector<std::int32_t>{3, 4}));
  EXPECT_FALSE(parse_kuairand_tag_list("3,,4", out));
  EXPECT_FALSE(parse_kuairand_tag_list("3;4", out));
  EXPECT_FALSE(parse_kuairand_tag_list("-1", out));
  ExpectMessage(v.report(), {"8 videos", "1 videos without a tag"});
}

TEST(KuaiRandMalformed, EachFileNamesFileLineAndFix) {
  auto m = [](const std::string& name) { return Fixture("malformed/" + name); };
  auto log = [&](const std::string& name) { return DataErrorOf([&] { read_all({m(name)}); }); };
  ExpectMessage(log("kuairand_log_missing_column.csv"),
                {"kuairand_log_missing_column.csv:1:", "missing column 'tab'"});
  ExpectMessage(log("kuairand_log_bad_flag.csv"),
                {"kuairand_log_bad_flag.csv:3:", "column 'is_like': '2' is not 0 or 1",
                 "fix or remove this row"});
  ExpectMessage(log("kuairand_log_bad_date.csv"),
                {"kuairand_log_bad_date.csv:4:", "'20220431' is not a yyyymmdd date", "fix"});
  ExpectMessage(log("kuairand_log_bad_tab.csv"),
                {"kuairand_log_bad_tab.csv:2:", "column 'tab': 15 is outside 0..14", "fix"});
  ExpectMessage(log("kuairand_log_bad_hourmin.csv"),
                {"kuairand_log_bad_hourmin.csv:3:", "'2575' is not a time HHMM", "fix"});
  ExpectMessage(
      log("kuairand_log_bad_number.csv"),
      {"kuairand_log_bad_number.csv:4:", "column 'play_time_ms': '12x' is not a number", "fix"});
  ExpectMessage(log("kuairand_log_empty_flag.csv"),
                {"kuairand_log_empty_flag.csv:2:", "column 'is_hate' is empty", "must be filled"});
  ExpectMessage(log("kuairand_log_truncated.csv"),
                {"kuairand_log_truncated.csv:3:", "expected 19 fields", "found 11"});
  ExpectMessage(log("kuairand_log_unterminated_quote.csv"),
                {"kuairand_log_unterminated_quote.csv:4:", "unterminated quoted field"});
  const fs::path split = m("kuairand_split");
  ExpectMessage(DataErrorOf([&] {
                  read_all(kuairand_log_parts(split, "log_standard_4_08_to_4_21_27k.csv"));
                }),
                {"log_standard_4_08_to_4_21_27k_part2.csv:1:", "missing column 'play_time_ms'"});
  ExpectMessage(DataErrorOf([&] { load_kuairand_user_features(m("kuairand_user_duplicate.csv")); }),
                {"kuairand_user_duplicate.csv:5:", "user_id 3 appears a second time",
                 "remove the repeated row"});
  ExpectMessage(
      DataErrorOf([&] { load_kuairand_user_features(m("kuairand_user_bad_number.csv")); }),
      {"kuairand_user_bad_number.csv:4:", "column 'follow_user_num': 'many'", "fix"});
  ExpectMessage(DataErrorOf([&] { load_kuairand_video_features(m("kuairand_video_bad_tag.csv")); }),
                {"kuairand_video_bad_tag.csv:3:", "column 'tag': '8,x'", "comma list", "fix"});
  ExpectMessage(
      DataErrorOf([&] { load_kuairand_video_features(m("kuairand_video_duplicate.csv")); }),
      {"kuairand_video_duplicate.csv:6:", "video_id 101 appears a second time"});
  // A user-features file given as a log (a common mix-up) names the first missing column.
  ExpectMessage(DataErrorOf([&] { read_all({pure("user_features_pure.csv")}); }),
                {"user_features_pure.csv:1:", "missing column 'video_id'"});
}

}  // namespace
}  // namespace stagesim::data
