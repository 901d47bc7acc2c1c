// Pool learning (two-stage spec §7): a MoE with learned gating vs the same experts on a fixed
// random pool allocation, trained on the same examples, compared by precision@k and recall@k on
// held-out products; the learned pools are distilled for the bandit pipeline. One call is one
// (N, d_e, c, s) point; the `pool_learning` job (jobs/pool_learning.cpp) runs it over a grid.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "environments/generators/labeled_products.hpp"
#include "learners/moe/pools.hpp"
#include "learners/moe/top_k_metrics.hpp"
#include "learners/moe/trainer.hpp"

namespace stagesim::moe {

struct PoolLearningPoint {
  int experts = 10;     // N
  int item_dim = 10;    // d_e
  int per_item = 1000;  // c: training examples per item
  int subset = 400;     // s: feature columns each expert sees
};

struct PoolLearningOptions {
  double sigma = 0.3;
  TrainOptions train;
  std::int64_t test_users = 50000;  // held out before any training example is drawn
  double validation_share = 0.1;    // of the c·K examples, for early stopping
  int k = 5;
  int threads = 1;  // OpenMP threads over experts inside the model
  std::uint64_t seed = 1;
  // Also retrain the experts on the distilled pools (fixed, like the random baseline) and evaluate
  // them: what the two-stage pipeline gets when it is handed the learned pools. Costs a third
  // training run.
  bool evaluate_distilled = false;
  // Explicit S_n per expert (size N); empty = each expert draws s of d without replacement.
  std::vector<std::vector<int>> subsets;
  // Called after each model is trained (progress reports); may be empty.
  std::function<void()> progress;
};

struct PoolLearningResult {
  TopKMetrics moe, random;
  TopKMetrics distilled;  // only with evaluate_distilled (users == 0 otherwise)
  TrainReport moe_train, random_train;
  std::vector<int> learned_assignment;       // item → expert: argmax of the average gate (spec)
  std::vector<int> contribution_assignment;  // item → expert: argmax of the score contribution
  std::vector<int> random_assignment;        // item → expert of the baseline
  Pools learned_pools;  // non-empty pools of learned_assignment (pools_to_toml-ready)
  double seconds = 0;   // wall time of the whole grid point
};

// Splits the products into test / training users, samples c examples per item, trains both
// models from identical initial experts and batch order, distils pools (gate weights, and score
// contributions, averaged over up to 10 000 training users) and evaluates on the test users.
// invalid_argument when the point does not fit the data (s > d, too few products).
PoolLearningResult run_pool_learning(const LabeledProducts& data, const PoolLearningPoint& point,
                                     const PoolLearningOptions& options);

// Each of `experts` subsets: `s` of the `d` columns without replacement, ascending.
std::vector<std::vector<int>> random_feature_subsets(int experts, int d, int s, Rng& rng);

}  // namespace stagesim::moe
