#pragma once
// One user request: the context every stage sees and the oracle the metrics use.
#include <cstdint>
#include <new>

#include <Eigen/Core>

#include "base/matrix.hpp"

namespace stagesim {

struct Request {
  std::int64_t index = 0;   // 0-based request number within the replication
  double time = 0.0;        // arrival time (requests per unit time = the arrival rate)
  double delay_draw = 0.0;  // an Exp(1) variate shared by all systems, scaled by their delay model
  std::int64_t user = -1;   // user id for worlds with identities, -1 otherwise
  RowMatrix features;       // items × dim, one row per item (empty for worlds without features)
  // Expected reward of every item (the oracle for regret): a view, either of mean_storage or of a
  // world's table row, so tabular worlds need not copy a row per request.
  Eigen::Map<const Eigen::VectorXd> mean{nullptr, 0};
  Eigen::VectorXd mean_storage;
  Eigen::VectorXd noise;  // per slate position, world-defined noise draws (common to all systems)

  void view_mean(const double* row, Eigen::Index n) {
    new (&mean) Eigen::Map<const Eigen::VectorXd>(row, n);  // Eigen's way to re-seat a Map
  }
  // Call after filling mean_storage.
  void own_mean() { view_mean(mean_storage.data(), mean_storage.size()); }

  Request() = default;
  Request(const Request&) = delete;  // `mean` may point into this object
  Request& operator=(const Request&) = delete;
};

}  // namespace stagesim
