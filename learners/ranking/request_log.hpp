#pragma once
// The stage log of a simulated cascade, one block of rows per request (FS-LTR spec §2): for every
// logged candidate its item, the deepest stage it reached and, if exposed, the user's feedback.
// Columnar and contiguous: training samples index into it without copies.
#include <cstdint>
#include <span>
#include <vector>

namespace stagesim::ranking {

// S of spec §2 for our cascade (retrieval = the random draw of candidates from the user's pool,
// then pre-rank, rank, [re-rank], exposure).
enum StageLevel : std::uint8_t {
  kRandomSample = 0,    // not in the request: a random pool sample a learner adds itself
  kPrerankDropped = 1,  // a retrieved candidate the pre-rank stage dropped
  kRankDropped = 2,     // passed pre-rank, dropped by rank
  kRerankDropped = 3,   // passed rank, dropped by a re-rank stage (absent without one)
  kExposed = 4,         // shown to the user; its feedback is `click`
};

struct RequestLog {
  std::vector<int> user;                 // per request
  std::vector<std::int64_t> offsets{0};  // rows of request r: [offsets[r], offsets[r + 1])
  std::vector<int> item;                 // per row
  std::vector<std::uint8_t> level;       // per row: StageLevel
  std::vector<std::uint8_t> click;       // per row: Y (0 unless exposed)

  std::size_t requests() const { return user.size(); }
  std::size_t rows() const { return item.size(); }
  void begin_request(int u) { user.push_back(u); }
  void add(int it, StageLevel s, bool y) {
    item.push_back(it);
    level.push_back(s);
    click.push_back(static_cast<std::uint8_t>(y && s == kExposed));
  }
  void end_request() { offsets.push_back(static_cast<std::int64_t>(item.size())); }
  std::int64_t begin(std::size_t r) const { return offsets[r]; }
  std::int64_t end(std::size_t r) const { return offsets[r + 1]; }
  // Appends every request of `other`.
  void append(const RequestLog& other);
};

inline void RequestLog::append(const RequestLog& other) {
  const std::int64_t base = static_cast<std::int64_t>(item.size());
  user.insert(user.end(), other.user.begin(), other.user.end());
  for (std::size_t r = 1; r < other.offsets.size(); ++r) offsets.push_back(base + other.offsets[r]);
  item.insert(item.end(), other.item.begin(), other.item.end());
  level.insert(level.end(), other.level.begin(), other.level.end());
  click.insert(click.end(), other.click.begin(), other.click.end());
}

}  // namespace stagesim::ranking
