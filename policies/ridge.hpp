#pragma once
// Online ridge regression with the inverse Gram matrix kept by Sherman–Morrison updates, and the
// batched LinUCB score z·theta + alpha·sqrt(zᵀ Σ z).
//
// The scoring kernel processes rows in the lanes of a vector with a fixed order of operations per
// lane, so an item's score does not depend on which other items are scored with it. That is what
// makes a two-stage system whose nominators see every feature reproduce a single-stage learner bit
// for bit (spec invariant 1).
#include <span>
#include <vector>

#include <Eigen/Core>

#include "base/state.hpp"
#include "base/vector_width.hpp"

namespace stagesim {

class Ridge {
 public:
  Ridge(int dim, double lambda);
  int dim() const { return m_; }
  // Adds w·z zᵀ to the Gram matrix and w·r·z to the response vector.
  void update(const double* z, double r, double w = 1.0);
  // scores[i] = rows[i]·theta + alpha·sqrt(rows[i]ᵀ Σ rows[i]) for n contiguous rows of length dim.
  void score(const double* rows, int n, double alpha, double* scores) const;
  const Eigen::MatrixXd& sigma() const { return sigma_; }  // (λI + Σ w z zᵀ)⁻¹, column-major
  const Eigen::VectorXd& theta() const { return theta_; }
  const Eigen::VectorXd& response() const { return b_; }
  // Σ, b and θ bit for bit (task checkpoints); restore checks the dimension.
  void save(StateWriter& w) const;
  void restore(StateReader& r);

  // One machine vector of doubles (GCC/Clang vector extension): the rows of one scoring block,
  // one per lane.
  static constexpr int kLanes = kVectorDoubles;
  typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));

 private:
  int m_;
  Eigen::MatrixXd sigma_;  // symmetric, so row k is column k
  Eigen::VectorXd b_, theta_;
  std::vector<double> u_;
  mutable std::vector<Lanes> zt_;  // block of rows, transposed
};

}  // namespace stagesim
