// Score functions of the early-stage policy gradients (spec §5) with hand-written gradients with
// respect to the logits of every model of the PL mixture.
//
// Conventions: s_m are one context's logits under model m, w_m = exp(s_m − max_m), A_m the
// logsumexp. The loss of a context is Σ_l c_l ℓ_l (CA-PG, CA-PG-SwR/TOP1) or (Σ_l c_l) ℓ_S (V-PG,
// V-PG-SwR) for caller-given weights c_l; the spec's loss uses c_l = −r_l / (B·L). Every gradient
// row is dense: α_m · w_m plus O(K·L) sparse corrections.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/top_k.hpp"

namespace stagesim::pg {

enum class Estimator {
  kVPg,      // log π(S), exact PL without replacement
  kVPgSwr,   // Σ_k log softmax_{m(k)}(c_k): sampling-with-replacement score
  kCaPg,     // log of the arg-top-K approximate inclusion probability of each LSR pick
  kCaPgSwr,  // M = 1: TOP1-PG, ℓ = s(a) − A; M > 1: see SwrMixtureForm
};
std::optional<Estimator> estimator_from_name(std::string_view name);  // "v-pg", "ca-pg-swr", ...
std::string_view estimator_name(Estimator estimator);

enum class Precision {
  // The exact-PL paths (V-PG, CA-PG) evaluated in float32 with the reference's log1p forms, so a
  // probability that rounds to 1 gives log1p(−1) = −inf and a non-finite gradient ("overflow").
  kFloat32Reference,
  // Double precision, sums over the complement of a set computed directly (never total − part).
  kStableDouble,
};

enum class SwrMixtureForm {
  kReferenceSumOfPowers,  // [quirk] the reference: ℓ = log Σ_m p_m(a)^{n_m}
  kInclusionProbability,  // SwR inclusion probability: ℓ = log(1 − Π_m (1 − p_m(a))^{n_m})
};

// Defaults: the reference's estimator semantics ([quirk]s on) with stable double numerics.
// Reproducing the reference's overflows needs precision = kFloat32Reference (and, for its sampling
// noise, SamplerKind::kGumbelTopKFloat32); the clean mode also sets in_place_substitution = false
// and kInclusionProbability.
struct EstimatorOptions {
  Estimator estimator = Estimator::kCaPg;
  Precision precision = Precision::kStableDouble;  // V-PG and CA-PG only
  // [quirk] CA-PG's Ŝ_{−a}: per block take the top (n_m + 1) and replace a in place by the last
  // one, instead of the top n_m of the items other than a (in order).
  bool in_place_substitution = true;
  SwrMixtureForm swr_mixture_form = SwrMixtureForm::kReferenceSumOfPowers;  // M > 1 only
};

// One context's data for a score function.
struct ScoreInputs {
  std::span<const int> candidates;  // the sampled list S in slot order (V-PG paths)
  std::span<const int> targets;     // the L items picked by the LSR
  std::span<const double> weights;  // c_l of each target
  // Rows that share one softmax (a GRPO group's requests have one user, hence one logits row):
  // `softmax_rows` is how many consecutive calls will see this row's softmax, and
  // `same_softmax` says this call's softmax holds the same logits as the previous call's. CA-PG
  // then sorts its per-model top lists once per softmax instead of selecting Ŝ per target.
  int softmax_rows = 1;
  bool same_softmax = false;
};

struct ScoreResult {
  double loss = 0.0;
  bool finite = true;  // false: some loss or gradient entry is NaN or ±inf
};

// Per-context kernel with reusable scratch (one per thread).
class EstimatorKernel {
 public:
  // Throws std::invalid_argument for CA-PG with n_items < K + 1 (Ŝ_{−a} needs K items besides a).
  EstimatorKernel(const EstimatorOptions& options, std::span<const int> block_sizes, int n_items);

  const EstimatorOptions& options() const { return options_; }

  // Overwrites grad_rows[m][0..n_items) with ∂loss/∂s_m and returns the context's loss. Never
  // throws on numerical trouble: non-finite values are reported through ScoreResult::finite.
  ScoreResult row_gradient(const RowSoftmax& softmax, const ScoreInputs& inputs,
                           std::span<double* const> grad_rows);

  // CA-PG's ℓ for one target, evaluated in stable double: the log of the arg-top-K approximation
  // of P(target ∈ S) (Ŝ_{−a} built per options().in_place_substitution).
  double ca_log_inclusion(const RowSoftmax& softmax, int target);

 private:
  void clear_accumulators();
  void add(int m, int item, double value) { sparse_[m].emplace_back(item, value); }
  double vpg_swr(const RowSoftmax& sm, const ScoreInputs& in);
  double ca_swr(const RowSoftmax& sm, int target, double c);
  double vpg_stable(const RowSoftmax& sm, const ScoreInputs& in);
  double ca_stable(const RowSoftmax& sm, int target, double c);
  // float32 reference: the per-slot PL probabilities of `target` (or, if target < 0, of each
  // slot's own item) given the list `items`, and their backward pass from ∂ℓ/∂p_k.
  void float_slot_forward(const RowSoftmax& sm, const int* items, int target);
  void float_slot_backward(const RowSoftmax& sm, const int* items, int target);
  double vpg_float(const RowSoftmax& sm, const ScoreInputs& in);
  double ca_float(const RowSoftmax& sm, int target, double c);
  int top_length(int m) const;
  void build_top_lists(const RowSoftmax& sm);
  void build_s_hat(int target);
  bool build_s_hat_direct(const RowSoftmax& sm, int target);
  void take_block_picks(int n, int target, bool in_place, int& k);
  double masked_sum(const double* w) const;

  EstimatorOptions options_;
  int n_slots_, n_models_, n_items_;
  std::vector<int> block_sizes_, block_start_, slot_model_;

  std::vector<double> alpha_;                                // dense coefficient of w_m
  std::vector<std::vector<std::pair<int, double>>> sparse_;  // per model (item, value)

  std::vector<int> top_, s_hat_, pick_;
  bool top_valid_ = false;  // top_ holds the lists of the previous call's softmax
  TopSelector top_select_;
  std::vector<std::uint32_t> stamp_;
  std::uint32_t stamp_id_ = 0;
  std::vector<double> masked_;  // build_s_hat_direct: a model's logits, excluded items at −inf
  std::vector<double> mask_;    // 1, or 0 for the items excluded from a complement sum

  std::vector<double> suffix_, d_, p_, logq_, beta_, prefix_;  // per slot (double paths)
  std::vector<float> fp_, fe_, fy_, fb_, fgp_, fh_, ft_;       // per slot (float32 paths)
  std::array<std::vector<float>, 4> fw_;                       // per slot, float32 scratch
  std::vector<unsigned char> new_max_;  // float_slot_forward: item j raised the running maximum
};

// Batch form of the spec's losses: c_{i,l} = −rewards(i, l) / (B·L). grad_logits[m] (B × items)
// is resized and overwritten. targets and rewards are B × L; candidates B × K.
ScoreResult estimator_gradient(const EstimatorOptions& options, std::span<const int> block_sizes,
                               const std::vector<RowMatrixXd>& logits,
                               const RowMatrixXi& candidates, const RowMatrixXi& targets,
                               const RowMatrixXd& rewards, std::vector<RowMatrixXd>& grad_logits);

}  // namespace stagesim::pg
