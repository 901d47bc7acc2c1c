// Offline ranking metrics of spec §7: for each test product u, Top-k = the k items with the
// highest scores (ties: lower item id first), precision@k = |Top-k ∩ Y_u| / k and
// recall@k = |Top-k ∩ Y_u| / |Y_u|, both 0 when u has no kept label; averaged over the users.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "environments/generators/labeled_products.hpp"
#include "learners/moe/moe_model.hpp"

namespace stagesim::moe {

struct TopKMetrics {
  double precision = 0, recall = 0;
  double precision_se = 0, recall_se = 0;  // standard errors of the means over users
  std::int64_t users = 0;
};

// The k best items of one score row (k ≤ row size), best first.
std::vector<int> top_items(const Eigen::Ref<const Eigen::RowVectorXd>& scores, int k);

// Scores the users in chunks of `batch` with model.scores.
TopKMetrics evaluate_top_k(const MoeModel& model, const LabeledProducts& data,
                           std::span<const std::int64_t> users, int k = 5, int batch = 1024);

}  // namespace stagesim::moe
