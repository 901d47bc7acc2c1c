// Counter-based random bits: uniform i of a block is a keyed hash of its index, so a block of any
// length is filled by a vectorised loop from one 64-bit key drawn from the caller's engine (the
// per-task stream), and results never depend on how the block is split or on the thread count.
#pragma once

#include <cstdint>

namespace stagesim::pg {

// Splitmix-style 32-bit finaliser (Wellons' "lowbias32": xor-shift / multiply, a bijection of the
// 32-bit words with avalanche bias ~0.17 %).
inline std::uint32_t mix32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// 32 random bits for counter i under `key`: two keyed rounds, the low key word before the first
// and the high one between them (a bijection of i for each key, so a block has no repeats).
inline std::uint32_t counter_bits(std::uint64_t key, std::uint32_t i) {
  const std::uint32_t lo = static_cast<std::uint32_t>(key),
                      hi = static_cast<std::uint32_t>(key >> 32);
  return mix32(mix32(i * 0x9E3779B9U ^ lo) + hi);
}

// out[i] = (counter_bits(key, i) >> 8) · 2^-24 for i < n: 24-bit float uniforms in [0, 1).
void counter_uniforms_float(std::uint64_t key, float* out, int n);

}  // namespace stagesim::pg
