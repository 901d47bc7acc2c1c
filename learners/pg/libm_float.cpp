#include "learners/pg/libm_float.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define STAGESIM_LIBM_REPLICAS 1
#endif

namespace stagesim::pg {

#ifdef STAGESIM_LIBM_REPLICAS
namespace {

// ---- expf: e^x = 2^(k/32) · 2^(r/32), k = round(32 x / ln 2); the table holds 2^(i/32) with
// i << 47 subtracted from its bits, so adding k << 47 builds 2^(k/32) for any k.
alignas(32) constexpr std::uint64_t kExpTable[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540};
constexpr double kInvLn2N = 0x1.71547652b82fep+0 * 32;
constexpr double kShift = 0x1.8p+52;
constexpr double kExpC0 = 0x1.c6af84b912394p-5 / 32 / 32 / 32;
constexpr double kExpC1 = 0x1.ebfce50fac4f3p-3 / 32 / 32;
constexpr double kExpC2 = 0x1.62e42ff0c52d6p-1 / 32;
constexpr float kExpOverflow = 0x1.62e42ep6f;    // above: +inf
constexpr float kExpUnderflow = -0x1.9fe368p6f;  // below: +0

float exp_scalar(float x) {
  if (x != x) return x + x;
  if (x > kExpOverflow) return std::numeric_limits<float>::infinity();
  if (x < kExpUnderflow) return 0.0f;
  const double xd = x;
  double kd = std::fma(kInvLn2N, xd, kShift);
  const std::uint64_t ki = std::bit_cast<std::uint64_t>(kd);
  kd -= kShift;
  const double r = std::fma(kInvLn2N, xd, -kd);
  const double s = std::bit_cast<double>(kExpTable[ki % 32] + (ki << 47));
  const double z = std::fma(kExpC0, r, kExpC1);
  const double r2 = r * r;
  double y = std::fma(kExpC2, r, 1.0);
  y = std::fma(z, r2, y);
  return static_cast<float>(y * s);
}

// ---- logf: x = 2^k z, z in [0x3f330000, 2·that) exact; log x = log1p(z/c − 1) + log c + k ln 2
// with c (1/c and log c tabulated) near the centre of z's sixteenth of the range.
alignas(32) constexpr double kLogInvC[16] = {0x1.661ec79f8f3bep+0, 0x1.571ed4aaf883dp+0,
                                             0x1.49539f0f010bp+0,  0x1.3c995b0b80385p+0,
                                             0x1.30d190c8864a5p+0, 0x1.25e227b0b8eap+0,
                                             0x1.1bb4a4a1a343fp+0, 0x1.12358f08ae5bap+0,
                                             0x1.0953f419900a7p+0, 0x1p+0,
                                             0x1.e608cfd9a47acp-1, 0x1.ca4b31f026aap-1,
                                             0x1.b2036576afce6p-1, 0x1.9c2d163a1aa2dp-1,
                                             0x1.886e6037841edp-1, 0x1.767dcf5534862p-1};
alignas(32) constexpr double kLogC[16] = {-0x1.57bf7808caadep-2, -0x1.2bef0a7c06ddbp-2,
                                          -0x1.01eae7f513a67p-2, -0x1.b31d8a68224e9p-3,
                                          -0x1.6574f0ac07758p-3, -0x1.1aa2bc79c81p-3,
                                          -0x1.a4e76ce8c0e5ep-4, -0x1.1973c5a611cccp-4,
                                          -0x1.252f438e10c1ep-5, 0x0p+0,
                                          0x1.aa5aa5df25984p-5,  0x1.c5e53aa362eb4p-4,
                                          0x1.526e57720db08p-3,  0x1.bc2860d22477p-3,
                                          0x1.1058bc8a07ee1p-2,  0x1.4043057b6ee09p-2};
constexpr double kLn2 = 0x1.62e42fefa39efp-1;
constexpr double kLogA0 = -0x1.00ea348b88334p-2;
constexpr double kLogA1 = 0x1.5575b0be00b6ap-2;
constexpr double kLogA2 = -0x1.ffffef20a4123p-2;
constexpr std::uint32_t kLogOff = 0x3f330000;

float log_scalar(float x) {
  std::uint32_t ix = std::bit_cast<std::uint32_t>(x);
  if (ix == 0x3f800000u) return 0.0f;
  if (ix - 0x00800000u >= 0x7f800000u - 0x00800000u) {
    if (ix * 2 == 0) return -std::numeric_limits<float>::infinity();
    if (ix == 0x7f800000u) return x;
    if ((ix & 0x80000000u) || ix * 2 >= 0xff000000u) return (x - x) / (x - x);
    ix = std::bit_cast<std::uint32_t>(x * 0x1p23f) - (23u << 23);  // subnormal: normalise
  }
  const std::uint32_t tmp = ix - kLogOff;
  const int i = static_cast<int>((tmp >> 19) % 16);
  const int k = static_cast<std::int32_t>(tmp) >> 23;
  const double z = std::bit_cast<float>(ix - (tmp & 0x1ffu << 23));
  const double r = std::fma(z, kLogInvC[i], -1.0);
  const double y0 = std::fma(static_cast<double>(k), kLn2, kLogC[i]);
  const double r2 = r * r;
  double y = std::fma(kLogA1, r, kLogA2);
  y = std::fma(kLogA0, r2, y);
  y = std::fma(y, r2, y0 + r);
  return static_cast<float>(y);
}

// ---- log1pf (fdlibm): log(1 + x) = k ln 2 + log(u) with 1 + x = 2^k u and a correction c for
// the rounding of 1 + x; log(1 + f) = 2s + 2s³/3 + ... with s = f / (2 + f). glibc builds it
// without FMA: every operation below rounds on its own, in this order.
constexpr float kLn2Hi = 6.9313812256e-01f;
constexpr float kLn2Lo = 9.0580006145e-06f;
constexpr float kLp1 = 6.6666668653e-01f, kLp2 = 4.0000000596e-01f, kLp3 = 2.8571429849e-01f,
                kLp4 = 2.2222198546e-01f, kLp5 = 1.8183572590e-01f, kLp6 = 1.5313838422e-01f,
                kLp7 = 1.4798198640e-01f;
constexpr float kTwoThirds = 0.66666666666666666f;

float log1p_scalar(float x) {
  const std::int32_t hx = std::bit_cast<std::int32_t>(x);
  const std::int32_t ax = hx & 0x7fffffff;
  float f = 0.0f, c = 0.0f;
  std::int32_t k = 1, hu = 0;
  if (hx < 0x3ed413d7) {  // x < 0.41422
    if (ax >= 0x3f800000)
      return x == -1.0f ? -std::numeric_limits<float>::infinity() : (x - x) / (x - x);
    if (ax < 0x31000000) return ax < 0x24800000 ? x : x - x * x * 0.5f;  // |x| < 2^-29
    if (hx > 0 || hx <= static_cast<std::int32_t>(0xbe95f61f)) {         // -0.2929 < x < 0.41422
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7f800000) return x + x;
  if (k != 0) {
    float u;
    if (hx < 0x5a000000) {
      u = 1.0f + x;
      hu = std::bit_cast<std::int32_t>(u);
      k = (hu >> 23) - 127;
      c = k > 0 ? 1.0f - (u - x) : x - (u - 1.0f);
      c /= u;
    } else {
      u = x;
      hu = hx;
      k = (hu >> 23) - 127;
      c = 0.0f;
    }
    hu &= 0x007fffff;
    if (hu < 0x3504f7) {
      u = std::bit_cast<float>(hu | 0x3f800000);
    } else {
      k += 1;
      u = std::bit_cast<float>(hu | 0x3f000000);
      hu = (0x00800000 - hu) >> 2;
    }
    f = u - 1.0f;
  }
  const float hfsq = 0.5f * f * f;
  const float kf = static_cast<float>(k);
  if (hu == 0) {  // |f| < 2^-20
    if (f == 0.0f) return k == 0 ? 0.0f : kf * kLn2Hi + (c + kf * kLn2Lo);
    const float r = hfsq * (1.0f - kTwoThirds * f);
    return k == 0 ? f - r : kf * kLn2Hi - ((r - (kf * kLn2Lo + c)) - f);
  }
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float r =
      z * (kLp1 + z * (kLp2 + z * (kLp3 + z * (kLp4 + z * (kLp5 + z * (kLp6 + z * kLp7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + r));
  return kf * kLn2Hi - ((hfsq - (s * (hfsq + r) + (kf * kLn2Lo + c))) - f);
}

inline __m256d select_pd(__m256d mask, __m256d yes, __m256d no) {
  return _mm256_blendv_pd(no, yes, mask);
}
inline __m256 select_ps(__m256 mask, __m256 yes, __m256 no) {
  return _mm256_blendv_ps(no, yes, mask);
}
inline __m256 mask_ps(__m256i m) {
  return _mm256_castsi256_ps(m);
}

// Four lanes of exp_scalar.
inline __m128 exp4(__m128 x) {
  const __m256d xd = _mm256_cvtps_pd(x);
  const __m256d inv = _mm256_set1_pd(kInvLn2N), shift = _mm256_set1_pd(kShift);
  __m256d kd = _mm256_fmadd_pd(inv, xd, shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, shift);
  const __m256d r = _mm256_fmsub_pd(inv, xd, kd);
  const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
  const __m256i t = _mm256_add_epi64(
      _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kExpTable), idx, 8),
      _mm256_slli_epi64(ki, 47));
  const __m256d s = _mm256_castsi256_pd(t);
  const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(kExpC0), r, _mm256_set1_pd(kExpC1));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(kExpC2), r, _mm256_set1_pd(1.0));
  y = _mm256_fmadd_pd(z, r2, y);
  __m128 out = _mm256_cvtpd_ps(_mm256_mul_pd(y, s));
  out = _mm_blendv_ps(out, _mm_set1_ps(std::numeric_limits<float>::infinity()),
                      _mm_cmp_ps(x, _mm_set1_ps(kExpOverflow), _CMP_GT_OQ));
  out = _mm_blendv_ps(out, _mm_setzero_ps(), _mm_cmp_ps(x, _mm_set1_ps(kExpUnderflow), _CMP_LT_OQ));
  return _mm_blendv_ps(out, _mm_add_ps(x, x), _mm_cmp_ps(x, x, _CMP_UNORD_Q));
}

// Four lanes of log_scalar.
inline __m128 log4(__m128 x) {
  const __m128i bits = _mm_castps_si128(x);
  // ix − 2^23 >= 0x7f000000 unsigned: subnormal, zero, negative, inf or NaN.
  const __m128i off = _mm_sub_epi32(bits, _mm_set1_epi32(0x00800000));
  const __m128i special = _mm_cmpeq_epi32(_mm_max_epu32(off, _mm_set1_epi32(0x7f000000)), off);
  const __m128i normalised = _mm_sub_epi32(_mm_castps_si128(_mm_mul_ps(x, _mm_set1_ps(0x1p23f))),
                                           _mm_set1_epi32(23 << 23));
  const __m128i ix = _mm_blendv_epi8(bits, normalised, special);
  const __m128i tmp = _mm_sub_epi32(ix, _mm_set1_epi32(static_cast<int>(kLogOff)));
  const __m128i i = _mm_and_si128(_mm_srli_epi32(tmp, 19), _mm_set1_epi32(15));
  const __m128i k = _mm_srai_epi32(tmp, 23);
  const __m128i iz =
      _mm_sub_epi32(ix, _mm_and_si128(tmp, _mm_set1_epi32(static_cast<int>(0x1ffu << 23))));
  const __m256d invc = _mm256_i32gather_pd(kLogInvC, i, 8);
  const __m256d logc = _mm256_i32gather_pd(kLogC, i, 8);
  const __m256d z = _mm256_cvtps_pd(_mm_castsi128_ps(iz));
  const __m256d r = _mm256_fmsub_pd(z, invc, _mm256_set1_pd(1.0));
  const __m256d y0 = _mm256_fmadd_pd(_mm256_cvtepi32_pd(k), _mm256_set1_pd(kLn2), logc);
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(_mm256_set1_pd(kLogA1), r, _mm256_set1_pd(kLogA2));
  y = _mm256_fmadd_pd(_mm256_set1_pd(kLogA0), r2, y);
  y = _mm256_fmadd_pd(y, r2, _mm256_add_pd(y0, r));
  __m128 out = _mm256_cvtpd_ps(y);
  // Exactly 1 → +0; ±0 → −inf; +inf → +inf; negative or NaN → (x − x) / (x − x).
  out = _mm_blendv_ps(out, _mm_setzero_ps(),
                      _mm_castsi128_ps(_mm_cmpeq_epi32(bits, _mm_set1_epi32(0x3f800000))));
  const __m128i twice = _mm_add_epi32(bits, bits);
  out = _mm_blendv_ps(out, _mm_set1_ps(-std::numeric_limits<float>::infinity()),
                      _mm_castsi128_ps(_mm_cmpeq_epi32(twice, _mm_setzero_si128())));
  out = _mm_blendv_ps(out, x, _mm_castsi128_ps(_mm_cmpeq_epi32(bits, _mm_set1_epi32(0x7f800000))));
  const __m128 diff = _mm_sub_ps(x, x);
  // Negative (other than −0) or NaN: sign bit set with a non-zero rest, or bits·2 > 0xff000000.
  const __m128i negative =
      _mm_andnot_si128(_mm_cmpeq_epi32(twice, _mm_setzero_si128()), _mm_srai_epi32(bits, 31));
  const __m128i nan = _mm_castps_si128(_mm_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm_blendv_ps(out, _mm_div_ps(diff, diff), _mm_castsi128_ps(_mm_or_si128(negative, nan)));
}

// Eight lanes of log1p_scalar: both of fdlibm's paths for every lane, then the early returns.
inline __m256 log1p8(__m256 x) {
  const __m256i hx = _mm256_castps_si256(x);
  const __m256i ax = _mm256_and_si256(hx, _mm256_set1_epi32(0x7fffffff));
  const __m256 one = _mm256_set1_ps(1.0f);
  const auto gt = [](__m256i a, int b) { return _mm256_cmpgt_epi32(a, _mm256_set1_epi32(b)); };
  const auto lt = [](__m256i a, int b) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(b), a); };
  // k != 0: 1 + x = 2^k u (or x itself when huge), with the correction c of that rounding.
  const __m256 u_a = _mm256_add_ps(one, x);
  const __m256i hu_a = _mm256_castps_si256(u_a);
  const __m256i k_a = _mm256_sub_epi32(_mm256_srai_epi32(hu_a, 23), _mm256_set1_epi32(127));
  const __m256 c_pos = _mm256_sub_ps(one, _mm256_sub_ps(u_a, x));
  const __m256 c_neg = _mm256_sub_ps(x, _mm256_sub_ps(u_a, one));
  const __m256 c_a = _mm256_div_ps(select_ps(mask_ps(gt(k_a, 0)), c_pos, c_neg), u_a);
  const __m256i not_huge = lt(hx, 0x5a000000);
  __m256i hu = _mm256_blendv_epi8(hx, hu_a, not_huge);
  __m256i k = _mm256_blendv_epi8(
      _mm256_sub_epi32(_mm256_srai_epi32(hx, 23), _mm256_set1_epi32(127)), k_a, not_huge);
  __m256 c = select_ps(mask_ps(not_huge), c_a, _mm256_setzero_ps());
  hu = _mm256_and_si256(hu, _mm256_set1_epi32(0x007fffff));
  const __m256i low = lt(hu, 0x3504f7);
  const __m256 u = _mm256_castsi256_ps(_mm256_or_si256(
      hu, _mm256_blendv_epi8(_mm256_set1_epi32(0x3f000000), _mm256_set1_epi32(0x3f800000), low)));
  k = _mm256_blendv_epi8(_mm256_add_epi32(k, _mm256_set1_epi32(1)), k, low);
  hu = _mm256_blendv_epi8(_mm256_srai_epi32(_mm256_sub_epi32(_mm256_set1_epi32(0x00800000), hu), 2),
                          hu, low);
  __m256 f = _mm256_sub_ps(u, one);
  // k = 0: −0.2929 < x < 0.41422, f = x.
  const __m256i below = lt(hx, 0x3ed413d7);
  const __m256i k_zero = _mm256_and_si256(
      below,
      _mm256_or_si256(
          gt(hx, 0), _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(0xbe95f61fu) + 1), hx)));
  f = select_ps(mask_ps(k_zero), x, f);
  k = _mm256_andnot_si256(k_zero, k);
  hu = _mm256_blendv_epi8(hu, _mm256_set1_epi32(1), k_zero);
  const __m256i k_is_zero = _mm256_cmpeq_epi32(k, _mm256_setzero_si256());
  const __m256 kf = _mm256_cvtepi32_ps(k);
  const __m256 ln2_hi = _mm256_set1_ps(kLn2Hi), ln2_lo = _mm256_set1_ps(kLn2Lo);
  const __m256 hfsq = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), f), f);
  const __m256 klo_c = _mm256_add_ps(_mm256_mul_ps(kf, ln2_lo), c);  // k·ln2_lo + c
  const __m256 khi = _mm256_mul_ps(kf, ln2_hi);
  // |f| < 2^-20 (hu == 0).
  const __m256 r0 =
      _mm256_mul_ps(hfsq, _mm256_sub_ps(one, _mm256_mul_ps(_mm256_set1_ps(kTwoThirds), f)));
  __m256 res0 = select_ps(mask_ps(k_is_zero), _mm256_sub_ps(f, r0),
                          _mm256_sub_ps(khi, _mm256_sub_ps(_mm256_sub_ps(r0, klo_c), f)));
  const __m256 f_exact = select_ps(mask_ps(k_is_zero), _mm256_setzero_ps(),
                                   _mm256_add_ps(khi, _mm256_add_ps(c, _mm256_mul_ps(kf, ln2_lo))));
  res0 = select_ps(_mm256_cmp_ps(f, _mm256_setzero_ps(), _CMP_EQ_OQ), f_exact, res0);
  // The general case.
  const __m256 s = _mm256_div_ps(f, _mm256_add_ps(_mm256_set1_ps(2.0f), f));
  const __m256 z = _mm256_mul_ps(s, s);
  __m256 r = _mm256_set1_ps(kLp7);
  for (const float lp : {kLp6, kLp5, kLp4, kLp3, kLp2, kLp1})
    r = _mm256_add_ps(_mm256_set1_ps(lp), _mm256_mul_ps(z, r));
  r = _mm256_mul_ps(z, r);
  const __m256 s_term = _mm256_mul_ps(s, _mm256_add_ps(hfsq, r));
  __m256 res = select_ps(
      mask_ps(k_is_zero), _mm256_sub_ps(f, _mm256_sub_ps(hfsq, s_term)),
      _mm256_sub_ps(khi, _mm256_sub_ps(_mm256_sub_ps(hfsq, _mm256_add_ps(s_term, klo_c)), f)));
  res = select_ps(mask_ps(_mm256_cmpeq_epi32(hu, _mm256_setzero_si256())), res0, res);
  // The early returns, last to first so the first applicable one wins.
  res =
      select_ps(mask_ps(_mm256_andnot_si256(below, gt(hx, 0x7f7fffff))), _mm256_add_ps(x, x), res);
  const __m256 tiny =
      select_ps(mask_ps(lt(ax, 0x24800000)), x,
                _mm256_sub_ps(x, _mm256_mul_ps(_mm256_mul_ps(x, x), _mm256_set1_ps(0.5f))));
  res = select_ps(mask_ps(_mm256_and_si256(below, lt(ax, 0x31000000))), tiny, res);
  const __m256 diff = _mm256_sub_ps(x, x);
  const __m256 at_most_minus_one =
      select_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-1.0f), _CMP_EQ_OQ),
                _mm256_set1_ps(-std::numeric_limits<float>::infinity()), _mm256_div_ps(diff, diff));
  return select_ps(mask_ps(_mm256_and_si256(below, gt(ax, 0x3f7fffff))), at_most_minus_one, res);
}

}  // namespace

void libm_expf(const float* x, float* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, exp4(_mm_loadu_ps(x + i)));
  for (; i < n; ++i) out[i] = exp_scalar(x[i]);
}

void libm_logf(const float* x, float* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, log4(_mm_loadu_ps(x + i)));
  for (; i < n; ++i) out[i] = log_scalar(x[i]);
}

void libm_log1pf(const float* x, float* out, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, log1p8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) out[i] = log1p_scalar(x[i]);
}

#else  // no AVX2 + FMA: the library itself

void libm_expf(const float* x, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = std::exp(x[i]);
}
void libm_logf(const float* x, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = std::log(x[i]);
}
void libm_log1pf(const float* x, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = std::log1p(x[i]);
}

#endif

}  // namespace stagesim::pg
