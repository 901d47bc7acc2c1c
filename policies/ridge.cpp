#include "policies/ridge.hpp"

#include <algorithm>
#include <cmath>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace stagesim {

Ridge::Ridge(int dim, double lambda)
    : m_(dim),
      sigma_(Eigen::MatrixXd::Identity(dim, dim) / lambda),
      b_(Eigen::VectorXd::Zero(dim)),
      theta_(Eigen::VectorXd::Zero(dim)),
      u_(dim) {}

void Ridge::update(const double* z, double r, double w) {
  if (w == 0) return;
  const int m = m_;
  double* S = sigma_.data();
  double* u = u_.data();
  // u = Σ z (Σ symmetric: column k scaled by z_k).
  std::fill(u, u + m, 0.0);
  for (int k = 0; k < m; ++k) {
    const double zk = z[k];
    const double* col = S + static_cast<std::ptrdiff_t>(k) * m;
    for (int j = 0; j < m; ++j) u[j] += zk * col[j];
  }
  double zu = 0;
  for (int j = 0; j < m; ++j) zu += z[j] * u[j];
  const double c = w / (1.0 + w * zu);
  for (int k = 0; k < m; ++k) {
    const double cu = c * u[k];
    double* col = S + static_cast<std::ptrdiff_t>(k) * m;
    for (int j = 0; j < m; ++j) col[j] -= cu * u[j];
  }
  for (int j = 0; j < m; ++j) b_[j] += w * r * z[j];
  // theta = Σ b.
  double* t = theta_.data();
  std::fill(t, t + m, 0.0);
  for (int k = 0; k < m; ++k) {
    const double bk = b_[k];
    const double* col = S + static_cast<std::ptrdiff_t>(k) * m;
    for (int j = 0; j < m; ++j) t[j] += bk * col[j];
  }
}

namespace {

// kLanes rows ride in the lanes of one vector, so every row goes through exactly the same
// instructions in the same order whatever batch it came in (short batches are zero-padded) and
// whatever the vector width: an item's score is bit-identical whether it is scored with 1 or 1000
// others, on AVX-512, AVX2 or SSE.
using Lanes = Ridge::Lanes;
constexpr int kLanes = Ridge::kLanes;
// Columns of Σ per register tile: B·kTile accumulators plus B rows of z fit the register file.
constexpr int kTile = kVectorRegisters >= 32 ? 8 : 4;

inline Lanes splat(double x) {
  Lanes v;
  for (int i = 0; i < kLanes; ++i) v[i] = x;
  return v;
}

// a·b + c, fused wherever the machine has FMA. Explicit, not left to -ffp-contract: the compiler
// contracts the one-vector and two-vector blocks differently, and a row's score would then depend
// on the batch it came in.
inline Lanes mul_add(Lanes a, Lanes b, Lanes c) {
#if defined(__AVX512F__)
  return reinterpret_cast<Lanes>(_mm512_fmadd_pd(
      reinterpret_cast<__m512d>(a), reinterpret_cast<__m512d>(b), reinterpret_cast<__m512d>(c)));
#elif defined(__FMA__)
  return reinterpret_cast<Lanes>(_mm256_fmadd_pd(
      reinterpret_cast<__m256d>(a), reinterpret_cast<__m256d>(b), reinterpret_cast<__m256d>(c)));
#else
  return a * b + c;
#endif
}

}  // namespace

// Scores B·kLanes rows (B lane vectors) held transposed in zt[k*B + b]. Loading a row of Σ once for
// B vectors halves the traffic on Σ for B = 2, which matters once Σ no longer fits in L1/L2.
template <int B>
static void score_block(const double* S, const double* theta, int m, const Lanes* zt, bool bonus,
                        Lanes* mean, Lanes* quad) {
  for (int b = 0; b < B; ++b) mean[b] = quad[b] = splat(0.0);
  for (int j = 0; j < m; ++j)
    for (int b = 0; b < B; ++b) mean[b] = mul_add(zt[j * B + b], splat(theta[j]), mean[b]);
  if (!bonus) return;
  // quad = Σ_j (Σ_k z_k S_kj) z_j, columns j in register tiles of kTile (ascending j, as the
  // column-by-column tail).
  int j = 0;
  for (; j + kTile <= m; j += kTile) {
    Lanes a[B][kTile];
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < kTile; ++c) a[b][c] = splat(0.0);
    for (int k = 0; k < m; ++k) {
      const double* s = S + static_cast<std::ptrdiff_t>(k) * m + j;  // row k of Σ (symmetric)
      for (int b = 0; b < B; ++b) {
        const Lanes z = zt[k * B + b];
        for (int c = 0; c < kTile; ++c) a[b][c] = mul_add(z, splat(s[c]), a[b][c]);
      }
    }
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < kTile; ++c) quad[b] = mul_add(a[b][c], zt[(j + c) * B + b], quad[b]);
  }
  for (; j < m; ++j)
    for (int b = 0; b < B; ++b) {
      Lanes a = splat(0.0);
      for (int k = 0; k < m; ++k)
        a = mul_add(zt[k * B + b], splat(S[static_cast<std::ptrdiff_t>(k) * m + j]), a);
      quad[b] = mul_add(a, zt[j * B + b], quad[b]);
    }
}

void Ridge::score(const double* rows, int n, double alpha, double* scores) const {
  const int m = m_;
  constexpr int kMaxB = 2;
  zt_.resize(static_cast<size_t>(m) * kMaxB);
  Lanes* zt = zt_.data();
  Lanes mean[kMaxB], quad[kMaxB];
  for (int i0 = 0; i0 < n;) {
    // Two vectors (2·kLanes rows) while more than kLanes rows remain, else one; a row's arithmetic
    // is the same in both, only the interleaving of independent lanes differs.
    const int B = n - i0 > kLanes ? 2 : 1;
    const int rows_here = std::min(B * kLanes, n - i0);
    for (int k = 0; k < m; ++k)
      for (int b = 0; b < B; ++b) {
        Lanes v = splat(0.0);
        for (int r = 0; r < kLanes && b * kLanes + r < rows_here; ++r)
          v[r] = rows[static_cast<std::ptrdiff_t>(i0 + b * kLanes + r) * m + k];
        zt[k * B + b] = v;
      }
    if (B == 2)
      score_block<2>(sigma_.data(), theta_.data(), m, zt, alpha != 0, mean, quad);
    else
      score_block<1>(sigma_.data(), theta_.data(), m, zt, alpha != 0, mean, quad);
    for (int r = 0; r < rows_here; ++r) {
      const double mu = mean[r / kLanes][r % kLanes], q = quad[r / kLanes][r % kLanes];
      scores[i0 + r] = alpha != 0 ? mu + alpha * std::sqrt(std::max(q, 0.0)) : mu;
    }
    i0 += rows_here;
  }
}

void Ridge::save(StateWriter& w) const {
  w.put(sigma_);
  w.put(b_);
  w.put(theta_);
}

void Ridge::restore(StateReader& r) {
  r.get_same_shape(sigma_);
  r.get_same_shape(b_);
  r.get_same_shape(theta_);
}

}  // namespace stagesim
