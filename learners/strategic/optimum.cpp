#include "learners/strategic/optimum.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <Eigen/QR>

#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/linear_program.hpp"
#include "learners/strategic/simplex.hpp"

namespace stagesim::strategic {

namespace {

MixtureOptimum best_vertex(const Eigen::MatrixXd& mean, const Objective& objective) {
  MixtureOptimum r;
  const int k = best_single_parameter(mean, objective);
  r.p = Eigen::VectorXd::Zero(mean.cols());
  r.p[k] = 1;
  r.value = objective.value(mean.col(k));
  return r;
}

MixtureOptimum solve_hard(const Eigen::MatrixXd& mean, const Objective& objective) {
  const int m = static_cast<int>(mean.rows()), K = static_cast<int>(mean.cols());
  // Variables: p (K), surplus s_j (m − 1) with U_j p − s_j = c_j.
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, K + m - 1);
  Eigen::VectorXd b(m), c = Eigen::VectorXd::Zero(K + m - 1);
  a.row(0).head(K).setOnes();
  b[0] = 1;
  for (int j = 1; j < m; ++j) {
    a.row(j).head(K) = mean.row(j);
    a(j, K + j - 1) = -1;
    b[j] = objective.thresholds[j - 1];
  }
  c.head(K) = mean.row(0).transpose();
  const LinearProgramResult lp = maximise_linear_program(a, b, c);
  MixtureOptimum r;
  r.iterations = lp.pivots;
  if (lp.status != LinearProgramResult::Status::optimal) {
    // Infeasible (the feasible set is bounded, so never unbounded): the least-violating vertex.
    r = best_vertex(mean, objective);
    r.feasible = false;
    r.value = -std::numeric_limits<double>::infinity();
    return r;
  }
  r.p = lp.x.head(K);
  r.p /= r.p.sum();
  r.value = objective.value(mean * r.p);
  // Round-off can leave a guardrail a hair below its threshold: report the LP value then.
  if (!std::isfinite(r.value)) r.value = mean.row(0).dot(r.p);
  return r;
}

// Soft form on the face S = support(p) with the penalty active on J = {j : v_j < c_j}: ∇F is
// linear there, ∇F_S = U_0S − 2λ A_Sᵀ (A p_S − c_J) with A = U_{J,S}, and the KKT conditions
// ∇F_k = ν (k ∈ S), Σ p_S = 1 are a linear system in (p_S, ν). Writes its (minimum-norm)
// solution to p; false when it leaves the face (a negative weight).
bool polish_on_face(const Eigen::MatrixXd& mean, const Objective& objective, Eigen::VectorXd& p) {
  const Eigen::VectorXd v = mean * p;
  std::vector<Eigen::Index> support, active;
  for (Eigen::Index k = 0; k < p.size(); ++k)
    if (p[k] > 0) support.push_back(k);
  for (Eigen::Index j = 0; j < objective.thresholds.size(); ++j)
    if (v[j + 1] < objective.thresholds[j]) active.push_back(j);
  const Eigen::Index s = static_cast<Eigen::Index>(support.size());
  const Eigen::Index a = static_cast<Eigen::Index>(active.size());
  Eigen::MatrixXd A(a, s);
  Eigen::VectorXd c(a), u0(s);
  for (Eigen::Index i = 0; i < s; ++i) {
    u0[i] = mean(0, support[i]);
    for (Eigen::Index j = 0; j < a; ++j) A(j, i) = mean(active[j] + 1, support[i]);
  }
  for (Eigen::Index j = 0; j < a; ++j) c[j] = objective.thresholds[active[j]];
  const double two_lambda = 2.0 * objective.lambda;
  Eigen::MatrixXd kkt = Eigen::MatrixXd::Zero(s + 1, s + 1);
  kkt.topLeftCorner(s, s) = two_lambda * A.transpose() * A;
  kkt.block(0, s, s, 1).setOnes();
  kkt.block(s, 0, 1, s).setOnes();
  Eigen::VectorXd rhs(s + 1);
  rhs.head(s) = u0 + two_lambda * A.transpose() * c;
  rhs[s] = 1;
  const Eigen::VectorXd sol = kkt.completeOrthogonalDecomposition().solve(rhs);
  if (!sol.allFinite() || (sol.head(s).array() < 0).any()) return false;
  p.setZero();
  for (Eigen::Index i = 0; i < s; ++i) p[support[i]] = sol[i];
  p /= p.sum();
  return true;
}

MixtureOptimum solve_soft(const Eigen::MatrixXd& mean, const Objective& objective,
                          const OptimumOptions& o) {
  const Eigen::Index m = mean.rows(), K = mean.cols();
  const double lipschitz = 2.0 * objective.lambda * mean.bottomRows(m - 1).squaredNorm();
  if (!(lipschitz > 0)) return best_vertex(mean, objective);  // linear: λ = 0 or zero guardrails
  const double step = 1.0 / lipschitz;
  Eigen::VectorXd d(m), g(K);
  auto gradient = [&](const Eigen::VectorXd& p) {
    objective.ascent(mean * p, d);
    g.noalias() = mean.transpose() * d;
  };
  // Start from the best vertex: already the answer when no guardrail binds.
  MixtureOptimum r = best_vertex(mean, objective);
  Eigen::VectorXd x = r.p, x_prev = x, y = x;
  double fx = r.value, momentum = 1;
  bool restarted = false;
  for (std::int64_t it = 1; it <= o.max_iterations; ++it) {
    r.iterations = it;
    gradient(x);
    if (g.maxCoeff() - g.dot(x) <= o.tolerance * std::max(1.0, std::abs(fx))) break;
    gradient(y);
    Eigen::VectorXd next = y + step * g;
    project_onto_simplex(next);
    const double f_next = objective.value(mean * next);
    if (f_next < fx) {
      // A plain projected-gradient step (y = x) cannot decrease f but for round-off: stalled.
      if (restarted) break;
      restarted = true;  // restart the momentum from the current point
      momentum = 1;
      y = x;
      continue;
    }
    restarted = false;
    const double m_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * momentum * momentum));
    x_prev = x;
    x = next;
    fx = f_next;
    y = x + ((momentum - 1.0) / m_next) * (x - x_prev);
    momentum = m_next;
  }
  gradient(x);
  r.gap = std::max(0.0, g.maxCoeff() - g.dot(x));
  // Near the optimum f changes by less than its rounding step and the iteration stalls with a
  // gap of ~1e-8; on the identified face the KKT conditions are linear, so solve them exactly.
  Eigen::VectorXd polished = x;
  if (polish_on_face(mean, objective, polished)) {
    gradient(polished);
    const double gap = std::max(0.0, g.maxCoeff() - g.dot(polished));
    const double f = objective.value(mean * polished);
    if (gap < r.gap && f >= fx - 1e-15 * std::max(1.0, std::abs(fx))) {
      x = polished;
      fx = f;
      r.gap = gap;
    }
  }
  r.p = x;
  r.value = fx;
  return r;
}

}  // namespace

MixtureOptimum solve_mixture(const Eigen::MatrixXd& mean, const Objective& objective,
                             const OptimumOptions& options) {
  objective.validate(static_cast<int>(mean.rows()));
  if (mean.cols() < 1) throw std::invalid_argument("solve_mixture: no parameters");
  switch (objective.form) {
    case ObjectiveForm::primary:
      return best_vertex(mean, objective);
    case ObjectiveForm::hard:
      return solve_hard(mean, objective);
    case ObjectiveForm::soft:
      return solve_soft(mean, objective, options);
  }
  return best_vertex(mean, objective);
}

}  // namespace stagesim::strategic
