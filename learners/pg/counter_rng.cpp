#include "learners/pg/counter_rng.hpp"

#include "learners/pg/wide_vectors.hpp"

namespace stagesim::pg {

STAGESIM_PG_WIDE_VECTORS void counter_uniforms_float(std::uint64_t key, float* out, int n) {
  for (int i = 0; i < n; ++i) {
    out[i] = static_cast<float>(
                 static_cast<std::int32_t>(counter_bits(key, static_cast<std::uint32_t>(i)) >> 8)) *
             0x1p-24f;
  }
}

}  // namespace stagesim::pg
