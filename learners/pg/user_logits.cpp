#include "learners/pg/user_logits.hpp"

#include <vector>

#include "learners/pg/wide_vectors.hpp"

namespace stagesim::pg {

namespace {

constexpr int kLanes = 16;  // items per register tile (two 512-bit or four 256-bit vectors)

// R rows at once: the tile of vt (dim × 16) is loaded once for all R rows, and the R × 16 sums
// stay in registers over the whole j loop (independent chains hide the add latency).
template <int R>
STAGESIM_PG_WIDE_VECTORS void rows_block(const double* const* u, const double* vt, int dim,
                                         int n, double* const* out) {
  int a0 = 0;
  for (; a0 + kLanes <= n; a0 += kLanes) {
    double acc[R][kLanes] = {};
    for (int j = 0; j < dim; ++j) {
      const double* v = vt + static_cast<std::ptrdiff_t>(j) * n + a0;
      for (int r = 0; r < R; ++r) {
        const double uj = u[r][j];
        for (int t = 0; t < kLanes; ++t) acc[r][t] += uj * v[t];
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < kLanes; ++t) out[r][a0 + t] = acc[r][t];
  }
  for (int a = a0; a < n; ++a) {
    for (int r = 0; r < R; ++r) {
      double acc = 0.0;
      for (int j = 0; j < dim; ++j) acc += u[r][j] * vt[static_cast<std::ptrdiff_t>(j) * n + a];
      out[r][a] = acc;
    }
  }
}

}  // namespace

void user_logits(const RowMatrixXd& user_table, std::span<const int> users, const RowMatrixXd& vt,
                 double inv_tau, RowMatrixXd& out) {
  const int rows = static_cast<int>(users.size());
  const int dim = static_cast<int>(vt.rows()), n = static_cast<int>(vt.cols());
  out.resize(rows, n);
  // The scaled user rows u_j · (1/τ), as the single-row loop forms them.
  thread_local std::vector<double> scaled;
  scaled.resize(static_cast<std::size_t>(rows) * dim);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < dim; ++j) scaled[r * dim + j] = user_table(users[r], j) * inv_tau;
  constexpr int kRows = 4;
  const double* u[kRows];
  double* o[kRows];
  int r0 = 0;
  for (; r0 + kRows <= rows; r0 += kRows) {
    for (int r = 0; r < kRows; ++r) {
      u[r] = scaled.data() + (r0 + r) * dim;
      o[r] = out.row(r0 + r).data();
    }
    rows_block<kRows>(u, vt.data(), dim, n, o);
  }
  for (; r0 < rows; ++r0) {
    u[0] = scaled.data() + r0 * dim;
    o[0] = out.row(r0).data();
    rows_block<1>(u, vt.data(), dim, n, o);
  }
}

}  // namespace stagesim::pg
