#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "learners/pg/counter_rng.hpp"
#include "learners/pg/fast_exp.hpp"
#include "learners/pg/fast_log.hpp"
#include "learners/pg/libm_float.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/top_k.hpp"
#include "pg_test_util.hpp"

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
    // Signed zeros are equal keys (index order), and −inf (the samplers' taken items) ranks last:
    // the packed order codes of the larger selections must agree.
    for (int i = 3; i < n_items; i += 7) key[i] = (i / 7) % 2 ? 0.0 : -0.0;
    for (int i = 6; i < n_items; i += 11) key[i] = -std::numeric_limits<double>::infinity();
    std::vector<int> order(n_items);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[a] > key[b]; });
    // Float keys: the same order as on the keys widened to double.
    std::vector<float> fkey(key.begin(), key.end());
    std::vector<int> forder(n_items);
    std::iota(forder.begin(), forder.end(), 0);
    std::stable_sort(forder.begin(), forder.end(), [&](int a, int b) { return fkey[a] > fkey[b]; });
    // Up to 32 the bound and the order come from counted ranks, from 33 the bisection bound and
    // the sort; past n_items / 4 chunks the exact selection. Ascending and descending inputs
    // (below) put the survivors at either end.
    for (int n : {1, 3, 10, 11, 24, 25, 32, 33, 40, 64, 65, 201, n_items / 2, n_items}) {
      if (n > n_items) continue;
      std::vector<int> out(n);
      selector.select(key.data(), n_items, n, out.data());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), order.begin())) << n_items << " " << n;
      selector.select(fkey.data(), n_items, n, out.data());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), forder.begin())) << n_items << " f " << n;
    }
    std::vector<double> up(n_items);
    std::iota(up.begin(), up.end(), 0.0);
    for (int n : {1, 10, 64}) {
      if (n > n_items) continue;
      std::vector<int> out(n);
      selector.select(up.data(), n_items, n, out.data());
      for (int j = 0; j < n; ++j) ASSERT_EQ(out[j], n_items - 1 - j);
      std::reverse(up.begin(), up.end());
      selector.select(up.data(), n_items, n, out.data());
      for (int j = 0; j < n; ++j) ASSERT_EQ(out[j], j);
      std::reverse(up.begin(), up.end());
    }
  }
}

// Random sizes, selection lengths (0 included) and key distributions (few distinct values, so
// many ties; signed zeros; ±inf), float and double, against a stable sort: every path of the
// selection (small arrays, counted ranks and insertion, bit-mask and byte-flag scans, bisection,
// sort).
TEST(TopSelector, RandomInputsMatchStableSort) {
  Rng rng(11);
  TopSelector selector;
  boost::random::uniform_int_distribution<int> size(1, 2500), levels(1, 400), coin(0, 9);
  for (int trial = 0; trial < 600; ++trial) {
    const int n_items = size(rng);
    const int n = boost::random::uniform_int_distribution<int>(0, std::min(n_items, 80))(rng);
    const int n_levels = levels(rng);
    boost::random::uniform_int_distribution<int> level(0, n_levels);
    std::vector<double> key(static_cast<std::size_t>(n_items));
    for (double& k : key) {
      const int c = coin(rng);
      k = c == 0   ? (level(rng) % 4 ? -1.0 : 1.0) * std::numeric_limits<double>::infinity()
          : c == 1 ? (level(rng) % 2 ? 0.0 : -0.0)
                   : (level(rng) - n_levels / 2) * 0.375;
    }
    std::vector<float> fkey(key.begin(), key.end());
    std::vector<int> order(static_cast<std::size_t>(n_items));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[a] > key[b]; });
    std::vector<int> out(static_cast<std::size_t>(n));
    selector.select(key.data(), n_items, n, out.data());
    ASSERT_TRUE(std::equal(out.begin(), out.end(), order.begin())) << n_items << " " << n;
    std::fill(out.begin(), out.end(), -1);
    selector.select(fkey.data(), n_items, n, out.data());
    ASSERT_TRUE(std::equal(out.begin(), out.end(), order.begin())) << n_items << " f " << n;
  }
}

// log_float against the correctly rounded log (std::log in double, rounded to float): every 61st
// float (all mantissa residues mod 61, ~18 M values) of [2^-126, 2^7] (the range −log(−log U) of
// the float32 sampler meets: U >= FLT_MIN gives −log U <= 87.4), within 1 ulp of the float result.
TEST(FastLog, WithinOneUlpOnTheSamplersRange) {
  constexpr int kBlock = 1 << 16;
  std::vector<float> x, y(kBlock);
  x.reserve(kBlock);
  // The last float is tested on its own below the loop (the stride skips it).
  std::uint32_t bits = std::bit_cast<std::uint32_t>(std::numeric_limits<float>::min());
  const std::uint32_t last = std::bit_cast<std::uint32_t>(128.0f);
  int worst = 0;
  while (bits <= last) {
    x.clear();
    for (; bits <= last && static_cast<int>(x.size()) < kBlock; bits += 61)
      x.push_back(std::bit_cast<float>(bits));
    log_float(x.data(), y.data(), static_cast<int>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float ref = static_cast<float>(std::log(static_cast<double>(x[i])));
      const int ulps =
          std::abs(std::bit_cast<std::int32_t>(y[i]) - std::bit_cast<std::int32_t>(ref));
      // Around log(1) = 0 ulps are tiny: compare there in absolute terms (2^-24 of the input).
      if (std::abs(ref) < 1e-3f) {
        ASSERT_LE(std::abs(y[i] - ref), 0x1p-47f + 0x1p-23f * std::abs(ref)) << x[i];
        continue;
      }
      worst = std::max(worst, ulps);
      ASSERT_LE(ulps, 1) << "x = " << x[i] << " got " << y[i] << " want " << ref;
    }
  }
  EXPECT_LE(worst, 1);
  {
    float top = 128.0f;
    log_float(&top, &top, 1);
    EXPECT_LE(std::abs(top - std::log(128.0f)), 1e-5f);
  }
  // In place, and exact at 1.
  float one[] = {1.0f, 2.0f};
  log_float(one, one, 2);
  EXPECT_EQ(one[0], 0.0f);
  EXPECT_NEAR(one[1], 0.6931472f, 1e-7f);
}

// The array exp/log/log1p against the scalar library calls, bit for bit, on the floats with bit
// patterns base + i·stride (every residue class of the stride is another test; the whole set is
// LibmFloatExhaustive below). Lengths that are not whole vectors run the scalar tails too.
void expect_libm_bits(std::uint64_t base, std::uint64_t stride, std::uint64_t end) {
  constexpr int kBlock = 1 << 14;
  std::vector<float> x(kBlock), e(kBlock), l(kBlock), p(kBlock);
  long long mismatches = 0;
  for (std::uint64_t b = base; b < end;) {
    int n = 0;
    for (; b < end && n < kBlock; b += stride) x[n++] = std::bit_cast<float>(std::uint32_t(b));
    const int n_odd = n > 7 ? n - 7 : n;  // tails of 7 (expf, logf: 4 lanes; log1pf: 8)
    libm_expf(x.data(), e.data(), n_odd);
    libm_logf(x.data(), l.data(), n_odd);
    libm_log1pf(x.data(), p.data(), n_odd);
    libm_expf(x.data() + n_odd, e.data() + n_odd, n - n_odd);
    libm_logf(x.data() + n_odd, l.data() + n_odd, n - n_odd);
    libm_log1pf(x.data() + n_odd, p.data() + n_odd, n - n_odd);
    for (int i = 0; i < n; ++i) {
      const auto bits = [](float v) { return std::bit_cast<std::uint32_t>(v); };
      const bool ok = bits(e[i]) == bits(std::exp(x[i])) && bits(l[i]) == bits(std::log(x[i])) &&
                      bits(p[i]) == bits(std::log1p(x[i]));
      if (!ok && ++mismatches <= 5) {
        ADD_FAILURE() << std::hexfloat << "x = " << x[i] << " (0x" << std::hex << bits(x[i])
                      << "): exp " << e[i] << " vs " << std::exp(x[i]) << ", log " << l[i] << " vs "
                      << std::log(x[i]) << ", log1p " << p[i] << " vs " << std::log1p(x[i]);
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(LibmFloat, MatchesTheLibraryBitForBit) {
  // Every 251st float (17 M values of all exponents and signs, NaNs with payloads included).
  expect_libm_bits(0, 251, std::uint64_t{1} << 32);
  // The ranges the float32 estimators feed: log1p of −p + ε in [−1, 0] (every 61st of its 2^30
  // floats), and every float near exp's overflow and underflow ends and near log(1).
  expect_libm_bits(0x80000000u, 61, 0xbf800001u);
  expect_libm_bits(0x42b00000u, 1, 0x42b30000u);  // 88 .. 89.5
  expect_libm_bits(0xc2c80000u, 1, 0xc2d20000u);  // −100 .. −105
  expect_libm_bits(0x3f7f0000u, 1, 0x3f810000u);  // ≈ 0.996 .. 1.008
  // The special values and the edges of log1pf's branches, one by one.
  for (const std::uint32_t v :
       {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7fa00001u,
        0x00000001u, 0x007fffffu, 0x00800000u, 0x3f800000u, 0xbf800000u, 0xbf800001u, 0x3ed413d6u,
        0x3ed413d7u, 0xbe95f61fu, 0xbe95f620u, 0x30ffffffu, 0x31000000u, 0x247fffffu, 0x24800000u,
        0x59ffffffu, 0x5a000000u, 0x42b17217u, 0x42b17218u, 0xc2cff1b4u, 0xc2cff1b5u, 0x7f7fffffu})
    for (std::uint32_t d = 0; d < 3; ++d) expect_libm_bits(v - 1 + d, 1, std::uint64_t{v} + d);
  // In place.
  float y[9] = {-0.5f, 0.25f, 3.0f, -0.999f, 1e-30f, 88.0f, -90.0f, 0.0f, 1.0f};
  float want[9];
  for (int i = 0; i < 9; ++i) want[i] = std::log1p(y[i]);
  libm_log1pf(y, y, 9);
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(y[i]), std::bit_cast<std::uint32_t>(want[i]));
}

// All 2^32 floats (about 2 minutes): `ctest -C long -L exhaustive`, or this binary with
// --gtest_also_run_disabled_tests --gtest_filter='*Exhaustive*'.
TEST(LibmFloatExhaustive, DISABLED_EveryFloat) {
  expect_libm_bits(0, 1, std::uint64_t{1} << 32);
}

// Counter-based uniforms: the same key gives the same block however it is split; a block has no
// repeated 32-bit words; the mean and the lag-1 correlation of 2^20 uniforms are within 5 sd of
// 1/2 and 0 (sd 1/sqrt(12 n) and 1/sqrt(n)); different keys give unrelated blocks.
TEST(CounterRng, DeterministicUniformAndUncorrelated) {
  constexpr int n = 1 << 20;
  std::vector<float> u(n), part(1000);
  counter_uniforms_float(0x1234567890abcdefULL, u.data(), n);
  counter_uniforms_float(0x1234567890abcdefULL, part.data(), 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(part[i], u[i]);
  std::vector<std::uint32_t> words(4096);
  for (std::uint32_t i = 0; i < 4096; ++i) words[i] = counter_bits(42, i);
  std::sort(words.begin(), words.end());
  EXPECT_EQ(std::adjacent_find(words.begin(), words.end()), words.end());
  double sum = 0, lag = 0;
  for (int i = 0; i < n; ++i) {
    ASSERT_GE(u[i], 0.0f);
    ASSERT_LT(u[i], 1.0f);
    sum += u[i];
    if (i > 0) lag += (u[i] - 0.5) * (u[i - 1] - 0.5);
  }
  EXPECT_NEAR(sum / n, 0.5, 5.0 / std::sqrt(12.0 * n));
  EXPECT_NEAR(lag / (n - 1) * 12.0, 0.0, 5.0 / std::sqrt(n - 1.0));
  // Neighbouring keys (one stream's consecutive draws can differ in a few bits).
  std::vector<float> v(n);
  counter_uniforms_float(0x1234567890abcdeeULL, v.data(), n);
  double cross = 0;
  for (int i = 0; i < n; ++i) cross += (u[i] - 0.5) * (v[i] - 0.5);
  EXPECT_NEAR(cross / n * 12.0, 0.0, 5.0 / std::sqrt(n));
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
