// Files whose contents are small but whose headers or ids would demand huge allocations, and
// values that used to be clipped silently (issue 12, items 5 and 9).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "environments/data/kuairec.hpp"
#include "environments/data/multilabel.hpp"
#include "environments/data/xc_text.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;

const char* kHeader =
    "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n";

fs::path Write(const std::string& name, const std::string& text) {
  const fs::path p = testing::TempDir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << (msg)

// 3000 rows, every one a new user and a new video: a 9M-cell table that is 0.03 % observed. It
// used to be allocated (a 1.3 MB file of this kind asked for 28.8 GB).
TEST(BoundedAllocation, DenseKuaiRecTableMustBeMostlyObserved) {
  std::string text = kHeader;
  for (int i = 0; i < 3000; ++i)
    text += std::to_string(i) + "," + std::to_string(100000 + i) + ",1,1,,20200101,1,0.5\n";
  const fs::path p = Write("small_matrix.csv", text);
  const std::string m = ErrorOf([&] { load_kuairec_dense<double>(p); });
  EXPECT_HAS(m, "small_matrix.csv");
  EXPECT_HAS(m, "3,000 distinct user_ids x 3,000 distinct video_ids from 3,000 rows");
  EXPECT_HAS(m, "under 1/64 observed");
  // The interactions themselves (no dense table) still load.
  EXPECT_EQ(load_kuairec_interactions(p).size(), 3000);
  // A real matrix shape (every user rates every video) loads.
  std::string full = kHeader;
  for (int u = 0; u < 30; ++u)
    for (int v = 0; v < 40; ++v)
      full += std::to_string(u) + "," + std::to_string(v) + ",1,1,,20200101,1,0.5\n";
  EXPECT_EQ(load_kuairec_dense<double>(Write("full.csv", full)).values.rows, 30);
}

TEST(BoundedAllocation, DenseKuaiRecTableRespectsTheMemoryLimit) {
  std::string text = kHeader;
  for (int u = 0; u < 30; ++u)
    for (int v = 0; v < 40; ++v)
      text += std::to_string(u) + "," + std::to_string(v) + ",1,1,,20200101,1,0.5\n";
  DenseOptions o;
  o.max_bytes = 1000;  // 30 x 40 doubles need 9.6 KB
  const std::string m = ErrorOf([&] { load_kuairec_dense<double>(Write("m.csv", text), o); });
  EXPECT_HAS(m, "30 users x 40 videos needs");
  EXPECT_HAS(m, "are available");
}

// A 34-byte XC file whose header claims 2e9 labels asked for 40 GB in the category selection.
TEST(BoundedAllocation, XcLabelCountFromTheHeaderDoesNotSizeAllocations) {
  const fs::path p = Write("xc.txt", "3 5 2000000000\n0,7 0:1\n7 1:1\n1999999999 2:1\n");
  const XcDataset ds = read_xc_text(p);
  ASSERT_EQ(ds.num_labels, 2000000000);
  const CategoryRemap r = select_categories(ds.labels, ds.num_labels, {1, 2});
  ASSERT_EQ(r.original.size(), 2u);
  EXPECT_EQ(r.original[0], 7);  // in two products
  EXPECT_EQ(r.frequency[0], 2);
  const auto first = r.labels[0];  // labels 0, 7 -> kept ids 1, 0, ascending
  EXPECT_EQ(std::vector<std::int32_t>(first.begin(), first.end()),
            (std::vector<std::int32_t>{0, 1}));
  // A header claiming 2e9 points in a tiny file is reported as the truncation it is.
  const std::string m = ErrorOf([&] { read_xc_text(Write("n.txt", "2000000000 5 3\n0 0:1\n")); });
  EXPECT_HAS(m, "file ends after 1 points but the header says 2000000000");
}

// inf / -inf watch ratios used to be clipped to the clip bounds without a word.
TEST(BoundedAllocation, NonFiniteWatchRatiosAreErrorsWithTheirLine) {
  for (const std::string& bad : {std::string("inf"), std::string("-inf"), std::string("1e999")}) {
    const fs::path p = Write("r.csv", std::string(kHeader) + "1,2,3,4,,20200101,1,0.5\n" +
                                          "1,3,3,4,,20200101,1," + bad + "\n");
    DenseOptions clipped;
    clipped.clip = 10;
    for (const DenseOptions& o : {clipped, DenseOptions{}}) {
      const std::string m = ErrorOf([&] { load_kuairec_dense<double>(p, o); });
      EXPECT_HAS(m, "r.csv:3");
      EXPECT_HAS(m, "is not a finite number");
    }
    EXPECT_HAS(ErrorOf([&] { load_kuairec_interactions(p); }), "r.csv:3");
  }
  // A missing ratio recomputed from durations that overflow is refused the same way.
  const fs::path p = Write("d.csv", std::string(kHeader) + "1,2,1e308,1e-308,,20200101,1,\n");
  EXPECT_HAS(ErrorOf([&] { load_kuairec_interactions(p); }), "d.csv:2");
}

}  // namespace
}  // namespace stagesim::data
