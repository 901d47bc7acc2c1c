#include "environments/data/multilabel.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "environments/data/xc_text.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

using testing::DataErrorOf;
using testing::ExpectMessage;

std::vector<std::int32_t> Vec(std::span<const std::int32_t> s) {
  return {s.begin(), s.end()};
}

// Fixture label frequencies: 3:6, then 0, 1, 7 with 2 each, then 2, 4, 5, 8, 9 with 1 each.
TEST(Multilabel, CustomSelectionRemapsByRank) {
  const XcDataset d = read_xc_text(testing::Fixture("amazoncat/train.txt"));
  const CategoryRemap r = select_categories(d.labels, d.num_labels, {.first_rank = 2, .count = 3});
  EXPECT_EQ(r.original, (std::vector<std::int32_t>{0, 1, 7}));  // ties: lower id first
  EXPECT_EQ(r.frequency, (std::vector<std::int64_t>{2, 2, 2}));
  ASSERT_EQ(r.labels.size(), 8);
  const std::vector<std::vector<std::int32_t>> expected = {{0, 2}, {}, {}, {0, 1, 2},
                                                           {},     {}, {}, {1}};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Vec(r.labels[i]), expected[i]) << i;
  const LabelStats s = compute_label_stats(r, 1, 1);
  EXPECT_EQ(s.positives, 6);
  EXPECT_DOUBLE_EQ(s.positive_rate, 6.0 / 24.0);
  EXPECT_DOUBLE_EQ(s.no_label_share, 5.0 / 8.0);
  EXPECT_DOUBLE_EQ(s.top_share, 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(s.bottom_share, 2.0 / 6.0);
}

TEST(Multilabel, DefaultSelectionAndReport) {
  const XcDataset d = read_xc_text(testing::Fixture("amazoncat/train.txt"));
  const CategoryRemap r = select_categories(d.labels, d.num_labels);
  // Ranks 3.. of [3, 0, 1, 7, 2, 4, 5, 8, 9]: only 7 categories exist past rank 2.
  EXPECT_EQ(r.original, (std::vector<std::int32_t>{1, 7, 2, 4, 5, 8, 9}));
  EXPECT_EQ(r.frequency, (std::vector<std::int64_t>{2, 2, 1, 1, 1, 1, 1}));
  const LabelStats s = compute_label_stats(r);
  EXPECT_EQ(s.products, 8);
  EXPECT_EQ(s.categories, 7);
  EXPECT_EQ(s.positives, 9);
  EXPECT_DOUBLE_EQ(s.positive_rate, 9.0 / 56.0);
  EXPECT_DOUBLE_EQ(s.top_share, 7.0 / 9.0);
  EXPECT_DOUBLE_EQ(s.bottom_share, 1.0);
  EXPECT_DOUBLE_EQ(s.no_label_share, 2.0 / 8.0);  // points 2 and 4
  ExpectMessage(s.report(), {"8 products", "7 kept categories", "positive rate 16.07 %",
                             "top-5 share 77.78 %", "paper 10.73 %", "25.00 %"});
}

TEST(Multilabel, DuplicatesCountOnceAndErrors) {
  IdLists labels;
  const std::vector<std::int32_t> a = {1, 1, 0};
  const std::vector<std::int32_t> b = {1};
  labels.push_back(a);
  labels.push_back(b);
  const CategoryRemap r = select_categories(labels, 2, {.first_rank = 1, .count = 5});
  EXPECT_EQ(r.original, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(r.frequency, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(Vec(r.labels[0]), (std::vector<std::int32_t>{0, 1}));
  ExpectMessage(DataErrorOf([&] { select_categories(labels, 1); }), {"label 1", "[0, 1)"});
  ExpectMessage(DataErrorOf([&] { select_categories(labels, 2, {.first_rank = 0}); }),
                {"first_rank"});
}

}  // namespace
}  // namespace stagesim::data
