#include "learners/pg/top_k.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

namespace stagesim::pg {

namespace {

constexpr int kChunk = 32;
// Up to this n the small selections run by insertion into a sorted run (cheaper than
// nth_element + sort for the samplers' and CA-PG's top 10).
constexpr int kFewest = 32;
// Bisection passes that tighten the selection bound.
constexpr int kRefine = 8;

// a ranks above b: a strict weak order even with NaN keys, which rank below everything (a NaN
// must never reach a sort with plain `>`: the order would be inconsistent, which is undefined).
template <class T>
inline bool above(T a, T b) {
  return a > b || (b != b && a == a);
}

// An unsigned code per (key, index) whose ascending order is `above` on the keys (NaNs last, all
// equal; −0 = +0), then ascending index: the key's bits mapped to a descending order in the high
// half, the index in the low 32 bits.
template <class T>
struct OrderCode;
template <>
struct OrderCode<float> {
  using type = std::uint64_t;
  static type make(float x, int index) {
    std::uint32_t d = 0xffffffffu;  // NaN
    if (x == x) {
      const std::uint32_t b = std::bit_cast<std::uint32_t>(x == 0.0f ? 0.0f : x);
      d = ~(b >> 31 ? ~b : b | 0x80000000u);
    }
    return static_cast<type>(d) << 32 | static_cast<std::uint32_t>(index);
  }
  static std::vector<type>& scratch() {
    thread_local std::vector<type> v;
    return v;
  }
};
template <>
struct OrderCode<double> {
  using type = unsigned __int128;
  static type make(double x, int index) {
    std::uint64_t d = ~0ull;  // NaN
    if (x == x) {
      const std::uint64_t b = std::bit_cast<std::uint64_t>(x == 0.0 ? 0.0 : x);
      d = ~(b >> 63 ? ~b : b | 0x8000000000000000ull);
    }
    return static_cast<type>(d) << 32 | static_cast<std::uint32_t>(index);
  }
  static std::vector<type>& scratch() {
    thread_local std::vector<type> v;
    return v;
  }
};

// Chunk counts are multiples of this (whole vectors in the column maxima and the scan).
constexpr int kLanes = 16;

// out[c] = max over rows i < n_rows of key[i * stride + c], c < W, in row order (as `>` picks).
template <class T, int W>
inline void column_max(const T* key, int stride, int n_rows, T* out) {
  T acc[W];
  for (int c = 0; c < W; ++c) acc[c] = key[c];
  for (int i = 1; i < n_rows; ++i) {
    const T* row = key + static_cast<std::ptrdiff_t>(i) * stride;
    for (int c = 0; c < W; ++c) acc[c] = row[c] > acc[c] ? row[c] : acc[c];
  }
  for (int c = 0; c < W; ++c) out[c] = acc[c];
}

// Small arrays (the LSR's K candidates): insertion into a sorted buffer.
template <class T>
void select_small(const T* key, int n_items, int n, int* out) {
  int count = 0;
  for (int b = 0; b < n_items; ++b) {
    if (count == n) {
      if (!above(key[b], key[out[n - 1]])) continue;  // ties keep the lower index
      --count;
    }
    int pos = count++;
    for (; pos > 0 && above(key[b], key[out[pos - 1]]); --pos) out[pos] = out[pos - 1];
    out[pos] = b;
  }
}

// The selection for either key type; `value` is scratch of that type.
template <class T>
void select_top(const T* key, int n_items, int n, int* out, std::vector<int>& found,
                std::vector<T>& value, std::vector<unsigned char>& flags) {
  if (n <= 0) return;
  if (n_items < 2 * kChunk) {
    select_small(key, n_items, n, out);
    return;
  }
  // Equal keys (and NaNs, which are all equivalent) keep index order.
  const auto before = [key](int a, int b) {
    return above(key[a], key[b]) || (!above(key[b], key[a]) && a < b);
  };
  found.clear();
  // About max(2n, 32) chunks (so the chunk maxima give a tight bound), a multiple of
  // 16 so that the vertical max runs on whole vectors, and at least 4 items per chunk (the blocks
  // of 40 and the top 201 of K = 200 among 1000 items still take this path).
  int n_chunks = std::max(2 * n, 32);
  n_chunks = std::min((n_chunks + 15) / 16 * 16, n_items / 4 / 16 * 16);
  if (n_chunks < 16) n_chunks = n_items / 4;
  const int chunk = n_chunks > 0 ? n_items / n_chunks : 0;
  const auto above_t = [](T a, T b) { return above(a, b); };  // inlined, unlike a function pointer
  if (n_chunks > 0 && n <= n_chunks) {
    // A bound that at least n items reach (the n-th largest chunk maximum, or better): only
    // items at or above it can be in the top n, and whole chunks below it are skipped. Chunk c is
    // the strided set {c + i·n_chunks : i < chunk}, so all maxima come from one vertical
    // (elementwise) max over chunk contiguous rows, which vectorises for float and double alike (a
    // per-chunk horizontal max does not). Typically fewer than 2n items survive to the final sort.
    value.resize(static_cast<std::size_t>(2 * n_chunks));
    T* chunk_max = value.data();
    // Column blocks of a fixed width keep the running maxima in registers across the rows (a
    // loop over all n_chunks columns per row goes through memory); each chunk sees the same
    // comparisons in the same order either way.
    int c0 = 0;
    for (; c0 + 2 * kLanes <= n_chunks; c0 += 2 * kLanes)
      column_max<T, 2 * kLanes>(key + c0, n_chunks, chunk, chunk_max + c0);
    for (; c0 + kLanes <= n_chunks; c0 += kLanes)
      column_max<T, kLanes>(key + c0, n_chunks, chunk, chunk_max + c0);
    for (; c0 < n_chunks; ++c0) column_max<T, 1>(key + c0, n_chunks, chunk, chunk_max + c0);
    T bound;
    if (n <= kFewest) {
      // The n-th largest of the maxima by insertion into a sorted run of n (no selection pass).
      T* order = value.data() + n_chunks;
      int count = 0;
      for (int c = 0; c < n_chunks; ++c) {
        const T v = chunk_max[c];
        if (count == n) {
          if (!above(v, order[n - 1])) continue;
          --count;
        }
        int pos = count++;
        for (; pos > 0 && above(v, order[pos - 1]); --pos) order[pos] = order[pos - 1];
        order[pos] = v;
      }
      bound = order[n - 1];
    } else {
      // A value at least n keys reach, as high as a few bisection passes get it: start from the
      // smallest chunk maximum (all n_chunks >= n maxima reach it) and halve the interval up to
      // the largest with vectorised counts over all keys (far cheaper than selecting among the
      // maxima and sorting the extra survivors). NaN maxima are ignored; should fewer than n
      // keys reach the start, the bound is NaN and every item is ranked below.
      bound = std::numeric_limits<T>::infinity();
      T hi = -std::numeric_limits<T>::infinity();
      for (int c = 0; c < n_chunks; ++c) {
        bound = chunk_max[c] < bound ? chunk_max[c] : bound;
        hi = chunk_max[c] > hi ? chunk_max[c] : hi;
      }
      const auto count_from = [&](T t) {
        int count = 0;
        for (int b = 0; b < n_items; ++b) count += key[b] >= t;
        return count;
      };
      if (!(count_from(bound) >= n)) bound = std::numeric_limits<T>::quiet_NaN();
      for (int iter = 0; iter < kRefine && bound == bound; ++iter) {
        const T mid = bound + (hi - bound) / 2;
        if (!(mid > bound && mid < hi)) break;
        if (count_from(mid) >= n)
          bound = mid;
        else
          hi = mid;
      }
    }
    // The items at or above the bound in chunks whose maximum reaches it: a byte flag per item
    // (one vectorised pass, row by row of the chunk layout), then the few set flags found eight at
    // a time, in ascending index order, into a buffer sized once.
    flags.resize(static_cast<std::size_t>(n_items + n_chunks));
    unsigned char* flag = flags.data();
    unsigned char* chunk_ok = flags.data() + n_items;
    for (int c = 0; c < n_chunks; ++c) chunk_ok[c] = chunk_max[c] >= bound;
    for (int i = 0; i < chunk; ++i) {
      const T* row = key + static_cast<std::ptrdiff_t>(i) * n_chunks;
      unsigned char* row_flag = flag + static_cast<std::ptrdiff_t>(i) * n_chunks;
      for (int c = 0; c < n_chunks; ++c) row_flag[c] = (row[c] >= bound) & chunk_ok[c];
    }
    for (int b = n_chunks * chunk; b < n_items; ++b) flag[b] = key[b] >= bound;
    found.resize(static_cast<std::size_t>(n_items));
    int* f = found.data();
    int n_found = 0;
    int b = 0;
    for (; b + 8 <= n_items; b += 8) {
      std::uint64_t word;
      std::memcpy(&word, flag + b, sizeof word);
      for (; word != 0; word &= word - 1) f[n_found++] = b + (std::countr_zero(word) >> 3);
    }
    for (; b < n_items; ++b) {
      f[n_found] = b;
      n_found += flag[b];
    }
    found.resize(static_cast<std::size_t>(n_found));
  } else if (n < n_items) {
    // Same idea with the exact n-th largest key, found by selection on a copy of the values
    // (cheaper than comparing through indices).
    value.assign(key, key + n_items);
    std::nth_element(value.begin(), value.begin() + (n - 1), value.end(), above_t);
    const T bound = value[static_cast<std::size_t>(n - 1)];
    for (int b = 0; b < n_items; ++b) {
      if (key[b] >= bound) found.push_back(b);
    }
  } else {
    found.resize(static_cast<std::size_t>(n_items));
    std::iota(found.begin(), found.end(), 0);
  }
  if (static_cast<int>(found.size()) < n) {
    // Only NaN keys (which compare false with any bound) make the scan miss: rank them all.
    found.resize(static_cast<std::size_t>(n_items));
    std::iota(found.begin(), found.end(), 0);
  }
  if (n <= kFewest) {
    // Insertion by (key, index) into the sorted output: the same total order as the sort below.
    int count = 0;
    for (int b : found) {
      if (count == n) {
        if (!before(b, out[n - 1])) continue;
        --count;
      }
      int pos = count++;
      for (; pos > 0 && before(b, out[pos - 1]); --pos) out[pos] = out[pos - 1];
      out[pos] = b;
    }
    return;
  }
  // Larger n: sort (order code, index) pairs directly rather than indices through the keys.
  using Code = typename OrderCode<T>::type;
  std::vector<Code>& codes = OrderCode<T>::scratch();
  codes.resize(found.size());
  for (std::size_t i = 0; i < found.size(); ++i)
    codes[i] = OrderCode<T>::make(key[found[i]], found[i]);
  if (static_cast<int>(codes.size()) > n)
    std::nth_element(codes.begin(), codes.begin() + (n - 1), codes.end());
  std::sort(codes.begin(), codes.begin() + n);
  for (int i = 0; i < n; ++i) out[i] = static_cast<int>(codes[i] & 0xffffffffu);
}

}  // namespace

void TopSelector::select(const double* key, int n_items, int n, int* out) {
  select_top(key, n_items, n, out, index_, value_, flag_);
}

void TopSelector::select(const float* key, int n_items, int n, int* out) {
  select_top(key, n_items, n, out, index_, fvalue_, flag_);
}

}  // namespace stagesim::pg
