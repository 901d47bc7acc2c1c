// A reusable policy-gradient step for the early-stage ranker and its evaluator (spec §5–§7).
#pragma once

#include <optional>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "environments/generators/reward_model.hpp"
#include "learners/pg/estimators.hpp"
#include "learners/pg/lsr.hpp"
#include "learners/pg/pl_mixture.hpp"
#include "learners/pg/row_softmax.hpp"
#include "models/optimizers.hpp"
#include "models/parameters.hpp"

namespace stagesim::pg {

struct TrainerOptions {
  int n_candidates = 10;  // K
  int n_picks = 1;        // L
  int batch_size = 128;   // B rows per step (with GRPO: groups × group size)
  double learning_rate = 1e-2;
  EstimatorOptions estimator;
  LsrOptions lsr;
  RewardModel reward;
  SamplerKind sampler = SamplerKind::kSequential;
  // GRPO: 0 = off; otherwise B / grpo_group_size users, each with grpo_group_size rollouts.
  int grpo_group_size = 0;
  // Shift GRPO rewards to r̃ >= 0; unset = on for the CA variants, off for V-PG(-SwR).
  std::optional<bool> grpo_subtract_group_min;
};

// Independent streams, one per purpose: systems differing only in their estimator see the same
// users at every step (common random numbers), whatever their policies do.
struct StepRngs {
  Rng& batch;   // users
  Rng& esr;     // candidate sampling noise
  Rng& lsr;     // noisy / uniform LSR
  Rng& reward;  // reward noise
};

struct StepResult {
  double loss = 0.0;
  bool overflow = false;  // non-finite gradient: the update was skipped, parameters unchanged
};

class Trainer {
 public:
  // The policy is updated in place; it, tables and lsr_scores (default: tables.q, i.e. an LSR
  // that ranks by expected reward) must outlive the trainer. Throws std::invalid_argument on
  // inconsistent sizes.
  Trainer(PLMixture& policy, const RewardTables& tables, const TrainerOptions& options,
          const RowMatrixXd* lsr_scores = nullptr);

  // Users uniform with replacement; per row, in order: candidate list, LSR picks, rewards; then
  // the gradient and, unless it is non-finite, one Adagrad step.
  StepResult step(const StepRngs& rngs);

  const TrainerOptions& options() const { return options_; }
  // The last step's batch (B rows) and gradients (non-finite after an overflow), for diagnostics.
  const std::vector<int>& users() const { return users_; }
  const RowMatrixXi& candidates() const { return candidates_; }
  const RowMatrixXi& picks() const { return picks_; }
  const RowMatrixXd& rewards() const { return rewards_; }
  const models::ParameterSet& gradients() const { return grads_; }  // [dU_0, dV_0, ...]

 private:
  static constexpr int kRowBlock = 32;
  // Row i of the batch is row `local` of the current block's logits.
  void sample_row(Eigen::Index local, Eigen::Index i, const StepRngs& rngs);
  ScoreResult gradient_row(Eigen::Index local, Eigen::Index i, const double* rewards);

  PLMixture& policy_;
  const RewardTables& tables_;
  const RowMatrixXd& lsr_scores_;
  TrainerOptions options_;
  std::vector<int> block_sizes_;
  CandidateSampler sampler_;
  LateStageRanker ranker_;
  EstimatorKernel kernel_;
  bool softmax_recomputed_ = true;  // softmax_ changed since the last row_gradient call
  models::Adagrad adagrad_;
  bool subtract_group_min_;

  std::vector<int> users_;
  std::vector<RowMatrixXd> logits_;  // block × items per model; a row becomes ∂loss/∂s once used
  RowSoftmax softmax_;
  RowMatrixXi candidates_, picks_;
  RowMatrixXd rewards_, advantages_;
  std::vector<double> weights_;
  std::vector<double*> grad_rows_;
  models::ParameterSet grads_;
};

struct EvaluationOptions {
  int n_candidates = 10;
  int n_picks = 1;
  LsrOptions lsr;      // used in evaluation mode: noisy → optimal, uniform stays random
  RewardModel reward;  // RewardNoise::kNone evaluates expected rewards
  int n_users = 10000;
};

struct PolicyValue {
  double mean_over_positions = 0.0;  // mean over users of (1/L) Σ_l r_l
  double sum_over_positions = 0.0;   // mean over users of Σ_l r_l (the paper's L = 5 table)
  double standard_error = 0.0;       // of mean_over_positions
};

// Policy value of the greedy ESR with the LSR in evaluation mode. Draw order from eval_rng: per
// chunk of 256 users, the users, then per user the LSR draws (uniform only) and the L rewards.
PolicyValue evaluate_policy(const PLMixture& policy, const RewardTables& tables,
                            const EvaluationOptions& options, Rng& eval_rng,
                            const RowMatrixXd* lsr_scores = nullptr);

}  // namespace stagesim::pg
