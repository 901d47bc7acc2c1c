// Softmax statistics of one context's logits under each model of a PL mixture: computed once per
// context and shared by candidate sampling and the score functions.
#pragma once

#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::pg {

class RowSoftmax {
 public:
  // Copies row `row` of every logits[m] (so the caller may overwrite those rows afterwards, e.g.
  // with gradients) and computes w_m = exp(s_m − max_m).
  void compute(const std::vector<RowMatrixXd>& logits, Eigen::Index row);
  // Whether this holds the softmax of exactly (bit for bit) that row, so compute would change
  // nothing: a GRPO group's requests share one user, hence one row (one compute per group).
  bool holds(const std::vector<RowMatrixXd>& logits, Eigen::Index row) const;

  int n_models() const { return static_cast<int>(max_.size()); }
  int n_items() const { return static_cast<int>(s_.cols()); }
  const double* logits(int m) const { return s_.row(m).data(); }
  // Weights relative to the row maximum, in [0, 1]; the maximum has weight exactly 1.
  const double* weights(int m) const { return w_.row(m).data(); }
  double max(int m) const { return max_[m]; }
  double sum(int m) const { return sum_[m]; }                  // Σ_b w_m(b) >= 1
  double log_sum_exp(int m) const { return log_sum_exp_[m]; }  // A_m
  double log_prob(int m, int a) const { return s_(m, a) - log_sum_exp_[m]; }
  // log(1 − p_m(a)) without cancellation when a holds almost all the mass.
  double log1m_prob(int m, int a) const;

 private:
  RowMatrixXd s_;
  RowMatrixXd w_;
  std::vector<double> max_, sum_, log_sum_exp_;
};

}  // namespace stagesim::pg
