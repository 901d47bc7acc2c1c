#include "learners/pg/lsr.hpp"

#include <algorithm>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>

#include "learners/pg/top_k.hpp"

namespace stagesim::pg {

void LateStageRanker::pick(std::span<const int> candidates, const double* f_row, bool training,
                           Rng& rng, std::span<int> out) {
  const int n_candidates = static_cast<int>(candidates.size());
  const int n_picks = static_cast<int>(out.size());
  if (options_.kind == LsrKind::kUniform) {
    boost::random::uniform_int_distribution<int> slot(0, n_candidates - 1);
    for (int l = 0; l < n_picks; ++l) out[l] = candidates[slot(rng)];
    return;
  }
  key_.resize(static_cast<std::size_t>(n_candidates));
  pos_.resize(static_cast<std::size_t>(n_picks));
  const bool noisy = options_.kind == LsrKind::kNoisy && training;
  boost::random::uniform_01<double> uniform;
  for (int k = 0; k < n_candidates; ++k) {
    const double f = f_row[candidates[k]];
    if (options_.kind == LsrKind::kAnti) {
      key_[k] = -f;
    } else if (noisy) {
      key_[k] = f / options_.noisy_temperature - std::log(-std::log(uniform(rng)));
    } else {
      key_[k] = f;
    }
  }
  top_.select(key_.data(), n_candidates, n_picks, pos_.data());
  for (int l = 0; l < n_picks; ++l) out[l] = candidates[pos_[l]];
}

double LateStageRanker::top_choice_probability(std::span<const int> candidates,
                                               const double* f_row) {
  switch (options_.kind) {
    case LsrKind::kOptimal:
    case LsrKind::kAnti:
      return 1.0;
    case LsrKind::kUniform:
      return 1.0 / static_cast<double>(candidates.size());
    case LsrKind::kNoisy: {
      double mx = -INFINITY;
      for (int c : candidates) mx = std::max(mx, f_row[c] / options_.noisy_temperature);
      double sum = 0.0;
      for (int c : candidates) sum += std::exp(f_row[c] / options_.noisy_temperature - mx);
      return 1.0 / sum;
    }
  }
  return 1.0;
}

}  // namespace stagesim::pg
