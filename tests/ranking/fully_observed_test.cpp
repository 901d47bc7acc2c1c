// The KuaiRec fully observed world on the fixture files (tests/fixtures/kuairec, invented values
// in the real format): pools = big ∪ small, the duration label rule, features.
#include <gtest/gtest.h>

#include <algorithm>

#include "environments/data/data_error.hpp"
#include "environments/fully_observed.hpp"

namespace stagesim {
namespace {

const std::string kDir = std::string(STAGESIM_SOURCE_DIR) + "/tests/fixtures/kuairec";

int index_of(const std::vector<std::int64_t>& ids, std::int64_t id) {
  const auto it = std::find(ids.begin(), ids.end(), id);
  return it == ids.end() ? -1 : static_cast<int>(it - ids.begin());
}

TEST(KuaiRecFullyObserved, PoolsAndLabelRule) {
  const FullyObservedWorld w = load_kuairec_fully_observed(kDir);
  EXPECT_EQ(w.users, static_cast<int>(w.user_ids.size()));
  EXPECT_EQ(w.items, static_cast<int>(w.item_ids.size()));
  auto label = [&](std::int64_t user, std::int64_t video) {
    const int u = index_of(w.user_ids, user), v = index_of(w.item_ids, video);
    EXPECT_GE(u, 0);
    EXPECT_GE(v, 0);
    return w.label(u, v);
  };
  auto in_pool = [&](std::int64_t user, std::int64_t video) {
    const int u = index_of(w.user_ids, user), v = index_of(w.item_ids, video);
    const auto p = w.pool(u);
    return std::binary_search(p.begin(), p.end(), v);
  };
  // video_duration > 7000 ms: positive iff play_duration > 7000.
  EXPECT_EQ(label(3, 148), 0);   // big 1000 / 10000, small 4000 / 8000
  EXPECT_EQ(label(14, 148), 1);  // small 13838 / 10867 (a pair only small has)
  EXPECT_TRUE(in_pool(14, 148));
  EXPECT_EQ(label(3, 36), 1);  // small 25000 / 10000
  // video_duration <= 7000 ms: positive iff play_duration >= video_duration (boundary included).
  EXPECT_EQ(label(21, 5), 1);   // small 5000 / 5000 (big 4000 / 10000 is negative: any row counts)
  EXPECT_EQ(label(21, 77), 0);  // small 2000 / 4000
  EXPECT_EQ(label(14, 5), 1);   // small 30000 / 5000
  // A pair in neither matrix is outside the pool (a negative for retrieval).
  EXPECT_FALSE(in_pool(3, 900));
  EXPECT_EQ(label(3, 900), 0);
  EXPECT_EQ(w.item_features.cols(), 31);
  EXPECT_EQ(w.user_features.rows(), w.users);
  // Item 36 has tags [30, 1, 2, 3] in item_categories.csv.
  const int v36 = index_of(w.item_ids, 36);
  EXPECT_EQ(w.item_features(v36, 30), 1.0);
  EXPECT_EQ(w.item_features(v36, 1), 1.0);
  EXPECT_EQ(w.item_features.row(v36).sum(), 4.0);
}

TEST(KuaiRecFullyObserved, MissingDirectoryIsADataError) {
  EXPECT_THROW(load_kuairec_fully_observed(kDir + "/nope"), data::DataError);
}

}  // namespace
}  // namespace stagesim
