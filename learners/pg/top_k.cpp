#include "learners/pg/top_k.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <functional>
#include <numeric>

namespace stagesim::pg {

namespace {

constexpr int kChunk = 32;

// a ranks above b: a strict weak order even with NaN keys, which rank below everything (a NaN
// must never reach a sort with plain `>`: the order would be inconsistent, which is undefined).
template <class T>
inline bool above(T a, T b) {
  return a > b || (b != b && a == a);
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

// Few of many (the samplers' and CA-PG's top 10 of 1000): one pass keeping the top n in a sorted
// buffer, as select_small, but a block of kBlock keys is first reduced to its maximum (a
// vectorised max) and skipped unless that beats the buffer's last key. For keys in random order
// only ~n (1 + ln(N / n)) keys ever enter, so the cost is ~N / kBlock vector max operations. The
// result equals select_small's: strict comparisons keep ties at the lower index. While the last
// key is a NaN every key is inserted individually (a NaN key then still ranks below numbers).
template <class T>
void select_streaming(const T* key, int n_items, int n, int* out) {
  constexpr int kBlock = 16;
  const int head = std::min(n_items, n);
  select_small(key, head, head, out);
  for (int b0 = head; b0 < n_items; b0 += kBlock) {
    const int b1 = std::min(b0 + kBlock, n_items);
    T thr = key[out[n - 1]];
    if (thr == thr) {
      T mx = key[b0];
      for (int b = b0 + 1; b < b1; ++b) mx = key[b] > mx ? key[b] : mx;  // NaNs never win
      if (!(mx > thr)) continue;
    }
    for (int b = b0; b < b1; ++b) {
      if (!above(key[b], key[out[n - 1]])) continue;
      int pos = n - 1;
      for (; pos > 0 && above(key[b], key[out[pos - 1]]); --pos) out[pos] = out[pos - 1];
      out[pos] = b;
    }
  }
}

constexpr int kStreamingMax = 64;  // above this n the chunked selection below is faster

// The selection for either key type; `value` is scratch of that type.
template <class T>
void select_top(const T* key, int n_items, int n, int* out, std::vector<int>& found,
                std::vector<T>& value) {
  if (n <= 0) return;
  if (n_items < 2 * kChunk) {
    select_small(key, n_items, n, out);
    return;
  }
  if (n <= kStreamingMax) {
    select_streaming(key, n_items, n, out);
    return;
  }
  // Equal keys (and NaNs, which are all equivalent) keep index order.
  const auto before = [key](int a, int b) {
    return above(key[a], key[b]) || (!above(key[b], key[a]) && a < b);
  };
  found.clear();
  const int n_chunks = n_items / kChunk;
  if (n <= n_chunks) {
    // The n-th largest chunk maximum is a key that at least n items reach: only items at or
    // above it can be in the top n, and whole chunks below it are skipped after one vectorised
    // max. Typically fewer than 2n items survive to the final sort.
    using Chunks = Eigen::Matrix<T, kChunk, Eigen::Dynamic>;
    value.resize(static_cast<std::size_t>(2 * n_chunks));
    Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> chunk_max(value.data(), n_chunks);
    chunk_max = Eigen::Map<const Chunks>(key, kChunk, n_chunks).colwise().maxCoeff();
    T* order = value.data() + n_chunks;
    std::copy(value.data(), value.data() + n_chunks, order);
    std::nth_element(order, order + (n - 1), order + n_chunks, above<T>);
    const T bound = order[n - 1];
    for (int c = 0; c < n_chunks; ++c) {
      if (!(chunk_max[c] >= bound)) continue;
      for (int b = c * kChunk; b < (c + 1) * kChunk; ++b) {
        if (key[b] >= bound) found.push_back(b);
      }
    }
    for (int b = n_chunks * kChunk; b < n_items; ++b) {
      if (key[b] >= bound) found.push_back(b);
    }
  } else if (n < n_items) {
    // Same idea with the exact n-th largest key, found by selection on a copy of the values
    // (cheaper than comparing through indices).
    value.assign(key, key + n_items);
    std::nth_element(value.begin(), value.begin() + (n - 1), value.end(), above<T>);
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
  if (static_cast<int>(found.size()) > n) {
    std::nth_element(found.begin(), found.begin() + (n - 1), found.end(), before);
  }
  std::sort(found.begin(), found.begin() + n, before);
  std::copy(found.begin(), found.begin() + n, out);
}

}  // namespace

void TopSelector::select(const double* key, int n_items, int n, int* out) {
  select_top(key, n_items, n, out, index_, value_);
}

void TopSelector::select(const float* key, int n_items, int n, int* out) {
  select_top(key, n_items, n, out, index_, fvalue_);
}

}  // namespace stagesim::pg
