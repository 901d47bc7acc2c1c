#include "learners/pg/grpo.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::pg {

void grpo_normalize(Eigen::Ref<RowMatrixXd> rewards, int group_size, bool subtract_group_min) {
  if (group_size < 2 || rewards.rows() % group_size != 0) {
    throw std::invalid_argument("grpo_normalize: need group_size >= 2 dividing the batch");
  }
  for (Eigen::Index g0 = 0; g0 < rewards.rows(); g0 += group_size) {
    for (Eigen::Index l = 0; l < rewards.cols(); ++l) {
      auto r = rewards.col(l).segment(g0, group_size);
      const double mean = r.mean();
      const double sd = std::sqrt((r.array() - mean).square().sum() / (group_size - 1));
      if (sd > 0.0) {
        r = (r.array() - mean) / sd;
      } else {
        r.setZero();
      }
      if (subtract_group_min) r.array() -= r.minCoeff();
    }
  }
}

}  // namespace stagesim::pg
