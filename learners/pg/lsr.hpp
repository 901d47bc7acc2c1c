// Fixed late-stage rankers: choose an ordered list of L of the K candidates from a per-user score
// row f (spec §4).
#pragma once

#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "learners/pg/top_k.hpp"

namespace stagesim::pg {

enum class LsrKind {
  kOptimal,  // top-L by f
  kAnti,     // bottom-L by f (worst first)
  kNoisy,    // top-L of f/τ + Gumbel noise in training; optimal at evaluation
  kUniform,  // L slots uniformly with replacement, in training and evaluation
};

struct LsrOptions {
  LsrKind kind = LsrKind::kOptimal;
  double noisy_temperature = 1.0;  // τ of kNoisy: the pick is PL over f/τ
};

class LateStageRanker {
 public:
  explicit LateStageRanker(LsrOptions options) : options_(options) {}
  const LsrOptions& options() const { return options_; }

  // out[l] = item id of the l-th pick; f_row is indexed by item id. `rng` is used only by kNoisy
  // in training and by kUniform. Ties go to the earlier candidate slot.
  void pick(std::span<const int> candidates, const double* f_row, bool training, Rng& rng,
            std::span<int> out);

  // Probability that the first training pick is the LSR's most likely candidate: 1 for the
  // deterministic kinds, 1/K for uniform, max softmax(f/τ) for noisy.
  double top_choice_probability(std::span<const int> candidates, const double* f_row);

 private:
  LsrOptions options_;
  std::vector<double> key_;
  std::vector<int> pos_;
  TopSelector top_;
};

}  // namespace stagesim::pg
