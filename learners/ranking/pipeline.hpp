#pragma once
// The simulated multi-stage pipeline of FS-LTR (spec §4, paper App. A.4–A.5) on a fully observed
// world: a pre-rank two-tower network and a rank MLP, both trained offline on the world's labelled
// pool entries from user and item features, then static requests
//   draw `candidates` items from the user's pool → top `prerank_keep` by the two-tower score go to
//   rank (the bottom `prerank_negatives` are logged as pre-rank negatives) → top `rank_keep` by the
//   MLP are exposed (the bottom `rank_negatives` of the rank candidates are logged as rank
//   negatives) → exposed items carry their ground-truth label as feedback,
// and the leak-free splits: request 1's exposed positives are the test set and leave the pool,
// request 2 (on the reduced pool) gives the validation positives, which leave it too, and
// `train_requests` further requests on what remains are the training stage log.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "environments/fully_observed.hpp"
#include "learners/ranking/request_log.hpp"
#include "models/mlp.hpp"
#include "models/two_tower.hpp"

namespace stagesim::ranking {

struct PipelineOptions {
  std::vector<int> tower_widths = {64, 32};  // each tower's layers (paper [256, 128])
  std::vector<int> rank_widths = {128, 64};  // rank MLP hidden layers (paper [1024, 512, 256])
  int epochs = 2;
  int batch = 512;  // paper 8192 (on 12.5 M rows)
  double learning_rate = 1e-3;
  std::int64_t examples = 200000;  // pool entries sampled per epoch (0 = every entry once)
  // "" when fine, else what is wrong.
  std::string check() const;
};

struct CascadeOptions {
  int candidates = 1000;        // c_1: retrieved per request (drawn from the user's pool)
  int prerank_keep = 200;       // c_2
  int rank_keep = 50;           // c_3 = exposed
  int prerank_negatives = 200;  // bottom of the pre-rank candidates logged as S = 1
  int rank_negatives = 50;      // bottom of the rank candidates logged as S = 2
  int train_requests = 3;       // training requests per user (after test and validation)
  std::string check() const;
};

class PipelineModels {
 public:
  // Trains both models on the world (BCE on pool labels); `rng` draws initialisations and batches.
  PipelineModels(const FullyObservedWorld& world, const PipelineOptions& options, Rng& rng);

  // Scores of user u for `items` (out has items.size() entries).
  void prerank_scores(int u, std::span<const int> items, std::span<double> out) const;
  void rank_scores(int u, std::span<const int> items, std::span<double> out) const;
  // Mean BCE of the last training epoch.
  double prerank_train_loss() const { return prerank_loss_; }
  double rank_train_loss() const { return rank_loss_; }

 private:
  models::ParameterSet tower_params_, rank_params_;
  std::optional<models::TwoTower> tower_;
  std::optional<models::Mlp> rank_;
  RowMatrixXd user_emb_, item_emb_;      // two-tower outputs for every user / item
  RowMatrixXd user_first_, item_first_;  // the rank MLP's first layer split by input side
  double prerank_loss_ = 0, rank_loss_ = 0;
};

// One static request for user u on `pool` (the items it may draw); appends its rows to `log` and
// returns the exposed positives (ascending).
std::vector<int> simulate_request(const PipelineModels& models, const FullyObservedWorld& world,
                                  int u, std::span<const int> pool,
                                  std::span<const std::uint8_t> labels,
                                  const CascadeOptions& options, Rng& rng, RequestLog* log);

struct LtrSplit {
  RequestLog train;                          // the training requests' stage log
  std::vector<std::vector<int>> test;        // per user: test positives, ascending
  std::vector<std::vector<int>> validation;  // per user: validation positives, ascending
  std::vector<std::vector<int>> known;       // per user: training exposed positives, ascending
  // Per user: the pool without test and validation positives (what training may draw from).
  std::vector<std::int64_t> pool_offsets{0};
  std::vector<int> pool_items;
  double train_click_rate = 0;  // share of positives among the training requests' exposed items

  std::span<const int> pool(int u) const {
    return {pool_items.data() + pool_offsets[u],
            static_cast<std::size_t>(pool_offsets[u + 1] - pool_offsets[u])};
  }
};

// The leak-free splits for every user. User u's draws come from Rng(seed mixed with u), so the
// result does not depend on the order users are processed in.
LtrSplit simulate_splits(const PipelineModels& models, const FullyObservedWorld& world,
                         const CascadeOptions& options, std::uint64_t seed);

}  // namespace stagesim::ranking
