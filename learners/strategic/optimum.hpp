#pragma once
// The exact optimum p* = argmax_{p ∈ Δ_K} f(U p) on the noise-free U, the reference of the
// relative gain (f(U p̄) − f(best single)) / (f(U p*) − f(best single)):
//   primary  the best vertex (a linear objective);
//   hard     the linear program max U_0 p s.t. U_j p >= c_j, Σ p = 1, p >= 0 (simplex method);
//   soft     accelerated projected gradient (FISTA with function-value restarts, step 1/L with
//            L = 2λ ‖U_guardrails‖_F² >= the gradient's Lipschitz constant), run until the
//            Frank–Wolfe duality gap max_k ∇_k − ∇ᵀp, an upper bound on f(U p*) − f(U p),
//            falls below the tolerance.
#include <Eigen/Core>
#include <cstdint>

#include "environments/strategic_problem.hpp"

namespace stagesim::strategic {

struct MixtureOptimum {
  Eigen::VectorXd p;
  double value = 0;
  // Certified bound on value(p*) − value (0 for the vertex and LP cases; the FW gap for soft).
  double gap = 0;
  bool feasible = true;  // false: the hard guardrails hold for no mixture (value = −∞)
  std::int64_t iterations = 0;
};

struct OptimumOptions {
  double tolerance = 1e-10;  // on the FW gap, relative to max(1, |value|)
  std::int64_t max_iterations = 2'000'000;
};

MixtureOptimum solve_mixture(const Eigen::MatrixXd& mean, const Objective& objective,
                             const OptimumOptions& options = {});

}  // namespace stagesim::strategic
