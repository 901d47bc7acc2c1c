// Helpers shared by the policy-gradient kernel tests.
#pragma once

#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "learners/pg/pl_mixture.hpp"

namespace stagesim::pg::testing {

// M matrices of B × n_items logits, N(0, scale²).
inline std::vector<RowMatrixXd> random_logits(int n_models, int batch, int n_items, double scale,
                                              Rng& rng) {
  boost::random::normal_distribution<double> normal(0.0, scale);
  std::vector<RowMatrixXd> logits(static_cast<std::size_t>(n_models));
  for (auto& l : logits) {
    l.resize(batch, n_items);
    for (Eigen::Index i = 0; i < l.size(); ++i) l.data()[i] = normal(rng);
  }
  return logits;
}

// Exact sequential-PL probability of an ordered list: slot k draws from softmax_{m(k)} over the
// items not yet taken.
inline double exact_list_probability(const std::vector<std::vector<double>>& logits,
                                     const std::vector<int>& slot_model,
                                     const std::vector<int>& list) {
  double p = 1.0;
  std::vector<bool> taken(logits.front().size(), false);
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto& s = logits[static_cast<std::size_t>(slot_model[k])];
    double z = 0.0;
    for (std::size_t b = 0; b < s.size(); ++b) {
      if (!taken[b]) z += std::exp(s[b]);
    }
    p *= std::exp(s[static_cast<std::size_t>(list[k])]) / z;
    taken[static_cast<std::size_t>(list[k])] = true;
  }
  return p;
}

}  // namespace stagesim::pg::testing
