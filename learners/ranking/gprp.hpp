#pragma once
// The probability ranking principle (PRP) and its generalisation to cascades (GPRP, FS-LTR spec
// §1) at one stage: PRP keeps the items with the highest interest r(u, v); GPRP keeps the set that
// maximises the expected utility of what the later stages finally keep (here: exhaustively, for
// the worked example and small tests); under the paper's Assumption 1 this is approximated by
// ranking on w = p(survive the later stages) · r (`survival_weighted_select`).
// `cascade_utility` plays the later stage out: it keeps the `next_keep` items of highest
// next-stage score and returns Σ r over them.
#include <span>
#include <vector>

namespace stagesim::ranking {

// Indices of the `keep` largest values, largest first (ties: lower index first).
std::vector<int> top_indices(std::span<const double> values, int keep);

std::vector<int> prp_select(std::span<const double> interest, int keep);
std::vector<int> survival_weighted_select(std::span<const double> survival,
                                          std::span<const double> interest, int keep);
// invalid_argument for more than 24 items.
std::vector<int> gprp_select(std::span<const double> next_score, std::span<const double> interest,
                             int keep, int next_keep);

// Of `kept`, the next stage keeps the `next_keep` with the highest survival score; the utility
// is the sum of their interest.
double cascade_utility(std::span<const int> kept, std::span<const double> survival,
                       std::span<const double> interest, int next_keep);

}  // namespace stagesim::ranking
