#include "learners/pg/top_k.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace stagesim::pg {

namespace {

constexpr int kChunk = 32;
// Up to this n the small selections (the samplers' and CA-PG's top 10) take their bound and
// their order from counted ranks and their survivors from bit masks, instead of the bisection
// bound, byte flags and a sort.
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
  using key_type = std::uint32_t;
  // The key alone: ascending order of the code is `above` on the keys.
  static key_type key_code(float x) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(x == 0.0f ? 0.0f : x);
    return x == x ? ~(b >> 31 ? ~b : b | 0x80000000u) : 0xffffffffu;
  }
  static type make(float x, int index) {
    return static_cast<type>(key_code(x)) << 32 | static_cast<std::uint32_t>(index);
  }
  static std::vector<type>& scratch() {
    thread_local std::vector<type> v;
    return v;
  }
};
template <>
struct OrderCode<double> {
  using type = unsigned __int128;
  using key_type = std::uint64_t;
  static key_type key_code(double x) {
    const std::uint64_t b = std::bit_cast<std::uint64_t>(x == 0.0 ? 0.0 : x);
    return x == x ? ~(b >> 63 ? ~b : b | 0x8000000000000000ull) : ~0ull;
  }
  static type make(double x, int index) {
    return static_cast<type>(key_code(x)) << 32 | static_cast<std::uint32_t>(index);
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

// Up to this many chunk maxima or found items, ranks come from counting over all pairs (branch
// free, vectorised) instead of insertion into a sorted run, whose data-dependent branches
// mispredict on random keys.
constexpr int kRankMax = 64;
constexpr int kRankBlock = 16;  // divides kRankMax and every chunk count

// 64 bytes of E as one GCC/Clang vector (one AVX-512 register, two AVX2 ones): 16 or 8 lanes,
// which divide kRankBlock.
template <class E>
struct Block {
  static constexpr int lanes = 64 / sizeof(E);
  typedef E type __attribute__((vector_size(64)));
};

// The n-th largest of v[0..m) in the order `above` (NaNs last), 1 <= n <= m <= kRankMax: the
// lowest-ranked of the values with fewer than n values above them. (Equal values are the same
// bound; so are −0 and +0, which the callers only compare with >=.)
template <class T>
T nth_largest(const T* v, int m, int n) {
  // Counted a block of Block<T>::lanes values at a time in vector registers (m is a multiple).
  using Count = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  using V = typename Block<T>::type;
  using C = typename Block<Count>::type;
  T most_count = -1;
  T bound = v[0];
  for (int c0 = 0; c0 < m; c0 += Block<T>::lanes) {
    V vc;
    std::memcpy(&vc, v + c0, sizeof vc);
    const C nan_c = vc != vc;
    C count = {};
    for (int j = 0; j < m; ++j) {
      const T a = v[j];
      if (a != a) continue;             // a NaN is above nothing
      count -= (V{} + a > vc) | nan_c;  // above(a, v[c]): each comparison is 0 or -1
    }
    for (int l = 0; l < Block<T>::lanes; ++l) {
      const T k = static_cast<T>(count[l]);
      const bool lower = k < static_cast<T>(n) && k > most_count;
      most_count = lower ? k : most_count;
      bound = lower ? v[c0 + l] : bound;
    }
  }
  return bound;
}

// The n best of the found items (indices in ascending order, n_found <= kRankMax) by (key in the
// order `above`, then index), written to out[0..n) best first: each item's rank is the number of
// items before it, counted on integer order codes a block of items at a time in vector
// registers. Ranks are distinct, so each out slot is written once.
template <class T>
void rank_found(const T* key, const int* found, int n_found, int n, int* out) {
  using Code = typename OrderCode<T>::key_type;
  using V = typename Block<Code>::type;
  Code code[kRankMax];
  int placed[kRankMax + 1];
  for (int i = 0; i < n_found; ++i) code[i] = OrderCode<T>::key_code(key[found[i]]);
  // Padding to whole blocks: its ranks are computed but never used, and it is never counted (j
  // runs over the found items only).
  const int padded = (n_found + kRankBlock - 1) / kRankBlock * kRankBlock;
  for (int i = n_found; i < padded; ++i) code[i] = ~Code(0);
  V position;
  for (int l = 0; l < Block<Code>::lanes; ++l) position[l] = static_cast<Code>(l);
  for (int i0 = 0; i0 < padded; i0 += Block<Code>::lanes) {
    V ci;
    std::memcpy(&ci, code + i0, sizeof ci);
    const V pi = position + static_cast<Code>(i0);
    V rank = {};
    // Item j is before item i when its code is lower or, for equal keys, its position is.
    for (int j = 0; j < n_found; ++j) {
      const V cj = V{} + code[j];
      rank -= (V)((cj < ci) | ((cj == ci) & (V{} + static_cast<Code>(j) < pi)));
    }
    // Ranks past n land in one spare slot: no branch on which of the found items make the top n.
    for (int l = 0; l < Block<Code>::lanes && i0 + l < n_found; ++l)
      placed[std::min(rank[l], static_cast<Code>(n))] = found[i0 + l];
  }
  std::copy(placed, placed + n, out);
}

// Bit c of the result: row[c] >= bound, for c < width (a multiple of 16, at most 64). Compares
// whole vectors into bit masks, so the few survivors are found a set bit at a time instead of
// through a byte flag per item.
template <class T>
inline std::uint64_t at_least_mask(const T* row, int width, T bound) {
  std::uint64_t mask = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const __m512 b = _mm512_set1_ps(bound);
    for (int c = 0; c < width; c += 16)
      mask |=
          static_cast<std::uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(row + c), b, _CMP_GE_OQ))
          << c;
  } else {
    const __m512d b = _mm512_set1_pd(bound);
    for (int c = 0; c < width; c += 8)
      mask |=
          static_cast<std::uint64_t>(_mm512_cmp_pd_mask(_mm512_loadu_pd(row + c), b, _CMP_GE_OQ))
          << c;
  }
#elif defined(__AVX__)
  if constexpr (std::is_same_v<T, float>) {
    const __m256 b = _mm256_set1_ps(bound);
    for (int c = 0; c < width; c += 8)
      mask |= static_cast<std::uint64_t>(static_cast<unsigned>(
                  _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + c), b, _CMP_GE_OQ))))
              << c;
  } else {
    const __m256d b = _mm256_set1_pd(bound);
    for (int c = 0; c < width; c += 4)
      mask |= static_cast<std::uint64_t>(static_cast<unsigned>(
                  _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(row + c), b, _CMP_GE_OQ))))
              << c;
  }
#else
  for (int c = 0; c < width; ++c) mask |= static_cast<std::uint64_t>(row[c] >= bound) << c;
#endif
  return mask;
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
  // `found` is scratch of n_items entries that only grows (a shrinking resize would zero it again
  // on the next call: a memset of the whole row per selection); `count` of them are used.
  // (16 more: the vector stores of the survivors' indices may overhang the last one.)
  if (found.size() < static_cast<std::size_t>(n_items) + 16)
    found.resize(static_cast<std::size_t>(n_items) + 16);
  int count = 0;
  // About max(2n, 32) chunks (so the chunk maxima give a tight bound), a multiple of
  // 16 so that the vertical max runs on whole vectors, and at least 4 items per chunk (the blocks
  // of 40 and the top 201 of K = 200 among 1000 items still take this path).
  // With n_items >= 64 this is a multiple of 16 (kRankBlock) and at least 16, which the counted
  // ranks and the bit-mask scan rely on.
  // For n <= kFewest it is at most kRankMax (64): the counted ranks' limit and the bit masks'
  // width.
  static_assert(2 * kChunk / 4 >= kRankBlock && kRankBlock == 16);
  static_assert((2 * kFewest + 15) / 16 * 16 <= kRankMax && kRankMax == 64);
  int n_chunks = std::max(2 * n, 32);
  n_chunks = std::min((n_chunks + 15) / 16 * 16, n_items / 4 / 16 * 16);
  const int chunk = n_chunks > 0 ? n_items / n_chunks : 0;
  const auto above_t = [](T a, T b) { return above(a, b); };  // inlined, unlike a function pointer
  if (n_chunks > 0 && n <= n_chunks) {
    // A bound that at least n items reach (the n-th largest chunk maximum, or better): only
    // items at or above it can be in the top n, and whole chunks below it are skipped. Chunk c is
    // the strided set {c + i·n_chunks : i < chunk}, so all maxima come from one vertical
    // (elementwise) max over chunk contiguous rows, which vectorises for float and double alike (a
    // per-chunk horizontal max does not). Typically fewer than 2n items survive to the final sort.
    value.resize(static_cast<std::size_t>(n_chunks));
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
      bound = nth_largest(chunk_max, n_chunks, n);
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
    if (n <= kFewest) {
      // The items at or above the bound in chunks whose maximum reaches it, row by row of the
      // chunk layout as bit masks, in ascending index order.
      std::uint64_t chunk_ok = 0;
      for (int c = 0; c < n_chunks; ++c)
        chunk_ok |= static_cast<std::uint64_t>(chunk_max[c] >= bound) << c;
      int* f = found.data();
      int n_found = 0;
      for (int i = 0; i < chunk; ++i) {
        const int first = i * n_chunks;
        const std::uint64_t m = at_least_mask(key + first, n_chunks, bound) & chunk_ok;
#if defined(__AVX512F__)
        // The set bits' indices packed into a vector and stored whole (the buffer has room for
        // the overhang): no branch on how many of a row's items survive, which is random.
        for (int c = 0; c < n_chunks; c += 16) {
          const auto k = static_cast<__mmask16>(m >> c);
          const __m512i idx = _mm512_add_epi32(
              _mm512_set1_epi32(first + c),
              _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
          _mm512_storeu_si512(f + n_found, _mm512_maskz_compress_epi32(k, idx));
          n_found += std::popcount(static_cast<unsigned>(k));
        }
#else
        for (std::uint64_t bits = m; bits != 0; bits &= bits - 1)
          f[n_found++] = first + std::countr_zero(bits);
#endif
      }
      for (int b = n_chunks * chunk; b < n_items; ++b) {
        f[n_found] = b;
        n_found += key[b] >= bound;
      }
      count = n_found;
    } else {
      // The items at or above the bound in chunks whose maximum reaches it: a byte flag per item
      // (one vectorised pass, row by row of the chunk layout), then the few set flags found eight
      // at a time, in ascending index order, into a buffer sized once.
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
      count = n_found;
    }
  } else if (n < n_items) {
    // Same idea with the exact n-th largest key, found by selection on a copy of the values
    // (cheaper than comparing through indices).
    value.assign(key, key + n_items);
    std::nth_element(value.begin(), value.begin() + (n - 1), value.end(), above_t);
    const T bound = value[static_cast<std::size_t>(n - 1)];
    for (int b = 0; b < n_items; ++b) {
      if (key[b] >= bound) found[count++] = b;
    }
  } else {
    std::iota(found.begin(), found.begin() + n_items, 0);
    count = n_items;
  }
  if (count < n) {
    // Only NaN keys (which compare false with any bound) make the scan miss: rank them all.
    std::iota(found.begin(), found.begin() + n_items, 0);
    count = n_items;
  }
  if (n <= kFewest && count <= kRankMax) {
    rank_found(key, found.data(), count, n, out);
    return;
  }
  if (n <= kFewest) {
    // Insertion by (key, index) into the sorted output: the same total order as the sort below.
    int kept = 0;
    for (int i = 0; i < count; ++i) {
      const int b = found[i];
      if (kept == n) {
        if (!before(b, out[n - 1])) continue;
        --kept;
      }
      int pos = kept++;
      for (; pos > 0 && before(b, out[pos - 1]); --pos) out[pos] = out[pos - 1];
      out[pos] = b;
    }
    return;
  }
  // Larger n: sort (order code, index) pairs directly rather than indices through the keys.
  using Code = typename OrderCode<T>::type;
  std::vector<Code>& codes = OrderCode<T>::scratch();
  codes.resize(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) codes[i] = OrderCode<T>::make(key[found[i]], found[i]);
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
