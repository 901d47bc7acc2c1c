#include "policies/ridge.hpp"

#include <algorithm>
#include <cmath>

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

// Eight rows ride in the eight lanes of one vector, so every row goes through exactly the same
// instructions in the same order whatever batch it came in (short batches are zero-padded): an
// item's score is bit-identical whether it is scored with 1 or 1000 others. GCC/Clang lower this
// type to AVX-512, AVX2 pairs or SSE as the target allows.
constexpr int kLanes = 8;
typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));

inline Lanes splat(double x) { return Lanes{x, x, x, x, x, x, x, x}; }

}  // namespace

void Ridge::score(const double* rows, int n, double alpha, double* scores) const {
  const int m = m_;
  const double* S = sigma_.data();
  const double* theta = theta_.data();
  zt_.resize(m);
  Lanes* zt = zt_.data();
  for (int i0 = 0; i0 < n; i0 += kLanes) {
    const int rows_here = std::min(kLanes, n - i0);
    // Transpose the block so that zt[k] holds feature k of the eight rows.
    for (int k = 0; k < m; ++k) {
      Lanes v = splat(0.0);
      for (int r = 0; r < rows_here; ++r) v[r] = rows[static_cast<std::ptrdiff_t>(i0 + r) * m + k];
      zt[k] = v;
    }
    Lanes mean = splat(0.0);
    for (int j = 0; j < m; ++j) mean += zt[j] * theta[j];
    Lanes quad = splat(0.0);
    if (alpha != 0) {
      // quad = Σ_j (Σ_k z_k S_kj) z_j, columns j in register tiles of 8.
      int j = 0;
      for (; j + 8 <= m; j += 8) {
        Lanes a0 = splat(0.0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < m; ++k) {
          const double* s = S + static_cast<std::ptrdiff_t>(k) * m + j;  // row k of Σ (symmetric)
          const Lanes z = zt[k];
          a0 += z * s[0];
          a1 += z * s[1];
          a2 += z * s[2];
          a3 += z * s[3];
          a4 += z * s[4];
          a5 += z * s[5];
          a6 += z * s[6];
          a7 += z * s[7];
        }
        quad += a0 * zt[j] + a1 * zt[j + 1] + a2 * zt[j + 2] + a3 * zt[j + 3] + a4 * zt[j + 4] +
                a5 * zt[j + 5] + a6 * zt[j + 6] + a7 * zt[j + 7];
      }
      for (; j < m; ++j) {
        Lanes a = splat(0.0);
        for (int k = 0; k < m; ++k) a += zt[k] * S[static_cast<std::ptrdiff_t>(k) * m + j];
        quad += a * zt[j];
      }
    }
    for (int r = 0; r < rows_here; ++r)
      scores[i0 + r] = alpha != 0 ? mean[r] + alpha * std::sqrt(std::max(quad[r], 0.0)) : mean[r];
  }
}

}  // namespace stagesim
