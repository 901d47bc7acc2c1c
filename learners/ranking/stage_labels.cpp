#include "learners/ranking/stage_labels.hpp"

#include <cmath>

namespace stagesim::ranking {

std::string LabelScheme::check() const {
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (!std::isfinite(z[i])) return "z_" + std::to_string(i) + " is not finite";
    if (i > 0 && z[i] < z[i - 1])
      return "z must be non-decreasing (z_" + std::to_string(i) + " < z_" + std::to_string(i - 1) +
             ")";
  }
  return "";
}

double stage_label(const LabelScheme& scheme, StageLevel level, bool click) {
  if (scheme.kind == LabelSchemeKind::kRecFlow) {
    switch (level) {
      case kRandomSample:
        return 0;
      case kPrerankDropped:
        return 1;
      case kRankDropped:
        return 3;
      case kRerankDropped:
        return 4;
      case kExposed:
        return click ? 6 : 5;
    }
    return 0;
  }
  if (level == kExposed) return click ? scheme.z[5] : scheme.z[4];
  return scheme.z[level];
}

std::vector<double> relabel(const RequestLog& log, const LabelScheme& scheme) {
  std::vector<double> out(log.rows());
  for (std::size_t r = 0; r < log.rows(); ++r)
    out[r] = stage_label(scheme, static_cast<StageLevel>(log.level[r]), log.click[r] != 0);
  return out;
}

}  // namespace stagesim::ranking
