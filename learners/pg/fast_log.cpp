#include "learners/pg/fast_log.hpp"

#include "learners/pg/wide_vectors.hpp"

#include <bit>
#include <cmath>
#include <cstdint>

namespace stagesim::pg {

STAGESIM_PG_WIDE_VECTORS void log_float(const float* x, float* out, int n) {
  constexpr float kSqrtHalf = 0.707106781186547524f;
  for (int i = 0; i < n; ++i) {
    const std::int32_t bits = std::bit_cast<std::int32_t>(x[i]);
    // x = m · 2^e, m in [0.5, 1).
    std::int32_t e = ((bits >> 23) & 0xff) - 126;
    float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);
    // m in [√½, √2) after moving one factor of 2 when m < √½; f = m − 1 (exact).
    const bool low = m < kSqrtHalf;
    e -= low ? 1 : 0;
    const float f = (low ? m + m : m) - 1.0f;
    const float z = f * f;
    float p = 7.0376836292e-2f;
    p = mul_add(p, f, -1.1514610310e-1f);
    p = mul_add(p, f, 1.1676998740e-1f);
    p = mul_add(p, f, -1.2420140846e-1f);
    p = mul_add(p, f, 1.4249322787e-1f);
    p = mul_add(p, f, -1.6668057665e-1f);
    p = mul_add(p, f, 2.0000714765e-1f);
    p = mul_add(p, f, -2.4999993993e-1f);
    p = mul_add(p, f, 3.3333331174e-1f);
    const float fe = static_cast<float>(e);
    float y = p * f * z;
    y = mul_add(fe, -2.12194440e-4f, y);
    y = mul_add(z, -0.5f, y);
    out[i] = mul_add(fe, 0.693359375f, f + y);
  }
}

}  // namespace stagesim::pg
