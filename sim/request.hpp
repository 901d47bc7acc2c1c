#pragma once
// One user request: the context every stage sees and the oracle the metrics use.
#include <cstdint>

#include <Eigen/Core>

namespace stagesim {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Request {
  std::int64_t index = 0;  // 0-based request number within the replication
  double time = 0.0;       // arrival time (requests per unit time = the arrival rate)
  double delay_draw = 0.0; // an Exp(1) variate shared by all systems, scaled by their delay model
  std::int64_t user = -1;  // user id for worlds with identities, -1 otherwise
  RowMatrix features;      // items × dim, one row per item (empty for worlds without features)
  Eigen::VectorXd mean;    // expected reward of every item: the oracle for regret
  Eigen::VectorXd noise;   // per slate position, world-defined noise draws (common to all systems)
};

}  // namespace stagesim
