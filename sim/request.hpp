#pragma once
// One user request: the context every stage sees and the oracle the metrics use.
#include <algorithm>
#include <cstdint>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "base/matrix.hpp"

namespace stagesim {

struct Request {
  std::int64_t index = 0;   // 0-based request number within the replication
  double time = 0.0;        // arrival time (requests per unit time = the arrival rate)
  double delay_draw = 0.0;  // an Exp(1) variate shared by all systems, scaled by their delay model
  std::int64_t user = -1;   // user id for worlds with identities, -1 otherwise
  RowMatrix features;       // items × dim, one row per item (empty for worlds without features)
  // A held copy (hold_from): `features` holds only the rows of `feature_items` (ascending ids), in
  // that order, and `mean` is empty. Otherwise every item's row is at its id.
  bool held = false;
  std::vector<int> feature_items;
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

  // Item `item`'s feature row (features.cols() values).
  const double* feature_row(int item) const {
    const auto cols = static_cast<std::ptrdiff_t>(features.cols());
    if (!held) return features.data() + static_cast<std::ptrdiff_t>(item) * cols;
    const auto it = std::lower_bound(feature_items.begin(), feature_items.end(), item);
    if (it == feature_items.end() || *it != item)
      throw std::logic_error("held request " + std::to_string(index) +
                             " keeps no features of item " + std::to_string(item) +
                             ": the stage reads more at learn than its StageBuild::held_features");
    return features.data() + (it - feature_items.begin()) * cols;
  }

  // Makes this the copy of `from` that held (delayed or batched) feedback keeps: index, time,
  // delay draw, user and noise, the feature rows of `items` only (ascending ids, no duplicates;
  // none when `items` is empty) and no expected rewards (`mean` is empty: metrics have read it
  // when the request was served). Reuses this object's storage.
  void hold_from(const Request& from, std::span<const int> items) {
    index = from.index;
    time = from.time;
    delay_draw = from.delay_draw;
    user = from.user;
    noise = from.noise;
    view_mean(nullptr, 0);
    held = true;
    feature_items.assign(items.begin(), items.end());
    const auto cols = from.features.cols();
    features.resize(static_cast<Eigen::Index>(items.size()), items.empty() ? 0 : cols);
    for (std::size_t r = 0; r < items.size(); ++r)
      std::copy_n(from.feature_row(items[r]), cols,
                  features.data() + static_cast<std::ptrdiff_t>(r) * cols);
  }

  Request() = default;
  Request(const Request&) = delete;  // `mean` may point into this object
  Request& operator=(const Request&) = delete;
};

}  // namespace stagesim
