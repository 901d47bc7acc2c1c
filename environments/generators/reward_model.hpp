// Dense reward tables (any world: synthetic embeddings, KuaiRec, ...) and their noise models.
#pragma once

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::pg {

// Expected reward q and (for additive noise) its standard deviation σ, users × items.
struct RewardTables {
  RowMatrixXd q;
  RowMatrixXd sigma;  // may be empty unless the noise is additive Gaussian
};

enum class RewardNoise {
  kAdditiveGaussian,        // r ~ N(q, σ(u,a)²)
  kMultiplicativeGaussian,  // r = q (1 + ε), ε ~ N(0, relative_sd²)   (KuaiRec)
  kBernoulli,               // r ~ Bernoulli(q), q clamped to [0, 1]
  kNone,                    // r = q (expected-reward evaluation)
};

struct RewardModel {
  RewardNoise noise = RewardNoise::kAdditiveGaussian;
  double relative_sd = 0.3;  // only for kMultiplicativeGaussian
};

// One reward draw for (user, item); consumes at most one normal or uniform variate of `rng`.
double sample_reward(const RewardModel& model, const RewardTables& tables, int user, int item,
                     Rng& rng);

// Reference values of a reward table: per user mean of the top-L (best), bottom-L (worst) expected
// rewards, and the mean over all items (uniformly random item), averaged over users.
struct RewardTableStats {
  double best = 0.0;
  double random = 0.0;
  double worst = 0.0;
};
RewardTableStats reward_table_stats(const RowMatrixXd& q, int n_picks = 1);

}  // namespace stagesim::pg
