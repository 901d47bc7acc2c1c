// Adaptive learning rate of the CA variants (paper Eq. 9, spec §6): lr = lr_base / p̄.
#pragma once

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "learners/pg/lsr.hpp"
#include "learners/pg/pl_mixture.hpp"

namespace stagesim::pg {

// Monte-Carlo p̄: mean over n_samples draws — user uniform, candidate list from the ESR's
// (stochastic) sampling distribution — of the exact probability that the LSR's first pick is its
// most likely candidate (LateStageRanker::top_choice_probability). Call it with the initial ESR.
// Draw order: per chunk of 256 samples, the users, then each candidate list.
double estimate_top_choice_probability(const PLMixture& policy, const RowMatrixXd& lsr_scores,
                                       const LsrOptions& lsr, int n_candidates, int n_samples,
                                       Rng& rng, SamplerKind sampler = SamplerKind::kSequential);

// lr_base / p̄; with round_to_one_digit the result is rounded to one significant digit as the
// paper reports it (noisy 1.7e-2 → 2e-2).
double adaptive_learning_rate(double base_learning_rate, double p_bar,
                              bool round_to_one_digit = false);

}  // namespace stagesim::pg
