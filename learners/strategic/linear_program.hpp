#pragma once
// A dense two-phase simplex method with Bland's rule (terminates on degenerate problems) for the
// small linear programs of strategic parameters:  max cᵀx  s.t.  A x = b, x >= 0. Sized for a
// handful of rows and a few hundred columns (the hard-guardrail program has m rows, K + m − 1
// columns); O(rows · columns) per pivot.
#include <Eigen/Core>

namespace stagesim::strategic {

struct LinearProgramResult {
  enum class Status { optimal, infeasible, unbounded };
  Status status = Status::infeasible;
  Eigen::VectorXd x;
  double value = 0;
  int pivots = 0;
};

// `tolerance` is the pivoting threshold on reduced costs and ratios, relative to the data scale.
LinearProgramResult maximise_linear_program(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                                            const Eigen::VectorXd& c, double tolerance = 1e-11);

}  // namespace stagesim::strategic
