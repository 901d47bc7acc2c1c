#include "environments/data/xc_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "environments/data/npz.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

using testing::DataErrorOf;
using testing::ExpectMessage;
using testing::Fixture;

std::vector<std::int32_t> Vec(std::span<const std::int32_t> s) {
  return {s.begin(), s.end()};
}

TEST(XcText, FixtureExactValues) {
  const XcDataset d = read_xc_text(Fixture("amazoncat/train.txt"));
  EXPECT_EQ(d.num_points, 8);
  EXPECT_EQ(d.num_features, 12);
  EXPECT_EQ(d.num_labels, 10);
  ASSERT_EQ(d.labels.size(), 8);
  const std::vector<std::vector<std::int32_t>> labels = {{0, 3, 7}, {3, 5}, {},        {7, 1, 0},
                                                         {3},       {9, 3}, {2, 3, 8}, {3, 4, 1}};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Vec(d.labels[i]), labels[i]) << i;
  const CsrMatrix& f = d.features;
  EXPECT_EQ(f.rows, 8);
  EXPECT_EQ(f.cols, 12);
  EXPECT_EQ(f.indptr, (std::vector<std::int64_t>{0, 3, 5, 7, 9, 10, 12, 13, 15}));
  EXPECT_EQ(f.indices, (std::vector<std::int32_t>{0, 4, 11, 1, 2, 2, 9, 5, 6, 0, 10, 11, 3, 7, 8}));
  EXPECT_EQ(f.data, (std::vector<double>{0.5, 1.25, 0.75, 1, 0.5, 0.3, 1.0, 0.25, 0.125, 1, 0.5,
                                         0.5, 2.0, 0.1, 0.2}));
  validate_csr(f, "train.txt");
}

TEST(XcText, AgreesWithTheScipyLabelMatrix) {
  const XcDataset d = read_xc_text(Fixture("amazoncat/train.txt"));
  const CsrMatrix m = read_scipy_csr(Fixture("amazoncat/labels_csr.npz"));
  ASSERT_EQ(m.rows, d.num_points);
  for (std::int64_t i = 0; i < m.rows; ++i) {
    std::vector<std::int32_t> a = Vec(d.labels[i]);
    std::sort(a.begin(), a.end());
    EXPECT_EQ(a, Vec(m.row_indices(i))) << i;
  }
}

TEST(XcText, MalformedFiles) {
  auto m = [](const char* name) { return Fixture(std::string("malformed/") + name); };
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_wrong_header_count.txt")); }),
                {"amazoncat_wrong_header_count.txt:6:", "5 points", "header says 6"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_truncated_line.txt")); }),
                {"amazoncat_truncated_line.txt:4:", "bad feature value '1:'"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_label_out_of_range.txt")); }),
                {"amazoncat_label_out_of_range.txt:3:", "label 10", "[0, 10)"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_feature_out_of_range.txt")); }),
                {"amazoncat_feature_out_of_range.txt:3:", "feature 12", "[0, 12)"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_bad_header.txt")); }),
                {"amazoncat_bad_header.txt:2:", "bad header"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("amazoncat_too_many_points.txt")); }),
                {"amazoncat_too_many_points.txt:3:", "more points than the header's N = 1"});
  ExpectMessage(DataErrorOf([&] { read_xc_text(m("absent.txt")); }), {"absent.txt", "cannot open"});
  const auto dir = testing::TempDir();
  std::ofstream(dir / "labels.txt") << "2 5 5\n1,,2 0:1\n";
  ExpectMessage(DataErrorOf([&] { read_xc_text(dir / "labels.txt"); }),
                {"labels.txt:2:", "bad label list"});
  std::ofstream(dir / "empty.txt") << "# only a comment\n\n";
  ExpectMessage(DataErrorOf([&] { read_xc_text(dir / "empty.txt"); }), {"empty.txt", "no 'N D L'"});
}

}  // namespace
}  // namespace stagesim::data
