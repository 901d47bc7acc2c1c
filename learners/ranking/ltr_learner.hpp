#pragma once
// Training and evaluating one learner of a cascade stage from its stage log (FS-LTR spec §2–§4):
// the baselines BPR, SSM (5 sampled global negatives), BCE (pointwise on exposed samples),
// RankFlow (self-learning on what its upstream passes + top-k distillation from the next stage)
// and FS-LTR's FS-RN (RankNet) and FS-LR (LambdaRank) on relabelled stage samples, all on the
// MF scorer with Adam. Training examples are groups: one per exposed positive of a training
// request (per exposed sample for BCE), re-sampled every epoch:
//   BPR / SSM    [positive, `sampled_negatives` items drawn uniformly from the stage's pool]
//   FS-RN / FS-LR [positive, `exposed_negatives` exposed negatives, x rank negatives, y pre-rank
//                 negatives of the same request, z random pool samples] — "x,y,z"; a stage with
//                 too few logged rows leaves masked padding
//   RankFlow     [positive, `sampled_negatives` negatives from what the stage receives] (BPR) +
//                 [`distill_samples` items the next stage passed, as many it dropped] (top-k)
// The stage's pool: retrieval = every item, pre-rank = the user's pre-rank pool (for training:
// without the test and validation positives). Evaluation ranks that pool (the full pool) for every
// user with a test positive, excluding the user's training exposed positives and (for the test)
// validation positives; early stopping on the validation NDCG at the largest K.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "environments/fully_observed.hpp"
#include "learners/ranking/losses.hpp"
#include "learners/ranking/mf_scorer.hpp"
#include "learners/ranking/pipeline.hpp"
#include "learners/ranking/stage_labels.hpp"
#include "learners/ranking/topk_metrics.hpp"
#include "models/optimizers.hpp"

namespace stagesim::ranking {

enum class LtrMethod { kBpr, kSsm, kBce, kRankFlow, kFsRankNet, kFsLambdaRank };
enum class LtrStage { kRetrieval, kPrerank };

struct LtrOptions {
  LtrMethod method = LtrMethod::kFsLambdaRank;
  LtrStage stage = LtrStage::kRetrieval;
  int dim = 64;
  double temperature = 0.1;
  double init_sd = 0.1;
  double learning_rate = 1e-3;
  // Lazy Adam (models::Adam::step_rows): each step updates only the embedding rows of its batch,
  // as torch.optim.SparseAdam; false = dense Adam over both tables every step (torch.optim.Adam
  // on dense embedding gradients), whose cost grows with users + items rather than the batch.
  bool lazy_adam = false;
  int batch = 128;
  int epochs = 10;
  int patience = 3;
  // Early stopping only after this many epochs: the validation metric of a freshly initialised
  // cosine MF can sit on a plateau for a few epochs before it rises.
  int min_epochs = 10;
  int sampled_negatives = 5;  // BPR, SSM, RankFlow's self-learning
  int rank_negatives = 1;     // x
  int prerank_negatives = 1;  // y
  int global_negatives = 2;   // z
  int exposed_negatives = 1;
  LabelScheme labels;
  int distill_samples = 4;  // RankFlow: per side
  double distill_weight = 1.0;
  // RankFlow's student loss α·TopK + (1 − α)·MSE(student, teacher scores); α = 1 (FS-LTR's
  // baseline, no MSE) by default. α < 1 needs the pipeline models as teachers.
  double rankflow_alpha = 1.0;
  std::vector<int> ks = {20, 50};
  std::string check() const;
};

struct LtrResult {
  std::vector<TopKValues> test, validation;  // per K; validation of the selected epoch
  std::int64_t test_users = 0, skipped_users = 0;
  int epochs_run = 0, best_epoch = 0;
  std::int64_t groups_per_epoch = 0;
  std::int64_t pairs_per_epoch = 0;  // scored (positive, negative) pairs, the throughput unit
  double final_train_loss = 0;
};

// on_epoch (optional) is called after every epoch (progress). teacher: the pipeline whose next
// stage teaches RankFlow's MSE term (needed only when rankflow_alpha < 1).
LtrResult train_and_evaluate(const FullyObservedWorld& world, const LtrSplit& split,
                             const LtrOptions& options, Rng& rng,
                             const std::function<void()>& on_epoch = {},
                             const PipelineModels* teacher = nullptr);

// The groups of one epoch, flattened: group g has users[g] and entries [g·size, (g+1)·size).
struct LtrGroups {
  int size = 0;
  int self = 0;  // entries of the first segment (RankFlow: the self-learning part)
  std::vector<int> users, items;
  std::vector<double> labels;
  std::vector<std::uint8_t> mask, top;
  std::vector<double> teacher;  // RankFlow with α < 1: the next stage's score per entry
  std::int64_t pairs = 0;
  std::size_t count() const { return users.size(); }
};
LtrGroups make_groups(const FullyObservedWorld& world, const LtrSplit& split,
                      const LtrOptions& options, Rng& rng, const PipelineModels* teacher = nullptr);

// The group's loss and ∂loss/∂scores (same layout as one group of LtrGroups); teacher may be
// empty unless RankFlow's α < 1.
double group_loss(const LtrOptions& options, int self, std::span<const double> scores,
                  std::span<const double> labels, Mask mask, std::span<const std::uint8_t> top,
                  std::span<double> grad, std::span<const double> teacher = {});

// One epoch of Adam steps over the groups in a random order; returns the mean group loss.
double train_epoch(MfScorer& mf, models::Adam& optimizer, const LtrGroups& groups,
                   const LtrOptions& options, Rng& rng);

// Ranks each user's stage pool (every item for retrieval, the user's pre-rank pool for pre-rank)
// by the scorer and scores it against `positives` (users without any are skipped), excluding the
// user's training exposed positives and, when exclude_validation, the validation positives.
TopKAccumulator evaluate_ranking(MfScorer& mf, const FullyObservedWorld& world,
                                 const LtrSplit& split, const LtrOptions& options,
                                 const std::vector<std::vector<int>>& positives,
                                 bool exclude_validation);

}  // namespace stagesim::ranking
