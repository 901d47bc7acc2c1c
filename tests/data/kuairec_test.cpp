#include "environments/data/kuairec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;
using testing::DataErrorOf;
using testing::ExpectMessage;
using testing::Fixture;

const std::vector<std::int64_t> kSmallUsers = {14, 3, 7, 21};
const std::vector<std::int64_t> kSmallItems = {148, 36, 1001, 5, 77};
// Dense small_matrix fixture, users x items in order of first appearance, missing cells 0.
const double kSmallTable[4][5] = {{1.2734, 0.8, 0.0, 6.0, 0.0},
                                  {0.5, 2.5, 0.2, 0.0, 3.0},
                                  {0.0, 0.0, 12.0, 2.2, 0.0},
                                  {0.4601, 0.0, 0.0, 1.0, 0.5}};

const std::vector<std::int64_t> kBigUsers = {3, 7, 14, 21, 0,  1,  2,  4,  5,  6,
                                             8, 9, 10, 11, 12, 13, 15, 16, 17, 18};
const std::vector<std::int64_t> kBigItems = {148, 0, 512, 36,  12, 640, 1001, 200,
                                             777, 5, 201, 900, 77, 333, 1300};

TEST(KuaiRecLocate, BothLayoutsAndErrors) {
  EXPECT_EQ(locate_kuairec_dir(Fixture("kuairec")), Fixture("kuairec"));
  EXPECT_EQ(locate_kuairec_dir(Fixture("kuairec_nested")),
            Fixture("kuairec_nested") / "KuaiRec 2.0" / "data");
  EXPECT_EQ(kuairec_file(Fixture("kuairec_nested"), "small_matrix.csv"),
            Fixture("kuairec_nested") / "KuaiRec 2.0" / "data" / "small_matrix.csv");
  const fs::path tmp = testing::TempDir();
  fs::create_directories(tmp / "a" / "data");
  fs::copy_file(Fixture("kuairec/small_matrix.csv"), tmp / "a" / "data" / "small_matrix.csv");
  EXPECT_EQ(locate_kuairec_dir(tmp / "a"), tmp / "a" / "data");
  fs::create_directories(tmp / "b" / "KuaiRec" / "data");
  fs::copy_file(Fixture("kuairec/big_matrix.csv"),
                tmp / "b" / "KuaiRec" / "data" / "big_matrix.csv");
  EXPECT_EQ(locate_kuairec_dir(tmp / "b", "big_matrix.csv"), tmp / "b" / "KuaiRec" / "data");
  ExpectMessage(
      DataErrorOf([&] { locate_kuairec_dir(tmp / "b", "small_matrix.csv"); }),
      {"small_matrix.csv", (tmp / "b").string(), (tmp / "b" / "data").string(),
       (tmp / "b" / "KuaiRec" / "data").string(), (tmp / "b" / "KuaiRec 2.0" / "data").string()});
  ExpectMessage(DataErrorOf([&] { locate_kuairec_dir(tmp / "nothing"); }), {"KuaiRec CSV files"});
}

TEST(KuaiRecInteractions, SmallMatrixExactValues) {
  const Interactions x = load_kuairec_interactions(Fixture("kuairec/small_matrix.csv"));
  EXPECT_EQ(x.users.ids(), kSmallUsers);
  EXPECT_EQ(x.items.ids(), kSmallItems);
  ASSERT_EQ(x.size(), 13);
  const std::vector<std::int32_t> user = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 1};
  const std::vector<std::int32_t> item = {0, 1, 2, 3, 1, 0, 4, 3, 2, 0, 4, 3, 2};
  const std::vector<double> ratio = {1.2734, 0.8,  0.0,    6.0, 2.5, 0.5, 3.0,
                                     2.2,    12.0, 0.4601, 0.5, 1.0, 0.2};
  EXPECT_EQ(x.user, user);
  EXPECT_EQ(x.item, item);
  EXPECT_EQ(x.watch_ratio, ratio);  // row 6: nan recomputed as 4000 / 8000
  EXPECT_TRUE(x.positive.empty());
  // Details, including rows with empty time/date/timestamp.
  EXPECT_EQ(x.date[0], 20200705);
  EXPECT_EQ(x.timestamp[0], 1593898068.378);
  EXPECT_EQ(x.play_duration[0], 13838);
  EXPECT_EQ(x.video_duration[0], 10867);
  EXPECT_EQ(x.date[2], -1);
  EXPECT_TRUE(std::isnan(x.timestamp[2]));
  EXPECT_EQ(x.date[9], -1);  // user "21.0"
  EXPECT_EQ(x.date[11], 20200708);
  EXPECT_EQ(x.timestamp[11], 1594170060);
  EXPECT_EQ(x.play_duration[5], 4000);
  // Summary.
  const LoadSummary& s = x.summary;
  EXPECT_EQ(s.rows, 14);
  EXPECT_EQ(s.skipped_rows, 1);  // "7,36,,,,,,"
  EXPECT_EQ(s.kept_rows, 13);
  EXPECT_EQ(s.users, 4);
  EXPECT_EQ(s.items, 5);
  EXPECT_EQ(s.missing_values, 13);
  EXPECT_EQ(s.duplicates, 0);
  EXPECT_EQ(s.max_video_id, 1001);
  ASSERT_EQ(s.warnings.size(), 1u);  // fixture counts differ from the official ones
  const std::string report = s.report();
  ExpectMessage(report, {"small_matrix.csv", "14 rows read", "1 skipped", "4 users x 5 items",
                         "13 missing values", "WARNING: counts differ", "rows 14 vs 4,676,570",
                         "users 4 vs 1,411", "items 5 vs 3,327"});
}

TEST(KuaiRecInteractions, DetailsOffClipAndPositives) {
  InteractionOptions o;
  o.keep_details = false;
  o.clip = 5.0;
  o.positive_threshold = 2.0;
  Interactions x = load_kuairec_interactions(Fixture("kuairec/small_matrix.csv"), o);
  EXPECT_TRUE(x.timestamp.empty());
  EXPECT_TRUE(x.date.empty());
  EXPECT_EQ(x.watch_ratio[3], 5.0);
  EXPECT_EQ(x.watch_ratio[8], 5.0);
  EXPECT_EQ(x.watch_ratio[0], 1.2734);
  EXPECT_EQ(x.summary.missing_values, 13);
  EXPECT_EQ(x.positive, (std::vector<std::uint8_t>{0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0}));
  o.positive_strict = true;
  o.positive_threshold = 2.5;
  x = load_kuairec_interactions(Fixture("kuairec/small_matrix.csv"), o);
  EXPECT_EQ(x.positive, (std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0}));
}

TEST(KuaiRecInteractions, BigMatrixKeepAll) {
  const Interactions x = load_kuairec_interactions(Fixture("kuairec/big_matrix.csv"));
  EXPECT_EQ(x.users.ids(), kBigUsers);
  EXPECT_EQ(x.items.ids(), kBigItems);
  ASSERT_EQ(x.size(), 63);
  EXPECT_EQ(x.summary.rows, 63);
  EXPECT_EQ(x.summary.duplicates, 3);
  EXPECT_EQ(x.summary.missing_values, 3);
  EXPECT_EQ(x.summary.skipped_rows, 0);
  EXPECT_EQ(x.summary.users, 20);
  EXPECT_EQ(x.summary.items, 15);
  EXPECT_EQ(x.summary.max_video_id, 1300);
  // Row 4 of user 7 (k=1): ratio 0.2 + 1/100 and a quoted note with escaped quotes (ignored).
  EXPECT_EQ(x.users.id(x.user[4]), 7);
  EXPECT_EQ(x.items.id(x.item[4]), 12);
  EXPECT_EQ(x.watch_ratio[4], 0.21);
  EXPECT_EQ(x.users.id(x.user[60]), 0);
  EXPECT_EQ(x.items.id(x.item[60]), 77);
  EXPECT_EQ(x.watch_ratio[60], 1.5);
  EXPECT_EQ(x.watch_ratio[62], 1.0);
  EXPECT_TRUE(std::isnan(x.timestamp[59]));  // blank time/date/timestamp row kept
  EXPECT_EQ(x.date[59], -1);
}

struct PolicyCase {
  DuplicatePolicy policy;
  double pair_0_77;  // user 0, video 77: 0.5, then re-watched 1.5 and 1.0
  double pair_2_12;  // user 2, video 12: 0.7, then 4.0
  double ts_0_77;    // timestamp of the row the details come from
  double play_0_77;
};

TEST(KuaiRecInteractions, EveryDuplicatePolicy) {
  const double t0 = 1593900000;
  const std::vector<PolicyCase> cases = {
      {DuplicatePolicy::kFirst, 0.5, 0.7, t0 + 60 * 12, 5000},
      {DuplicatePolicy::kLast, 1.0, 4.0, t0 + 60 * 62, 10000},
      {DuplicatePolicy::kMean, 1.0, 2.35, t0 + 60 * 12, 5000},
      {DuplicatePolicy::kMax, 1.5, 4.0, t0 + 60 * 60, 15000},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(std::string(duplicate_policy_name(c.policy)));
    InteractionOptions o;
    o.duplicates = c.policy;
    const Interactions x = load_kuairec_interactions(Fixture("kuairec/big_matrix.csv"), o);
    ASSERT_EQ(x.size(), 60);
    EXPECT_EQ(x.summary.duplicates, 3);
    EXPECT_EQ(x.summary.kept_rows, 60);
    EXPECT_EQ(x.users.ids(), kBigUsers);
    // Pairs stay in order of first appearance: (0, 77) is row 12, (2, 12) row 18.
    ASSERT_EQ(x.users.id(x.user[12]), 0);
    ASSERT_EQ(x.items.id(x.item[12]), 77);
    ASSERT_EQ(x.users.id(x.user[18]), 2);
    ASSERT_EQ(x.items.id(x.item[18]), 12);
    EXPECT_NEAR(x.watch_ratio[12], c.pair_0_77, 1e-12);
    EXPECT_NEAR(x.watch_ratio[18], c.pair_2_12, 1e-12);
    EXPECT_EQ(x.timestamp[12], c.ts_0_77);
    EXPECT_EQ(x.play_duration[12], c.play_0_77);
    EXPECT_EQ(x.watch_ratio[13], 0.51);  // untouched neighbour
    EXPECT_TRUE(std::isnan(x.timestamp[59]));
  }
  EXPECT_EQ(parse_duplicate_policy("keep_all"), DuplicatePolicy::kKeepAll);
  EXPECT_EQ(parse_duplicate_policy("mean"), DuplicatePolicy::kMean);
  ExpectMessage(DataErrorOf([] { parse_duplicate_policy("median"); }), {"median", "keep_all"});
}

TEST(KuaiRecInteractions, OverlapBetweenSmallAndBig) {
  const Interactions small = load_kuairec_interactions(Fixture("kuairec/small_matrix.csv"));
  const Interactions big = load_kuairec_interactions(Fixture("kuairec/big_matrix.csv"));
  EXPECT_EQ(count_overlapping_pairs(small, big), 3);  // (3,148), (14,1001), (21,5)
  EXPECT_EQ(count_overlapping_pairs(big, small), 3);
}

TEST(KuaiRecInteractions, NestedLayoutGivesSameData) {
  const Interactions a = load_kuairec_interactions(Fixture("kuairec/small_matrix.csv"));
  const Interactions b =
      load_kuairec_interactions(kuairec_file(Fixture("kuairec_nested"), "small_matrix.csv"));
  EXPECT_EQ(a.watch_ratio, b.watch_ratio);
  EXPECT_EQ(a.users.ids(), b.users.ids());
}

TEST(KuaiRecInteractions, V1Detection) {
  const Interactions x = load_kuairec_interactions(Fixture("kuairec_v1/big_matrix.csv"));
  EXPECT_EQ(x.summary.max_video_id, 10728);
  bool found = false;
  for (const std::string& w : x.summary.warnings)
    found |= w.find("KuaiRec v1") != std::string::npos;
  EXPECT_TRUE(found) << x.summary.report();
  const Interactions ok = load_kuairec_interactions(Fixture("kuairec/big_matrix.csv"));
  EXPECT_EQ(ok.summary.report().find("v1"), std::string::npos);
}

TEST(KuaiRecSummary, ReportWhenCountsMatch) {
  LoadSummary s;
  s.file = "/data/KuaiRec 2.0/data/small_matrix.csv";
  s.rows = 4676570;
  s.kept_rows = 4676570;
  s.users = 1411;
  s.items = 3327;
  ExpectMessage(s.report(), {"small_matrix.csv: 4,676,570 rows read", "1,411 users x 3,327 items",
                             "Matches the official KuaiRec v2 counts"});
  EXPECT_EQ(s.report().find("WARNING"), std::string::npos);
  EXPECT_EQ(official_kuairec_counts("big_matrix.csv")->rows, 12530806);
  EXPECT_FALSE(official_kuairec_counts("other.csv").has_value());
}

TEST(KuaiRecDense, SmallMatrixFloat64AndFloat32) {
  const DenseTable<double> t = load_kuairec_dense<double>(Fixture("kuairec/small_matrix.csv"));
  EXPECT_EQ(t.users.ids(), kSmallUsers);
  EXPECT_EQ(t.items.ids(), kSmallItems);
  ASSERT_EQ(t.values.rows, 4);
  ASSERT_EQ(t.values.cols, 5);
  for (int u = 0; u < 4; ++u) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(t.values(u, i), kSmallTable[u][i]) << u << "," << i;
  }
  EXPECT_EQ(t.observed_cells, 13);
  EXPECT_EQ(t.summary.rows, 14);
  EXPECT_EQ(t.summary.skipped_rows, 1);
  EXPECT_EQ(t.summary.missing_values, 13);
  EXPECT_EQ(t.summary.duplicates, 0);
  EXPECT_EQ(t.values.eigen()(2, 2), 12.0);  // the Eigen view is row-major like the table
  EXPECT_EQ(t.values.eigen().rows(), 4);

  DenseOptions o;
  o.clip = 10.0;
  const DenseTable<float> f = load_kuairec_dense<float>(Fixture("kuairec/small_matrix.csv"), o);
  for (int u = 0; u < 4; ++u) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(f.values(u, i), static_cast<float>(std::min(kSmallTable[u][i], 10.0)));
    }
  }
  EXPECT_EQ(f.values(2, 2), 10.0f);
}

TEST(KuaiRecDense, BigMatrixDuplicatePolicies) {
  const std::map<DuplicatePolicy, std::pair<double, double>> expect = {
      {DuplicatePolicy::kFirst, {0.5, 0.7}},
      {DuplicatePolicy::kLast, {1.0, 4.0}},
      {DuplicatePolicy::kMean, {1.0, 2.35}},
      {DuplicatePolicy::kMax, {1.5, 4.0}}};
  for (const auto& [policy, values] : expect) {
    SCOPED_TRACE(std::string(duplicate_policy_name(policy)));
    DenseOptions o;
    o.duplicates = policy;
    const DenseTable<double> t = load_kuairec_dense<double>(Fixture("kuairec/big_matrix.csv"), o);
    EXPECT_EQ(t.users.ids(), kBigUsers);
    EXPECT_EQ(t.items.ids(), kBigItems);
    EXPECT_EQ(t.summary.duplicates, 3);
    EXPECT_EQ(t.observed_cells, 60);
    EXPECT_NEAR(t.values(4, 12), values.first, 1e-12);  // user 0, video 77
    EXPECT_NEAR(t.values(6, 4), values.second, 1e-12);  // user 2, video 12
    EXPECT_EQ(t.values(0, 0), 0.1);                     // user 3, video 148
    EXPECT_EQ(t.values(0, 3), 0.0);                     // user 3 never saw video 36
  }
  DenseOptions o;
  o.duplicates = DuplicatePolicy::kKeepAll;
  ExpectMessage(
      DataErrorOf([&] { load_kuairec_dense<double>(Fixture("kuairec/big_matrix.csv"), o); }),
      {"big_matrix.csv", "keep_all"});
}

// A small_matrix-shaped file of modest size, written here; every cell is checked.
TEST(KuaiRecDense, GeneratedMatrixLoadsToTheRightTable) {
  const int n_users = 150;
  const int n_items = 200;
  const fs::path path = testing::TempDir() / "small_matrix.csv";
  std::vector<double> expected(n_users * n_items, 0.0);
  std::vector<std::int64_t> user_ids;
  std::vector<std::int64_t> item_ids;
  for (int u = 0; u < n_users; ++u) user_ids.push_back((u * 37) % 1009);
  for (int i = 0; i < n_items; ++i) item_ids.push_back((i * 53) % 4001);
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n",
               f);
    long row = 0;
    for (int u = 0; u < n_users; ++u) {
      for (int i = 0; i < n_items; ++i, ++row) {
        if ((u * 7 + i * 3) % 11 == 0 && !(u == 0 || i == 0)) continue;  // missing cells
        const double r = ((u * 31 + i * 17) % 1000) / 100.0;
        expected[u * n_items + i] = r;
        if (row % 97 == 0) {
          std::fprintf(f, "%lld.0,%lld,%d,10000,,,,%.2f\n", static_cast<long long>(user_ids[u]),
                       static_cast<long long>(item_ids[i]), static_cast<int>(r * 10000), r);
        } else {
          std::fprintf(f, "%lld,%lld,%d,10000,2020-07-05 05:27:48.378,20200705.0,%ld.5,%.2f\n",
                       static_cast<long long>(user_ids[u]), static_cast<long long>(item_ids[i]),
                       static_cast<int>(r * 10000), 1593898068L + row, r);
        }
      }
    }
    std::fclose(f);
  }
  const DenseTable<double> t = load_kuairec_dense<double>(path);
  ASSERT_EQ(t.values.rows, n_users);
  ASSERT_EQ(t.values.cols, n_items);
  EXPECT_EQ(t.users.ids(), user_ids);
  EXPECT_EQ(t.items.ids(), item_ids);
  for (int u = 0; u < n_users; ++u) {
    for (int i = 0; i < n_items; ++i) {
      ASSERT_NEAR(t.values(u, i), expected[u * n_items + i], 1e-12) << u << "," << i;
    }
  }
  const Interactions x = load_kuairec_interactions(path);
  EXPECT_EQ(x.summary.rows, t.observed_cells);
  EXPECT_EQ(x.summary.missing_values, t.summary.missing_values);
}

TEST(KuaiRecSideTables, UserFeatures) {
  const UserFeatures f = load_kuairec_user_features(Fixture("kuairec/user_features.csv"));
  ASSERT_EQ(f.user_id.size(), 20u);
  EXPECT_EQ(f.user_id[0], 0);
  EXPECT_EQ(f.user_id[19], 21);
  EXPECT_EQ(f.active_degree[0], "high_active");
  EXPECT_EQ(f.active_degree[3], "UNKNOWN");
  ASSERT_EQ(f.numeric.cols, 25);
  const auto oh12 = f.numeric_column("onehot_feat12");
  const auto oh13 = f.numeric_column("onehot_feat13");
  const auto follow = f.numeric_column("follow_user_num");
  const auto live = f.numeric_column("is_live_streamer");
  const auto days = f.numeric_column("register_days");
  const auto oh0 = f.numeric_column("onehot_feat0");
  ASSERT_TRUE(oh12 && oh13 && follow && live && days && oh0);
  EXPECT_TRUE(std::isnan(f.numeric(0, *oh12)));
  EXPECT_EQ(f.numeric(1, *oh12), 1.0);
  EXPECT_EQ(f.numeric(1, *oh13), 0.0);
  EXPECT_EQ(f.numeric(1, *follow), 3);
  EXPECT_EQ(f.numeric(1, *live), 1);
  EXPECT_EQ(f.numeric(19, *days), 119);
  EXPECT_EQ(f.numeric(5, *oh0), 2);
  EXPECT_EQ(f.range_names[0], "follow_user_num_range");
  EXPECT_EQ(f.ranges[0][0], "0");
  EXPECT_EQ(f.ranges[0][1], "(0,10]");
  EXPECT_EQ(f.ranges[3][7], "(90,180]");
  EXPECT_EQ(f.summary.missing_values, 24);
  EXPECT_EQ(f.summary.rows, 20);
}

TEST(KuaiRecSideTables, ItemCategoriesAndSocialNetwork) {
  const ItemCategories c = load_kuairec_item_categories(Fixture("kuairec/item_categories.csv"));
  ASSERT_EQ(c.video_id.size(), 15u);
  EXPECT_EQ(c.video_id[1], 5);
  EXPECT_EQ(std::vector<std::int32_t>(c.tags[1].begin(), c.tags[1].end()),
            (std::vector<std::int32_t>{27, 9}));
  EXPECT_EQ(std::vector<std::int32_t>(c.tags[3].begin(), c.tags[3].end()),
            (std::vector<std::int32_t>{30, 1, 2, 3}));
  EXPECT_EQ(c.tags[0].size(), 1u);
  EXPECT_EQ(c.tags[0][0], 8);

  const SocialNetwork s = load_kuairec_social_network(Fixture("kuairec/social_network.csv"));
  EXPECT_EQ(s.user_id, (std::vector<std::int64_t>{3, 7, 14, 21}));
  EXPECT_EQ(std::vector<std::int32_t>(s.friends[2].begin(), s.friends[2].end()),
            (std::vector<std::int32_t>{7, 21, 3}));
  EXPECT_TRUE(s.friends[3].empty());

  std::vector<std::int32_t> out;
  EXPECT_TRUE(parse_id_list_literal(" [ 1 ,2, 3 ] ", out));
  EXPECT_EQ(out, (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_TRUE(parse_id_list_literal("[]", out));
  EXPECT_TRUE(out.empty());
  for (const char* bad : {"", "[", "[1,", "[1 2]", "[1,]", "1, 2", "[-1]", "[1] x", "[a]"}) {
    EXPECT_FALSE(parse_id_list_literal(bad, out)) << bad;
  }
}

TEST(KuaiRecSideTables, ItemDailyFeaturesAutomaticColumns) {
  const ItemDailyFeatures d =
      load_kuairec_item_daily_features(Fixture("kuairec/item_daily_features.csv"));
  EXPECT_EQ(d.video_id, (std::vector<std::int64_t>{0, 0, 5, 5, 36, 148}));
  EXPECT_EQ(d.date, (std::vector<std::int32_t>{20200705, 20200706, 20200705, 20200706, 20200705,
                                               20200705}));
  EXPECT_EQ(d.author_id, (std::vector<std::int64_t>{3309, 3309, -1, -1, 77, 78}));
  EXPECT_EQ(d.numeric_names,
            (std::vector<std::string>{"video_duration", "show_cnt", "play_cnt", "like_cnt"}));
  EXPECT_EQ(d.text_names, (std::vector<std::string>{"video_type", "upload_dt", "upload_type",
                                                    "visible_status", "video_tag_name"}));
  EXPECT_EQ(d.numeric(0, 0), 5966.0);
  EXPECT_TRUE(std::isnan(d.numeric(2, 0)));
  EXPECT_TRUE(std::isnan(d.numeric(3, 0)));
  EXPECT_EQ(d.numeric(4, 0), 11000.5);
  EXPECT_EQ(d.numeric(4, *d.numeric_column("like_cnt")), 40);
  EXPECT_EQ(d.text[0][2], "AD");
  EXPECT_EQ(d.text[1][0], "2020-03-30");
  EXPECT_EQ(d.text[4], (std::vector<std::string>{"28", "28", "Food", "Food", "Pets, Cats", ""}));
  EXPECT_EQ(d.summary.missing_values, 5);
  EXPECT_EQ(d.summary.rows, 6);
}

TEST(KuaiRecSideTables, ItemDailyFeaturesExplicitColumns) {
  const fs::path p = Fixture("kuairec/item_daily_features.csv");
  const ItemDailyFeatures d = load_kuairec_item_daily_features(p, {"play_cnt", "like_cnt"});
  EXPECT_EQ(d.numeric_names, (std::vector<std::string>{"play_cnt", "like_cnt"}));
  EXPECT_TRUE(d.text_names.empty());
  EXPECT_EQ(d.numeric(1, 0), 95);
  EXPECT_EQ(d.numeric(5, 1), 0);
  ExpectMessage(DataErrorOf([&] { load_kuairec_item_daily_features(p, {"video_type"}); }),
                {"item_daily_features.csv:2:", "'video_type'", "'NORMAL'"});
  ExpectMessage(DataErrorOf([&] { load_kuairec_item_daily_features(p, {"nope"}); }),
                {"item_daily_features.csv:1:", "missing column 'nope'"});
}

TEST(KuaiRecMalformed, EachFileNamesFileAndLine) {
  auto m = [](const char* name) { return Fixture(std::string("malformed/") + name); };
  auto both = [&](const char* name, std::initializer_list<std::string> parts) {
    SCOPED_TRACE(name);
    ExpectMessage(DataErrorOf([&] { load_kuairec_interactions(m(name)); }), parts);
    ExpectMessage(DataErrorOf([&] { load_kuairec_dense<float>(m(name)); }), parts);
  };
  both("small_matrix_missing_column.csv",
       {"small_matrix_missing_column.csv:1:", "missing column 'watch_ratio'"});
  both("small_matrix_bad_number.csv",
       {"small_matrix_bad_number.csv:4:", "'watch_ratio'", "'1.2.3'", "not a number"});
  both("small_matrix_bad_int.csv",
       {"small_matrix_bad_int.csv:3:", "'user_id'", "'7.5'", "not an integer"});
  both("small_matrix_truncated.csv", {"small_matrix_truncated.csv:6:", "expected 8 fields"});
  both("small_matrix_unterminated_quote.csv",
       {"small_matrix_unterminated_quote.csv:3:", "unterminated"});
  ExpectMessage(DataErrorOf([&] { load_kuairec_item_categories(m("item_categories_bad_tag.csv")); }),
                {"item_categories_bad_tag.csv:3:", "tag id 31", "0..30"});
  ExpectMessage(DataErrorOf([&] { load_kuairec_item_categories(m("item_categories_bad_list.csv")); }),
                {"item_categories_bad_list.csv:2:", "'feat'", "[27, 9"});
  ExpectMessage(DataErrorOf([&] { load_kuairec_user_features(m("small_matrix_bad_int.csv")); }),
                {"small_matrix_bad_int.csv:1:", "missing column 'user_active_degree'"});
  ExpectMessage(DataErrorOf([&] { load_kuairec_interactions(m("does_not_exist.csv")); }),
                {"does_not_exist.csv", "cannot open"});
}

}  // namespace
}  // namespace stagesim::data
