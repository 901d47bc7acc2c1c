// One grid point of the paper's Fig. 5 (spec §7/§8): MoE with learned gating vs the same experts
// on a fixed random pool allocation, precision@5 and recall@5 on held-out products. The caller
// loops over the grid (docs/moe.md shows how) and owns the data (see bench/moe_bench.cpp for
// the synthetic Amazon stand-in, or load AmazonCat-13K via environments/multilabel_data.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "policies/moe/labeled_products.hpp"
#include "policies/moe/pools.hpp"
#include "policies/moe/top_k_metrics.hpp"
#include "policies/moe/trainer.hpp"

namespace stagesim::moe {

struct Fig5Point {
  int experts = 10;     // N
  int item_dim = 10;    // d_e
  int per_item = 1000;  // c: training examples per item
  int subset = 400;     // s: feature columns each expert sees
};

struct Fig5Options {
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
};

struct Fig5Result {
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
Fig5Result RunFig5Point(const LabeledProducts& data, const Fig5Point& point,
                        const Fig5Options& options);

// Each of `experts` subsets: `s` of the `d` columns without replacement, ascending.
std::vector<std::vector<int>> RandomFeatureSubsets(int experts, int d, int s, Rng& rng);

}  // namespace stagesim::moe
