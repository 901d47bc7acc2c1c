// Early-stage ranker: Plackett–Luce over a mixture of M two-tower models (spec §3).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/top_k.hpp"
#include "models/two_tower.hpp"

namespace stagesim::pg {

// n_m of each model: the K slots split into M consecutive blocks, the first K mod M get one more.
std::vector<int> slot_block_sizes(int n_slots, int n_models);
// m(k) of each slot, from the block sizes.
std::vector<int> slot_models(std::span<const int> block_sizes);

// Model m is a models::TwoTower with embedding-table towers: s_m(u, a) = <U_m[u] / τ, V_m[a]>.
class PLMixture {
 public:
  // Tables drawn N(0, 1) from `init_rng` in the order U_0, V_0, U_1, V_1, ..., each row by row.
  PLMixture(int n_models, int n_users, int n_items, int dim, Rng& init_rng,
            double temperature = 1.0);

  int n_models() const { return static_cast<int>(models_.size()); }
  int n_users() const { return static_cast<int>(params_[0].rows()); }
  int n_items() const { return static_cast<int>(params_[1].rows()); }
  int dim() const { return static_cast<int>(params_[0].cols()); }
  double temperature() const { return models_.front().temperature(); }

  const RowMatrixXd& user_table(int m) const { return params_[2 * m]; }
  const RowMatrixXd& item_table(int m) const { return params_[2 * m + 1]; }
  RowMatrixXd& user_table(int m) { return params_[2 * m]; }
  RowMatrixXd& item_table(int m) { return params_[2 * m + 1]; }

  // Parameters in the order U_0, V_0, U_1, V_1, ... (the layout of backprop's gradients).
  models::ParameterSet& parameters() { return params_; }
  const models::ParameterSet& parameters() const { return params_; }

  // out[m] (B × items) = U_m[users] V_mᵀ / τ: one GEMM per model.
  void batch_logits(std::span<const int> users, std::vector<RowMatrixXd>& out) const;

  // Chain rule from ∂L/∂s_m (B × items) to the tables: grads gets the layout of parameters() and
  // is overwritten, or added to with accumulate (so a batch can go through in blocks). dU rows of
  // repeated users accumulate.
  void backprop(std::span<const int> users, const std::vector<RowMatrixXd>& grad_logits,
                models::ParameterSet& grads, bool accumulate = false) const;

 private:
  models::ParameterSet params_;
  std::vector<models::TwoTower> models_;
};

enum class SamplerKind {
  // Sequential PL (each slot draws from the softmax over items not yet taken) through a sum tree
  // over exp(s − max): O(items + K log items) per block and one uniform per slot.
  kSequential,
  // The reference algorithm: per block, Gumbel(0, 1) noise on every item, top-n_m of the perturbed
  // logits over items not yet taken. Same distribution; one uniform and two logs per item and
  // block, so several times slower.
  kGumbelTopK,
  // [quirk] kGumbelTopK as the float32 reference computes it: U a 24-bit float uniform scaled
  // into [FLT_MIN, 1 − FLT_EPSILON], G = −log(−log U) and s + G in float, so
  // the noise is confined to about [−4.5, 15.9]. Items more than ~20 nats below the best can never
  // be drawn, which keeps the float32 V-PG score from meeting near-zero probabilities as often as
  // exact PL does. The uniforms of a block are counter-based (learners/pg/counter_rng.hpp: a keyed
  // hash of the item index, the key one 64-bit draw of the stream per block) and the logs are
  // learners/pg/fast_log.hpp's vectorised log_float, so a row costs ~2 vector passes per block.
  kGumbelTopKFloat32,
};

// Candidate lists for one context; holds scratch buffers, so keep one per thread.
class CandidateSampler {
 public:
  explicit CandidateSampler(int n_items);

  // Samples K = Σ n_m candidates into out, block by block (block m uses model m's logits over the
  // items not taken by earlier slots).
  void sample(SamplerKind kind, const RowSoftmax& softmax, std::span<const int> block_sizes,
              Rng& rng, std::span<int> out);

  // Greedy ESR (zero noise): block m takes the top n_m of s_m over the items not yet taken.
  void greedy(const std::vector<RowMatrixXd>& logits, Eigen::Index row,
              std::span<const int> block_sizes, std::span<int> out);

 private:
  void sample_sequential(const RowSoftmax& softmax, std::span<const int> block_sizes, Rng& rng,
                         std::span<int> out);
  void sample_gumbel(const RowSoftmax& softmax, std::span<const int> block_sizes, Rng& rng,
                     std::span<int> out, bool float32);
  void fill_tree(const double* w, std::span<const int> taken);
  void remove_leaf(int leaf);
  int draw_leaf(double u) const;
  std::uint32_t next_stamp();

  int n_items_;
  int n_leaves_;              // power of two >= n_items
  std::vector<double> tree_;  // sum tree: node i = tree_[2i] + tree_[2i+1], leaves at n_leaves_
  std::vector<double> key_;   // perturbed logits (Gumbel), rescaled weights (sequential)
  std::vector<float> fkey_;   // float32 Gumbel noise
  std::vector<int> order_;
  TopSelector top_;
  std::vector<std::uint32_t> taken_;  // greedy: taken_[b] == stamp_ ⇔ b already in the list
  std::uint32_t stamp_ = 0;
};

}  // namespace stagesim::pg
