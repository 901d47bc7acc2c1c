// The synthetic world of the CA-PG paper (spec early-stage-pg §2) as a pure function of a seed.
#pragma once

#include <cstdint>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "environments/generators/reward_model.hpp"

namespace stagesim::pg {

struct EmbeddingWorldOptions {
  int n_users = 1000;
  int n_items = 1000;
  int dim = 10;
  double reward_scaler = 10.0;
  // [quirk] The reference draws item embeddings with the same seed and shape as the user
  // embeddings, so item i's embedding equals user i's.
  bool items_equal_users = true;
};

struct EmbeddingWorld {
  RowMatrixXd users;          // x_u, unit rows (n_users × dim)
  RowMatrixXd items;          // e_a, unit rows (n_items × dim)
  RowMatrixXd projection;     // M0, unit rows (dim × dim)
  RowMatrixXd noise_weights;  // W_σ (dim × dim), not normalised
  RewardTables tables;  // q = softplus(scaler · x M0 eᵀ) + 1, σ = sigmoid(x W_σ eᵀ + 1)
};

// Draw order, all from one boost::random::mt19937_64 seeded with `seed`:
//   1. user embeddings, row by row, each coordinate U[−1, 1] (boost uniform_real_distribution),
//      then every row normalised to unit length;
//   2. item embeddings the same way — unless items_equal_users, in which case they come from a
//      second engine seeded with the same seed (so item i = user i) and step 2 draws nothing;
//   3. M0, row by row, N(0, 1) (boost normal_distribution), rows then normalised;
//   4. W_σ, row by row, N(0, 1).
EmbeddingWorld make_embedding_world(std::uint64_t seed, const EmbeddingWorldOptions& options = {});

}  // namespace stagesim::pg
