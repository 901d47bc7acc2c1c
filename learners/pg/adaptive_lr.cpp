#include "learners/pg/adaptive_lr.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace stagesim::pg {

double estimate_top_choice_probability(const PLMixture& policy, const RowMatrixXd& lsr_scores,
                                       const LsrOptions& lsr, int n_candidates, int n_samples,
                                       Rng& rng, SamplerKind sampler_kind) {
  if (n_samples <= 0) throw std::invalid_argument("estimate_top_choice_probability: n_samples");
  constexpr int kChunk = 256;  // users per logits GEMM
  const std::vector<int> blocks = slot_block_sizes(n_candidates, policy.n_models());
  CandidateSampler sampler(policy.n_items());
  LateStageRanker ranker(lsr);
  RowSoftmax softmax;
  boost::random::uniform_int_distribution<int> user_dist(0, policy.n_users() - 1);
  std::vector<int> users, candidates(static_cast<std::size_t>(n_candidates));
  std::vector<RowMatrixXd> logits;
  double total = 0.0;
  for (int start = 0; start < n_samples; start += kChunk) {
    const int n = std::min(kChunk, n_samples - start);
    users.resize(static_cast<std::size_t>(n));
    for (int& u : users) u = user_dist(rng);  // the chunk's users, then its candidate lists
    policy.batch_logits(users, logits);
    for (int i = 0; i < n; ++i) {
      softmax.compute(logits, i);
      sampler.sample(sampler_kind, softmax, blocks, rng, candidates);
      total += ranker.top_choice_probability(candidates, lsr_scores.row(users[i]).data());
    }
  }
  return total / n_samples;
}

double adaptive_learning_rate(double base_learning_rate, double p_bar, bool round_to_one_digit) {
  if (!(p_bar > 0.0)) throw std::invalid_argument("adaptive_learning_rate: p_bar must be > 0");
  const double lr = base_learning_rate / p_bar;
  if (!round_to_one_digit) return lr;
  const double scale = std::pow(10.0, std::floor(std::log10(lr)));
  return std::round(lr / scale) * scale;
}

}  // namespace stagesim::pg
