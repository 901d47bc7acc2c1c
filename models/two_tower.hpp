// Two-tower scorer: a user tower and an item tower map their inputs to d-dimensional embeddings
// and the score is their inner product divided by a temperature, s(u, a) = ⟨u/τ, v_a⟩ (dot) or
// the same over L2-normalised embeddings (cosine). A tower is an embedding table over ids (matrix
// factorisation, the PL ranker's towers) or an MLP over feature rows (the MoE experts' linear user
// towers, pre-rankers). Scores come for every user row against every item row (score_matrix, one
// GEMM) or for paired rows (pair_scores, training on logged (user, item) examples).
//
// Rounding is part of the contract (learners' results must not change when this file does): the
// temperature scales the user embedding before the product (ũ = u/τ, S = ŨVᵀ); the backward pass
// forms ∂S/∂V = Ũ and ∂L/∂u = (1/τ)·(∂L/∂S)·V.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "models/embedding.hpp"
#include "models/mlp.hpp"

namespace stagesim::models {

enum class TowerKind { kEmbedding, kMlp };

struct TowerSpec {
  TowerKind kind = TowerKind::kEmbedding;
  int ids = 0;  // embedding towers: table rows
  int dim = 0;  // embedding towers: embedding width
  MlpSpec mlp;  // MLP towers (the embedding width is the last layer's)
  bool l2_normalize = false;
  double init_sd = -1.0;  // embedding towers: N(0, init_sd²); < 0 = 1/√dim
};

// What a tower reads for a batch: ids (embedding towers), feature rows (MLP towers), or, for an
// embedding tower, every row of its table in id order (all_rows; no copy is made when possible).
struct TowerInput {
  std::span<const int> ids;
  const RowMatrixXd* features = nullptr;
  bool all_rows = false;

  static TowerInput of_ids(std::span<const int> ids) { return {ids, nullptr, false}; }
  static TowerInput of_features(const RowMatrixXd& f) { return {{}, &f, false}; }
  static TowerInput all() { return {{}, nullptr, true}; }
};

class Tower {
 public:
  struct Cache {
    Mlp::Cache mlp;
    RowMatrixXd raw, unit, out, d_raw;
    Eigen::VectorXd norms;
  };

  Tower(ParameterSet& params, const std::string& name, const TowerSpec& spec, bool normalize);

  const TowerSpec& spec() const { return spec_; }
  TowerKind kind() const { return spec_.kind; }
  bool normalizes() const { return normalize_; }
  int dim() const;
  const std::optional<Embedding>& embedding() const { return embedding_; }
  const std::optional<Mlp>& mlp() const { return mlp_; }

  void init(ParameterSet& params, Rng& rng) const;

  // scale · n(t(input)) with t the tower and n the L2 normalisation (when on): B × dim. Returns
  // a reference into cache or, for all_rows of an unnormalised table with scale 1, the table.
  const RowMatrixXd& forward(const ParameterSet& params, const TowerInput& input, Cache& cache,
                             double scale = 1.0) const;

  // d = ∂L/∂(n(t(input))), i.e. the gradient of the unscaled output (the caller folds the scale
  // in), for the input and cache of the last forward. Writes (or adds) the tower's gradients.
  void backward(const ParameterSet& params, const TowerInput& input, Cache& cache,
                const RowMatrixXd& d, ParameterSet& grads, bool accumulate = false) const;

 private:
  void check_input(const TowerInput& input) const;

  TowerSpec spec_;
  bool normalize_;
  std::optional<Embedding> embedding_;
  std::optional<Mlp> mlp_;
};

enum class TwoTowerScore { kDot, kCosine };

struct TwoTowerSpec {
  TowerSpec user, item;
  TwoTowerScore score = TwoTowerScore::kDot;  // cosine normalises both towers' outputs
  double temperature = 1.0;
};

class TwoTower {
 public:
  struct Cache {
    Tower::Cache user, item;
    const RowMatrixXd* u = nullptr;  // ũ = u/τ and v of the last forward
    const RowMatrixXd* v = nullptr;
    RowMatrixXd d_user, d_item;
  };

  // Registers `name.user...` then `name.item...`; invalid_argument unless the towers' widths agree
  // and the temperature is positive.
  TwoTower(ParameterSet& params, const std::string& name, const TwoTowerSpec& spec);

  const TwoTowerSpec& spec() const { return spec_; }
  double temperature() const { return spec_.temperature; }
  int dim() const { return user_.dim(); }
  const Tower& user_tower() const { return user_; }
  const Tower& item_tower() const { return item_; }

  // Default initialisation, user tower then item tower.
  void init(ParameterSet& params, Rng& rng) const;

  // Both towers' outputs for a batch: cache.u = ũ = u/τ, cache.v = v. What the backward passes
  // need; score_matrix and pair_scores call it (call it directly to backpropagate without scores).
  void embed(const ParameterSet& params, const TowerInput& users, const TowerInput& items,
             Cache& cache) const;

  // scores(i, j) = ⟨ũ_i, v_j⟩ for every user row i and item row j (B_u × B_i).
  void score_matrix(const ParameterSet& params, const TowerInput& users, const TowerInput& items,
                    Cache& cache, RowMatrixXd& scores) const;
  // Backward for d_scores = ∂L/∂scores, after embed (or score_matrix) on the same inputs.
  void score_matrix_backward(const ParameterSet& params, const TowerInput& users,
                             const TowerInput& items, Cache& cache, const RowMatrixXd& d_scores,
                             ParameterSet& grads, bool accumulate = false) const;

  // scores(b) = ⟨ũ_b, v_b⟩ for paired rows (same batch size on both sides; scores is sized
  // already, e.g. a column of a batch × experts matrix).
  using VectorRef = Eigen::Ref<Eigen::VectorXd, 0, Eigen::InnerStride<>>;
  using ConstVectorRef = Eigen::Ref<const Eigen::VectorXd, 0, Eigen::InnerStride<>>;
  void pair_scores(const ParameterSet& params, const TowerInput& users, const TowerInput& items,
                   Cache& cache, VectorRef scores) const;
  void pair_scores_backward(const ParameterSet& params, const TowerInput& users,
                            const TowerInput& items, Cache& cache, const ConstVectorRef& d_scores,
                            ParameterSet& grads, bool accumulate = false) const;

 private:
  TwoTowerSpec spec_;
  Tower user_, item_;
};

// Rows scaled to unit L2 norm (a zero row stays zero), norms returned in `norms`.
void l2_normalize_rows(const RowMatrixXd& x, RowMatrixXd& unit, Eigen::VectorXd& norms);
// Backward of l2_normalize_rows: ∂L/∂x = (g − y (y·g)) / ‖x‖ row by row (0 for a zero row).
void l2_normalize_rows_backward(const RowMatrixXd& unit, const Eigen::VectorXd& norms,
                                const RowMatrixXd& g, RowMatrixXd& dx);

}  // namespace stagesim::models
