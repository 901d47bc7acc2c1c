#include "learners/pg/user_logits.hpp"

#include <vector>

#include "base/vector_width.hpp"

namespace stagesim::pg {

namespace {

// GCC/Clang vector types one machine register wide (a wider generic vector is lowered through
// the stack: 20x slower on AVX2). Element-wise + and * on them round exactly as the scalar
// operations do, so the lane width never changes a bit of the result.
constexpr int kWidth = kVectorDoubles;
typedef double vd __attribute__((vector_size(kWidth * sizeof(double))));
constexpr int kLanes = 2 * kWidth;  // items per register tile: two vd

inline vd load(const double* p) {
  vd v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store(double* p, vd v) {
  __builtin_memcpy(p, &v, sizeof v);
}

// R rows at once: each kLanes-item tile of vt is loaded once for all R rows, and the R × kLanes
// sums stay in registers over the whole j loop (2R independent chains hide the add latency).
template <int R>
void rows_block(const double* const* u, const double* vt, int dim, int n, double* const* out) {
  int a0 = 0;
  for (; a0 + kLanes <= n; a0 += kLanes) {
    vd lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = vd{};
    for (int j = 0; j < dim; ++j) {
      const double* v = vt + static_cast<std::ptrdiff_t>(j) * n + a0;
      const vd vl = load(v), vh = load(v + kWidth);
      for (int r = 0; r < R; ++r) {
        const double uj = u[r][j];
        lo[r] = lo[r] + uj * vl;
        hi[r] = hi[r] + uj * vh;
      }
    }
    for (int r = 0; r < R; ++r) {
      store(out[r] + a0, lo[r]);
      store(out[r] + a0 + kWidth, hi[r]);
    }
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
