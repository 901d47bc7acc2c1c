// GRPO reward normalisation (spec §6): the batch is groups of rollouts of one user each.
#pragma once

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::pg {

// rewards: B × L with rows grouped consecutively, group_size rows per user (B divisible by it).
// Per group and position: r̃ = (r − mean) / std with the unbiased std (group_size − 1 in the
// denominator). If that std is 0 (all rollouts equal, e.g. zero-reward cells or Bernoulli
// rewards) the rewards carry no relative signal and r̃ = 0. With subtract_group_min (the CA
// variants) each group's r̃ is then shifted by its minimum so that r̃ >= 0.
void grpo_normalize(Eigen::Ref<RowMatrixXd> rewards, int group_size, bool subtract_group_min);

}  // namespace stagesim::pg
