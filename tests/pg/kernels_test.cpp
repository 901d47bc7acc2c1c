#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "pg_test_util.hpp"
#include "learners/pg/fast_exp.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/top_k.hpp"

namespace stagesim::pg {
namespace {

TEST(FastExp, WithinOneUlpOfLibm) {
  std::vector<double> x;
  for (double v = -708.0; v <= 30.0; v += 0.001237) x.push_back(v);
  x.push_back(0.0);
  std::vector<double> y(x.size());
  exp_shifted(x.data(), 0.0, y.data(), static_cast<int>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ref = std::exp(x[i]);
    const double ulp = std::nextafter(ref, INFINITY) - ref;
    ASSERT_LE(std::abs(y[i] - ref), ulp) << "x = " << x[i];
  }
  EXPECT_EQ(y.back(), 1.0);  // the row maximum gets weight exactly 1
}

TEST(FastExp, ShiftAndUnderflow) {
  const double x[] = {5.0, -703.0, -704.0, -1000.0};
  double y[4];
  exp_shifted(x, 5.0, y, 4);
  EXPECT_EQ(y[0], 1.0);
  EXPECT_GT(y[1], 0.0);  // exp(−708): last normal result
  EXPECT_EQ(y[2], 0.0);  // exp(−709) is flushed (documented)
  EXPECT_EQ(y[3], 0.0);
}

TEST(TopSelector, MatchesStableSortIncludingTies) {
  Rng rng(3);
  TopSelector selector;
  for (int n_items : {7, 64, 1000}) {
    auto logits = testing::random_logits(1, 1, n_items, 1.0, rng);
    std::vector<double> key(logits[0].data(), logits[0].data() + n_items);
    for (int i = 0; i < n_items; i += 5) key[i] = 0.25;  // many exact ties
    std::vector<int> order(n_items);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[a] > key[b]; });
    for (int n : {1, 3, 24, 25, n_items / 2, n_items}) {
      if (n > n_items) continue;
      std::vector<int> out(n);
      selector.select(key.data(), n_items, n, out.data());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), order.begin())) << n_items << " " << n;
    }
  }
}

TEST(RowSoftmax, Log1mProbHasNoCancellation) {
  std::vector<RowMatrixXd> logits(1, RowMatrixXd(1, 4));
  logits[0] << 0.0, -40.0, -41.0, -45.0;
  RowSoftmax sm;
  sm.compute(logits, 0);
  const double rest = std::exp(-40.0) + std::exp(-41.0) + std::exp(-45.0);
  EXPECT_NEAR(sm.log1m_prob(0, 0), std::log(rest) - std::log1p(rest), 1e-12);
  EXPECT_NEAR(sm.log1m_prob(0, 1), std::log1p(-std::exp(-40.0) / (1 + rest)), 1e-15);
  EXPECT_NEAR(sm.log_sum_exp(0), std::log1p(rest), 1e-15);
}

}  // namespace
}  // namespace stagesim::pg

using stagesim::pg::TopSelector;

// NaN keys (from overflowed logits) never make the selection undefined: it returns n distinct
// indices with the NaNs after the numbers. The chunked path used to sort past the found items.
TEST(TopSelector, NaNKeysGiveDistinctIndicesWithoutUndefinedBehaviour) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int n_items : {10, 100, 1000}) {
    for (int n : {1, 5, n_items / 2, n_items}) {
      std::vector<double> key(static_cast<std::size_t>(n_items));
      for (int i = 0; i < n_items; ++i) key[i] = i % 3 == 0 ? nan : (i % 7 == 0 ? inf : i * 0.5);
      TopSelector selector;
      std::vector<int> out(static_cast<std::size_t>(n), -1);
      selector.select(key.data(), n_items, n, out.data());
      std::vector<int> sorted = out;
      std::sort(sorted.begin(), sorted.end());
      ASSERT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
          << n_items << " " << n;
      ASSERT_GE(sorted.front(), 0);
      ASSERT_LT(sorted.back(), n_items);
      bool seen_nan = false;
      for (int i : out) {
        if (std::isnan(key[i]))
          seen_nan = true;
        else
          EXPECT_FALSE(seen_nan) << "a number after a NaN";
      }
    }
    // All NaN: still n distinct indices, in index order.
    std::vector<double> all(static_cast<std::size_t>(n_items), nan);
    TopSelector selector;
    std::vector<int> out(5);
    selector.select(all.data(), n_items, 5, out.data());
    EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  }
}
