#pragma once
// A synthetic stand-in for AmazonCat-13K + BERT features, in the same shapes (RawMultilabel), so
// the Fig. 4 pipeline runs end to end without the real data. Products have dense N(0, I) features;
// category c has a unit direction w_c and is carried by product p when
//   sqrt(signal)·<w_c, x_p> + sqrt(shared)·g_p + sqrt(1 − signal − shared)·e_pc > tau_c,
// g_p, e_pc ~ N(0, 1) (g_p is a per-product factor the features do not show: it makes label counts
// vary, hence products without a kept label). Every score is N(0, 1), so tau_c = Φ⁻¹(1 − f_c) gives
// category c the frequency f_c. Frequencies follow a shifted power law over the categories' ranks,
// f_r ∝ (r + rank_offset)^−exponent, scaled so the categories ranked first_rank..first_rank+count−1
// have mean frequency positive_rate. The defaults are fitted to the paper's statistics after the
// 3rd..102nd selection: positive rate 10.73 %, top-5 / bottom-50 shares 19.22 % / 19.85 %.
// Labels depend linearly (through a threshold) on the features, so linear bandits can learn them.
// Everything comes from one Boost mt19937_64 seeded with `seed`: the data are a fixed data set.
#include <cstdint>
#include <string>
#include <vector>

#include "environments/multilabel_data.hpp"

namespace stagesim {

struct SyntheticMultilabelOptions {
  std::int64_t products = 20000;
  std::int64_t dim = 64;      // feature columns generated
  std::int64_t labels = 150;  // categories generated (ranks 1..labels)
  std::uint64_t seed = 1;
  double signal = 0.6;   // share of a label score's variance explained by the features
  double shared = 0.25;  // share from the per-product factor g_p
  double exponent = 1.547;
  double rank_offset = 16.0;
  double positive_rate = 0.1073;
  int first_rank = 3;  // the kept window the frequencies are scaled for
  int count = 100;
};

// Checks the options; returns "" when fine, else what is wrong.
std::string check_synthetic_multilabel(const SyntheticMultilabelOptions& o);

// Category frequencies by rank (index 0 = rank 1), capped at 0.99.
std::vector<double> synthetic_label_frequencies(const SyntheticMultilabelOptions& o);

RawMultilabel generate_synthetic_multilabel(const SyntheticMultilabelOptions& o);

}  // namespace stagesim
