#pragma once
// Shared by the vectorised kernels of the PG learners (fast_exp, fast_log, counter_rng).
#include <cmath>

// GCC keeps auto-vectorised loops at 256 bits on AVX-512 machines unless told; these loops are
// pure FMA / integer work and gain ~2x from 512-bit vectors.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define STAGESIM_PG_WIDE_VECTORS __attribute__((target("prefer-vector-width=512")))
#else
#define STAGESIM_PG_WIDE_VECTORS
#endif

namespace stagesim::pg {

// The project compiles with -ffp-contract=off; an explicit fma rounds identically in vector and
// scalar lanes, so results never depend on the array length or batch shape. Without hardware FMA
// (no -march=native) std::fma would be a slow library call: fall back to multiply-then-add.
template <class T>
inline T mul_add(T a, T b, T c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

}  // namespace stagesim::pg
