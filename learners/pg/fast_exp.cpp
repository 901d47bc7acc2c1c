#include "learners/pg/fast_exp.hpp"

#include "learners/pg/wide_vectors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace stagesim::pg {

STAGESIM_PG_WIDE_VECTORS void exp_shifted(const double* __restrict x, double shift,
                                          double* __restrict out, int n) {
  // exp(v) = 2^k exp(r), k = round(v / ln 2), |r| <= ln2 / 2 (Cody–Waite split of ln 2), exp(r)
  // by its degree-13 Taylor polynomial (truncation < 1e-17 relative on that range).
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
  constexpr double kMin = -708.0;
  for (int i = 0; i < n; ++i) {
    const double arg = x[i] - shift;
    const double v = std::max(arg, kMin);
    const double kf = mul_add(v, kLog2e, kShift);
    const double k = kf - kShift;
    const double r = (v - k * kLn2Hi) - k * kLn2Lo;
    double p = 1.0 / 6227020800.0;
    p = mul_add(p, r, 1.0 / 479001600.0);
    p = mul_add(p, r, 1.0 / 39916800.0);
    p = mul_add(p, r, 1.0 / 3628800.0);
    p = mul_add(p, r, 1.0 / 362880.0);
    p = mul_add(p, r, 1.0 / 40320.0);
    p = mul_add(p, r, 1.0 / 5040.0);
    p = mul_add(p, r, 1.0 / 720.0);
    p = mul_add(p, r, 1.0 / 120.0);
    p = mul_add(p, r, 1.0 / 24.0);
    p = mul_add(p, r, 1.0 / 6.0);
    p = mul_add(p, r, 0.5);
    p = mul_add(p, r, 1.0);
    p = mul_add(p, r, 1.0);
    // 2^k built from the exponent bits: the low 32 bits of kf hold k in two's complement.
    const std::int64_t bits = (std::bit_cast<std::int64_t>(kf) + 1023) << 52;
    out[i] = arg < kMin ? 0.0 : p * std::bit_cast<double>(bits);
  }
}

}  // namespace stagesim::pg
