#pragma once
// A fully observed users × items world for full-stage learning to rank (FS-LTR spec §4): user and
// item feature rows, and per user a pre-rank pool (items the user "has", KuaiRec: in the big or the
// small matrix) with a ground-truth 0/1 label for every pool entry. The retrieval pool is every
// item; an item outside a user's pool counts as a negative. Two sources:
//  - synthetic (CI, quickstart): latent-factor users and items, features = noisy views of the
//    latents, pools drawn with a popularity skew, labels a threshold of affinity + popularity +
//    noise calibrated to a label rate;
//  - KuaiRec v2 (big_matrix + small_matrix + user_features + item_categories), label rule
//    play_duration ≥ video_duration if video_duration ≤ 7000 ms, else play_duration > 7000 ms.
// Data only: no engine dependency (the FS-LTR job and the learners read it).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim {

struct FullyObservedWorld {
  int users = 0, items = 0;
  RowMatrixXd user_features;  // users × user feature dim
  RowMatrixXd item_features;  // items × item feature dim
  // Pre-rank pool of user u: pool_items[pool_offsets[u] .. pool_offsets[u + 1]), ascending item
  // ids, with the ground-truth label of each entry in pool_labels.
  std::vector<std::int64_t> pool_offsets{0};
  std::vector<int> pool_items;
  std::vector<std::uint8_t> pool_labels;
  std::string summary;  // one line: sizes, pool sizes, label rate
  // Original ids by index (KuaiRec user_id / video_id; empty for the synthetic world).
  std::vector<std::int64_t> user_ids, item_ids;

  std::span<const int> pool(int u) const {
    return {pool_items.data() + pool_offsets[u],
            static_cast<std::size_t>(pool_offsets[u + 1] - pool_offsets[u])};
  }
  std::span<const std::uint8_t> labels(int u) const {
    return {pool_labels.data() + pool_offsets[u],
            static_cast<std::size_t>(pool_offsets[u + 1] - pool_offsets[u])};
  }
  // The label of (u, v): the pool entry's, 0 outside the pool.
  int label(int u, int v) const;
  // Share of positive pool entries.
  double label_rate() const;
};

// Defaults: KuaiRec's retrieval and pre-rank pool sizes (10,728 items, ≈ 3,500 per user) and test
// split (≈ 32 test positives per user) with fewer users (docs/full-stage-ltr.md, "The synthetic
// world": which KuaiRec statistics are matched and how). The tests and the quickstart pin their
// own, easier or smaller worlds.
struct SyntheticFullyObservedOptions {
  int users = 1000;   // KuaiRec: 7,176 (cost: the learners' work grows with users)
  int items = 10728;  // KuaiRec's big matrix
  int latent_dim = 32;
  int noise_features = 8;        // extra pure-noise feature columns per side
  double feature_noise = 2.0;    // std of the noise added to the (unit-variance) latents
  double pool_share = 0.326;     // mean pre-rank pool size / items (KuaiRec ≈ 3,500 / 10,728)
  double activity_spread = 0.3;  // log-normal σ of users' pool sizes around the mean
  // Item weight ∝ (rank + 10)^−exponent in the pools: 0 = every item equally likely in a pool.
  // At 0.5 (the most popular item in 98 % of pools) pool membership alone gave every retrieval
  // learner a 3x lift and HR@50 saturated (88–99 %, KuaiRec's learners 36–41 %).
  double popularity_exponent = 0.0;
  double popularity_effect = 0.01;  // share of label-score variance from item popularity
  double noise_share = 0.98;        // share of label-score variance that is pure noise
  double label_rate = 0.62;         // share of positive pool entries
};

// "" when fine, else what is wrong (names the option).
std::string check_synthetic_fully_observed(const SyntheticFullyObservedOptions& o);

FullyObservedWorld make_synthetic_fully_observed(const SyntheticFullyObservedOptions& o, Rng& rng);

// KuaiRec v2 under `root` (see data::LocateKuaiRecDir): users and items of big_matrix (small's are
// a subset), pool = pairs in big ∪ small, label by the rule above (a pair with several rows is
// positive when any row is). User features: the numeric columns of user_features.csv (missing =
// 0, log1p of the counts) plus a one-hot user_active_degree; item features: multi-hot of the 31
// tags of item_categories.csv. data::DataError on unreadable or malformed files.
FullyObservedWorld load_kuairec_fully_observed(const std::filesystem::path& root);

}  // namespace stagesim
