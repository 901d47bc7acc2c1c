#include "sim/stage_log.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stagesim {

void StageLog::clear() {
  request.clear();
  user.clear();
  item.clear();
  reached.clear();
  exposed.clear();
  position.clear();
  score.clear();
  outcome.clear();
}

StageLogRecorder::StageLogRecorder(const MetricSetup& s, std::int64_t every,
                                   std::int64_t max_requests)
    : level_(s.stage_level), every_(std::max<std::int64_t>(every, 1)), max_(max_requests) {
  log.stages = s.stage_names;
  log.objectives = s.objectives;
  for (int l : level_) levels_ = std::max(levels_, l + 1);
  items_ = static_cast<std::size_t>(s.items);
  const std::size_t n = items_ * level_.size();
  cand_stamp_.assign(n, 0);
  out_stamp_.assign(n, 0);
  out_pos_.assign(n, -1);
  score_.assign(n, 0.0);
  row_stamp_.assign(items_, 0);
  exposed_stamp_.assign(items_, 0);
  exposed_pos_.assign(items_, -1);
}

void StageLogRecorder::observe(const Trace& t) {
  const std::int64_t k = seen_++;
  if (k % every_ != 0 || (max_ > 0 && logged_ >= max_)) return;
  ++logged_;
  ++stamp_;
  const std::size_t S = level_.size(), m = log.objectives.size();
  // Which entry offered, kept (at which position of its output) and scored each item.
  std::vector<int>& next_pos = next_pos_;
  next_pos.assign(S, 0);
  for (const StageView& v : t.stages) {
    const std::size_t e = static_cast<std::size_t>(v.entry);
    const std::vector<double>& sc = v.decision->scores;
    for (std::size_t c = 0; c < v.candidates.size(); ++c) {
      const std::size_t at = e * items_ + static_cast<std::size_t>(v.candidates[c]);
      if (cand_stamp_[at] != stamp_) {
        cand_stamp_[at] = stamp_;
        score_[at] =
            sc.size() == v.candidates.size() ? sc[c] : std::numeric_limits<double>::quiet_NaN();
      }
    }
    for (int a : v.decision->ids) {
      const std::size_t at = e * items_ + static_cast<std::size_t>(a);
      if (out_stamp_[at] != stamp_) {
        out_stamp_[at] = stamp_;
        out_pos_[at] = next_pos[e]++;
      }
    }
  }
  for (std::size_t l = 0; l < t.served.size(); ++l) {
    exposed_stamp_[t.served[l]] = stamp_;
    exposed_pos_[t.served[l]] = static_cast<int>(l);
  }
  // Rows: the first layer's candidates, in the order its stages were offered them.
  for (const StageView& v : t.stages) {
    if (level_[v.entry] != 0) continue;
    for (int a : v.candidates) {
      if (row_stamp_[a] == stamp_) continue;
      row_stamp_[a] = stamp_;
      log.request.push_back(t.request->index);
      log.user.push_back(t.request->user);
      log.item.push_back(a);
      int deepest = 0;
      for (std::size_t e = 0; e < S; ++e) {
        const std::size_t at = e * items_ + static_cast<std::size_t>(a);
        const bool offered = cand_stamp_[at] == stamp_;
        if (offered) deepest = std::max(deepest, level_[e] + 1);
        log.position.push_back(out_stamp_[at] == stamp_ ? out_pos_[at] : -1);
        log.score.push_back(offered ? score_[at] : std::numeric_limits<double>::quiet_NaN());
      }
      log.reached.push_back(deepest);
      const bool shown = exposed_stamp_[a] == stamp_;
      log.exposed.push_back(shown ? 1 : 0);
      for (std::size_t j = 0; j < m; ++j)
        log.outcome.push_back(shown ? t.outcomes[exposed_pos_[a] * m + j]
                                    : std::numeric_limits<double>::quiet_NaN());
    }
  }
}

}  // namespace stagesim
