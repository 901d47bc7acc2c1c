// Helpers shared by the MoE tests: small random models and batches.
#pragma once

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <vector>

#include "learners/moe/moe_model.hpp"

namespace stagesim::moe::test {

struct Batch {
  RowMatrixXd z;
  std::vector<int> items;
  std::vector<double> rewards;
};

inline Batch RandomBatch(int rows, int features, int items, Rng& rng, bool binary = true) {
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  boost::random::uniform_int_distribution<int> item(0, items - 1), bit(0, 1);
  Batch b;
  b.z.resize(rows, features);
  for (Eigen::Index i = 0; i < b.z.size(); ++i) b.z.data()[i] = normal(rng);
  for (int i = 0; i < rows; ++i) {
    b.items.push_back(item(rng));
    b.rewards.push_back(binary ? bit(rng) : normal(rng));
  }
  return b;
}

// Overwrites every parameter with N(0, sd²) draws, so that gating and experts are far from their
// (near-symmetric) initial values and every term of the gradient matters.
inline void Scramble(MoeModel& model, double sd, Rng& rng) {
  boost::random::normal_distribution<double> normal(0.0, sd);
  for (RowMatrixXd& t : model.params())
    for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = normal(rng);
}

}  // namespace stagesim::moe::test
