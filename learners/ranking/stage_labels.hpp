#pragma once
// Relabelling a stage log for full-stage learning to rank (FS-LTR spec §2): the label of a row is
// a function of how deep the item got and, if exposed, its feedback.
//  - fs_ltr (the paper): L = z_S for S < 4, z_4 if exposed with Y = 0, z_5 if exposed with Y = 1;
//    z_0 ≤ … ≤ z_5, default z_i = i.
//  - recflow (the 7 priorities of the public RecFlow trainers): click 6, exposed 5, rank-pos 4,
//    rank-neg 3, coarse-neg 2, prerank-neg 1, random 0. On our cascade: exposed with Y = 1 → 6,
//    exposed → 5, passed rank but not exposed (S = 3) → 4, dropped by rank (S = 2) → 3, dropped by
//    pre-rank (S = 1) → 1, random pool sample → 0; 2 (RecFlow's separate coarse-ranking stage) has
//    no counterpart and never occurs.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "learners/ranking/request_log.hpp"

namespace stagesim::ranking {

enum class LabelSchemeKind { kFsLtr, kRecFlow };

struct LabelScheme {
  LabelSchemeKind kind = LabelSchemeKind::kFsLtr;
  std::array<double, 6> z = {0, 1, 2, 3, 4, 5};  // fs_ltr only
  // "" when fine; otherwise what is wrong (z must be non-decreasing and finite).
  std::string check() const;
};

double stage_label(const LabelScheme& scheme, StageLevel level, bool click);

// One label per row of the log.
std::vector<double> relabel(const RequestLog& log, const LabelScheme& scheme);

}  // namespace stagesim::ranking
