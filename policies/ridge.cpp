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

// R rows at a time so that each row of Σ is loaded once per R rows; every row's arithmetic is the
// same whatever R is.
template <int R>
void Ridge::bonus_block(const double* rows, double alpha, double* scores) const {
  const int m = m_;
  const double* S = sigma_.data();
  double* q = q_.data();
  std::fill(q, q + R * m, 0.0);
  for (int k = 0; k < m; ++k) {
    const double* srow = S + static_cast<std::ptrdiff_t>(k) * m;
    double zk[R];
    for (int r = 0; r < R; ++r) zk[r] = rows[r * m + k];
    for (int j = 0; j < m; ++j) {
      const double s = srow[j];
      for (int r = 0; r < R; ++r) q[r * m + j] += zk[r] * s;
    }
  }
  for (int r = 0; r < R; ++r) {
    const double* z = rows + r * m;
    double mean = 0, quad = 0;
    for (int j = 0; j < m; ++j) mean += z[j] * theta_[j];
    for (int j = 0; j < m; ++j) quad += q[r * m + j] * z[j];
    scores[r] = mean + alpha * std::sqrt(std::max(quad, 0.0));
  }
}

void Ridge::score(const double* rows, int n, double alpha, double* scores) const {
  const int m = m_;
  if (alpha == 0) {
    for (int i = 0; i < n; ++i) {
      const double* z = rows + static_cast<std::ptrdiff_t>(i) * m;
      double mean = 0;
      for (int j = 0; j < m; ++j) mean += z[j] * theta_[j];
      scores[i] = mean;
    }
    return;
  }
  q_.resize(static_cast<size_t>(4) * m);
  int i = 0;
  for (; i + 4 <= n; i += 4) bonus_block<4>(rows + static_cast<std::ptrdiff_t>(i) * m, alpha,
                                            scores + i);
  for (; i < n; ++i) bonus_block<1>(rows + static_cast<std::ptrdiff_t>(i) * m, alpha, scores + i);
}

}  // namespace stagesim
