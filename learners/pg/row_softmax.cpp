#include "learners/pg/row_softmax.hpp"

#include <cmath>
#include <cstring>

#include "learners/pg/fast_exp.hpp"

namespace stagesim::pg {

void RowSoftmax::compute(const std::vector<RowMatrixXd>& logits, Eigen::Index row) {
  const int n_models = static_cast<int>(logits.size());
  const Eigen::Index n_items = logits.front().cols();
  s_.resize(n_models, n_items);
  w_.resize(n_models, n_items);
  max_.resize(n_models);
  sum_.resize(n_models);
  log_sum_exp_.resize(n_models);
  for (int m = 0; m < n_models; ++m) {
    s_.row(m) = logits[m].row(row);
    const double mx = s_.row(m).maxCoeff();
    exp_shifted(s_.row(m).data(), mx, w_.row(m).data(), static_cast<int>(n_items));
    max_[m] = mx;
    sum_[m] = w_.row(m).sum();
    log_sum_exp_[m] = mx + std::log(sum_[m]);
  }
}

bool RowSoftmax::holds(const std::vector<RowMatrixXd>& logits, Eigen::Index row) const {
  if (static_cast<Eigen::Index>(logits.size()) != s_.rows() || logits.empty() ||
      logits.front().cols() != s_.cols())
    return false;
  const std::size_t bytes = sizeof(double) * static_cast<std::size_t>(s_.cols());
  for (std::size_t m = 0; m < logits.size(); ++m)
    if (std::memcmp(logits[m].row(row).data(), s_.row(m).data(), bytes) != 0) return false;
  return true;
}

double RowSoftmax::log1m_prob(int m, int a) const {
  const double p = w_(m, a) / sum_[m];
  if (p < 0.5) return std::log1p(-p);
  // a is (close to) the argmax: sum the other weights directly instead of sum − w(a).
  const double* w = weights(m);
  const Eigen::Index n = n_items();
  const double rest = Eigen::Map<const Eigen::VectorXd>(w, a).sum() +
                      Eigen::Map<const Eigen::VectorXd>(w + a + 1, n - a - 1).sum();
  return std::log(rest) - std::log(sum_[m]);
}

}  // namespace stagesim::pg
