#pragma once
// Per-group training losses of the FS-LTR learners and their baselines (FS-LTR spec §3), on the
// scores a scorer gives one group of items (one user). Every function returns the group's loss
// and writes ∂loss/∂score into `grad` (same length as `scores`). Entries with mask 0 are padding:
// they add nothing to the loss and get gradient 0, so a padded group behaves exactly like the
// unpadded one (requests with fewer candidates than asked are never fake negatives).
//
//   bpr:        entry 0 is the positive, the others negatives:
//               mean_j softplus(−(s_0 − s_j))
//   softmax:    sampled softmax, entry 0 the positive: −s_0 + log Σ_j exp(s_j)
//   bce:        mean_i [softplus(s_i) − y_i s_i], y_i ∈ {0, 1}
//   ranknet:    (1/|P|) Σ_{(a,b) ∈ P} softplus(−(s_a − s_b)), P = valid pairs with L_a > L_b
//   lambdarank: the same pairs weighted by |ΔNDCG_ab|, the change of NDCG (gains 2^L − 1,
//               discount 1/log2(1 + rank)) when a and b swap places in the ranking by the current
//               scores; the weights are constants of the step (LambdaRank), ties in scores broken
//               by position in the group
//   topk_distillation (RankFlow): −log σ(mean_{i ∈ top} s_i − mean_{i ∉ top} s_i), `top` = the
//               teacher's top-k; 0 when either side is empty
//   mse:        mean_i (s_i − t_i)² (RankFlow's optional regression on the teacher's scores)
#include <cstdint>
#include <span>

namespace stagesim::ranking {

using Mask = std::span<const std::uint8_t>;

double softplus(double x);
double sigmoid(double x);

double bpr_loss(std::span<const double> scores, Mask mask, std::span<double> grad);
double softmax_loss(std::span<const double> scores, Mask mask, std::span<double> grad);
double bce_loss(std::span<const double> scores, std::span<const double> labels, Mask mask,
                std::span<double> grad);
// `pairs` (optional) receives |P|.
double ranknet_loss(std::span<const double> scores, std::span<const double> labels, Mask mask,
                    std::span<double> grad, std::int64_t* pairs = nullptr);
double lambdarank_loss(std::span<const double> scores, std::span<const double> labels, Mask mask,
                       std::span<double> grad, std::int64_t* pairs = nullptr);
double topk_distillation_loss(std::span<const double> scores, std::span<const std::uint8_t> top,
                              Mask mask, std::span<double> grad);
double mse_loss(std::span<const double> scores, std::span<const double> targets, Mask mask,
                std::span<double> grad);

}  // namespace stagesim::ranking
