#pragma once
// Top-K ranking metrics on held-out positives (FS-LTR spec §4), accumulated user by user. Code
// bases disagree on what the names mean, so every variant has its own explicit name:
//   hr            share of evaluated users with at least one test positive in the top K
//                 (the FS-LTR paper's HR@K)
//   precision     mean over users of hits/K (RankFlow's "HR@K" is this)
//   recall        mean over users of hits/|T_u| (macro)
//   recall_micro  Σ_u hits / Σ_u |T_u| (pooled over positives: RecFlow's Recall@K)
//   ndcg          mean over users of DCG@K / IDCG@K, binary gains, DCG = Σ_{hit at rank i}
//   1/log2(i+1),
//                 IDCG = Σ_{i ≤ min(K, |T_u|)} 1/log2(i+1)
//   dcg           mean over users of DCG@K without normalisation (RecFlow's "NDCG@K")
// Users without a test positive are not evaluated (counted in skipped_users).
#include <cstdint>
#include <span>
#include <vector>

namespace stagesim::ranking {

struct TopKValues {
  double hr = 0, precision = 0, recall = 0, recall_micro = 0, ndcg = 0, dcg = 0;
};

class TopKAccumulator {
 public:
  explicit TopKAccumulator(std::vector<int> ks);
  const std::vector<int>& ks() const { return ks_; }
  int max_k() const { return max_k_; }
  // ranked: the user's ranking, best first (at least max_k() entries unless the pool is
  // smaller); positives: the user's test items, ascending.
  void add_user(std::span<const int> ranked, std::span<const int> positives);
  std::int64_t users() const { return users_; }
  std::int64_t skipped_users() const { return skipped_; }
  // Per K (ks() order); all 0 when no user was evaluated.
  std::vector<TopKValues> values() const;

 private:
  std::vector<int> ks_;
  int max_k_ = 0;
  std::int64_t users_ = 0, skipped_ = 0, positives_ = 0;
  std::vector<TopKValues> sum_;  // hr, precision, recall, ndcg, dcg sums; recall_micro = hits
};

}  // namespace stagesim::ranking
