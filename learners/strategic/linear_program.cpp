#include "learners/strategic/linear_program.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace stagesim::strategic {

namespace {

// Tableau: rows 0..r-1 constraints ([coefficients | rhs]); basis[i] = the basic column of row i.
struct Tableau {
  Eigen::MatrixXd t;
  std::vector<int> basis;
  int cols = 0;  // columns before the rhs
  int pivots = 0;

  void pivot(int row, int col) {
    t.row(row) /= t(row, col);
    for (Eigen::Index i = 0; i < t.rows(); ++i)
      if (i != row && t(i, col) != 0) t.row(i) -= t(i, col) * t.row(row);
    basis[static_cast<std::size_t>(row)] = col;
    ++pivots;
  }

  // Maximises objective row `obj` (reduced costs stored as −c so that "positive reduced cost"
  // = negative entry) over the first `allowed` columns. False when unbounded.
  bool optimise(int obj, int allowed, double tol) {
    const int r = static_cast<int>(basis.size());
    for (;;) {
      int enter = -1;
      for (int j = 0; j < allowed && enter < 0; ++j)
        if (t(obj, j) < -tol) enter = j;  // Bland: lowest index
      if (enter < 0) return true;
      int leave = -1;
      double best = std::numeric_limits<double>::infinity();
      for (int i = 0; i < r; ++i)
        if (t(i, enter) > tol) {
          const double ratio = t(i, cols) / t(i, enter);
          if (leave < 0 || ratio < best - tol) {
            best = ratio;
            leave = i;
          } else if (ratio <= best + tol &&
                     basis[static_cast<std::size_t>(i)] < basis[static_cast<std::size_t>(leave)]) {
            best = std::min(best, ratio);  // Bland: lowest basic index among the ties
            leave = i;
          }
        }
      if (leave < 0) return false;
      pivot(leave, enter);
    }
  }
};

}  // namespace

LinearProgramResult maximise_linear_program(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                                            const Eigen::VectorXd& c, double tolerance) {
  const int r = static_cast<int>(a.rows()), n = static_cast<int>(a.cols());
  if (b.size() != r || c.size() != n)
    throw std::invalid_argument("linear program: sizes of A, b and c do not match");
  const double scale = std::max({1.0, a.cwiseAbs().maxCoeff(), b.cwiseAbs().maxCoeff(),
                                 c.size() ? c.cwiseAbs().maxCoeff() : 0.0});
  const double tol = tolerance * scale;
  // Columns: x (n), artificials (r), rhs; rows: constraints, phase-2 objective, phase-1 objective.
  Tableau tab;
  tab.cols = n + r;
  tab.t = Eigen::MatrixXd::Zero(r + 2, n + r + 1);
  tab.basis.resize(static_cast<std::size_t>(r));
  for (int i = 0; i < r; ++i) {
    const double sign = b[i] < 0 ? -1.0 : 1.0;
    tab.t.row(i).head(n) = sign * a.row(i);
    tab.t(i, n + i) = 1;
    tab.t(i, n + r) = sign * b[i];
    tab.basis[static_cast<std::size_t>(i)] = n + i;
  }
  tab.t.row(r).head(n) = -c.transpose();
  // Phase 1 maximises −Σ artificials; in reduced form its row is −Σ constraint rows.
  for (int i = 0; i < r; ++i) {
    tab.t.row(r + 1).head(n) -= tab.t.row(i).head(n);
    tab.t(r + 1, n + r) -= tab.t(i, n + r);
  }
  LinearProgramResult res;
  tab.optimise(r + 1, n, tol);
  if (tab.t(r + 1, n + r) < -tol * std::max(1.0, static_cast<double>(r))) {
    res.pivots = tab.pivots;
    return res;  // infeasible
  }
  // Drive artificials still basic at level 0 out of the basis (their rows are redundant when
  // no original column can replace them; such a row stays, with a zero artificial).
  for (int i = 0; i < r; ++i)
    if (tab.basis[static_cast<std::size_t>(i)] >= n)
      for (int j = 0; j < n; ++j)
        if (std::abs(tab.t(i, j)) > tol) {
          tab.pivot(i, j);
          break;
        }
  // Phase 2 over the original columns only (artificials never re-enter).
  if (!tab.optimise(r, n, tol)) {
    res.status = LinearProgramResult::Status::unbounded;
    res.pivots = tab.pivots;
    return res;
  }
  res.status = LinearProgramResult::Status::optimal;
  res.x = Eigen::VectorXd::Zero(n);
  for (int i = 0; i < r; ++i) {
    const int j = tab.basis[static_cast<std::size_t>(i)];
    if (j < n) res.x[j] = std::max(0.0, tab.t(i, n + r));
  }
  res.value = c.dot(res.x);
  res.pivots = tab.pivots;
  return res;
}

}  // namespace stagesim::strategic
