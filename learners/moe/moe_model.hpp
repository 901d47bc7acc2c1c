// Gaussian mixture of two-tower experts with softmax gating (spec §7, paper Section 4 / Eq. 8).
//   expert n:  r̂_n(u,a) = <W_n z_u[S_n], e_{n,a}>,  W_n ∈ R^{d_e×s}, e_{n,a} ∈ R^{d_e}
//   gating:    log p_n(u,a) = g_n(u) + h_{a,n} − logsumexp_m(g_m(u) + h_{a,m}),  g(u) = G z_u
//   objective: mean over examples of logsumexp_n[log p_n − (r − r̂_n)² / (2σ²)]   (maximised)
// Expert n is a models::TwoTower: a linear user tower (one bias-free identity Dense layer over the
// feature subset S_n) and an embedding item tower, dot-product score. The gating is a bias-free
// Dense layer G and an item table h (an Embedding). The "random pools" baseline is the same model
// with the gating replaced by a fixed disjoint allocation: p_n(u,a) = 1{a ∈ pool n}, so its
// objective is −(r − r̂_{pool(a)})² / (2σ²) and G, h are not trained. The gradients are
// hand-written (tests check them with models::check_gradient): with responsibilities
// γ = softmax_n(q), q_n = log p_n − (r − r̂_n)²/(2σ²),
//   ∂/∂r̂_n = γ_n (r − r̂_n)/σ²,   ∂/∂(g_n + h_{a,n}) = γ_n − p_n.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "models/dense.hpp"
#include "models/embedding.hpp"
#include "models/parameters.hpp"
#include "models/two_tower.hpp"

namespace stagesim::moe {

struct MoeConfig {
  int features = 0;                       // d: columns of z_u (the gating sees all of them)
  int items = 0;                          // K
  int item_dim = 10;                      // d_e
  std::vector<std::vector<int>> subsets;  // S_n per expert; its size is the number of experts N
  double sigma = 0.3;
  // Empty: learned gating. Otherwise item → expert (size K): the fixed random-pool baseline.
  std::vector<int> fixed_pool_of_item;
  int threads = 1;  // OpenMP threads over experts; results do not depend on it
};

class MoeModel {
 public:
  // Checks the configuration (invalid_argument) and draws the initial parameters:
  // W ~ N(0, 1/s) so W z[S] has unit-variance entries, e ~ N(0, 0.1²/d_e) so initial predictions
  // are small, G = 0 and h ~ N(0, 0.1²) (the experts' different subsets and W break the symmetry).
  // Draw order: every W_n, then every e_n, then h.
  MoeModel(MoeConfig config, Rng& rng);

  const MoeConfig& config() const { return config_; }
  int experts() const { return static_cast<int>(config_.subsets.size()); }
  bool learned_gating() const { return config_.fixed_pool_of_item.empty(); }

  // Every tensor: W_0, e_0, W_1, e_1, ..., then G and h. A gradient has the same layout.
  models::ParameterSet& params() { return params_; }
  const models::ParameterSet& params() const { return params_; }
  // How many leading tensors of params() are trained: the experts', plus G and h with learned
  // gating.
  std::size_t trained_tensors() const { return learned_gating() ? params_.size() : 2 * experts(); }
  std::size_t w_index(int n) const;  // W_n: d_e × |S_n|
  std::size_t e_index(int n) const;  // e_n: items × d_e (row a = e_{n,a})
  std::size_t g_index() const { return gate_->weight_index(); }  // G: experts × d
  std::size_t h_index() const { return item_gate_->index(); }    // h: items × experts
  const models::TwoTower& expert(int n) const { return experts_[n]; }

  // Objective (mean over the B rows of z) and, when grad != nullptr, its gradient w.r.t. every
  // parameter (G and h are left zero for fixed pools). grad must have params().zeros_like() layout.
  double objective(const RowMatrixXd& z, std::span<const int> items,
                   std::span<const double> rewards, models::ParameterSet* grad = nullptr) const;

  // Ranking scores Σ_n p_n(u,a) r̂_n(u,a) for every user row of z and every item: B × K.
  RowMatrixXd scores(const RowMatrixXd& z) const;

  // Gating weights summed over the user rows of z: K × N (divide by B for the average).
  // For fixed pools this is B at (a, pool(a)) and 0 elsewhere.
  RowMatrixXd gate_sums(const RowMatrixXd& z) const;

  // Σ over the user rows of z of |p_n(u,a) r̂_n(u,a)|: K × N, how much of item a's score each
  // expert produces. A sturdier basis for distillation than gate_sums: with binary rewards the
  // gating can learn to send negatives to experts that predict ≈ 0 for the item, which spreads
  // the average gate while the item's ranking still comes from one expert (docs/moe.md).
  RowMatrixXd contribution_sums(const RowMatrixXd& z) const;

  // Expert predictions r̂_n for every user row and every item: N matrices of B × K.
  std::vector<RowMatrixXd> expert_predictions(const RowMatrixXd& z) const;

 private:
  // objective() for the random-pool baseline.
  double fixed_pool_objective(const RowMatrixXd& z, std::span<const int> items,
                              std::span<const double> rewards, models::ParameterSet* grad) const;
  // g(u) + h_a for one user row: K × N logits.
  RowMatrixXd gate_logits(const Eigen::Ref<const Eigen::RowVectorXd>& g) const;

  MoeConfig config_;
  models::ParameterSet params_;
  std::vector<models::TwoTower> experts_;
  std::optional<models::Dense> gate_;
  std::optional<models::Embedding> item_gate_;
};

// Gathers the columns `cols` of z: the expert's input z[S_n] for a batch.
RowMatrixXd select_columns(const RowMatrixXd& z, std::span<const int> cols);

}  // namespace stagesim::moe
