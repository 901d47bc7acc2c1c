#include "learners/pg/counter_rng.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define STAGESIM_PG_WIDE_VECTORS __attribute__((target("prefer-vector-width=512")))
#else
#define STAGESIM_PG_WIDE_VECTORS
#endif

namespace stagesim::pg {

STAGESIM_PG_WIDE_VECTORS void counter_uniforms_float(std::uint64_t key, float* out, int n) {
  for (int i = 0; i < n; ++i) {
    out[i] = static_cast<float>(
                 static_cast<std::int32_t>(counter_bits(key, static_cast<std::uint32_t>(i)) >> 8)) *
             0x1p-24f;
  }
}

}  // namespace stagesim::pg
