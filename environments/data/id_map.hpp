#pragma once
// Re-indexing of external ids (user_id, video_id, ...) to 0..n-1 in order of first appearance.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace stagesim::data {

class IdMap {
 public:
  // Index of `id`, assigning the next free index if it is new.
  std::int32_t intern(std::int64_t id) {
    if (id >= 0 && id < kDenseLimit) {
      auto u = static_cast<std::size_t>(id);
      if (u >= dense_.size()) dense_.resize(std::max(u + 1, dense_.size() * 2), -1);
      std::int32_t& slot = dense_[u];
      if (slot < 0) {
        slot = static_cast<std::int32_t>(ids_.size());
        ids_.push_back(id);
      }
      return slot;
    }
    auto [it, inserted] = sparse_.try_emplace(id, static_cast<std::int32_t>(ids_.size()));
    if (inserted) ids_.push_back(id);
    return it->second;
  }

  // Index of `id`, or nullopt if it was never interned.
  std::optional<std::int32_t> find(std::int64_t id) const {
    if (id >= 0 && id < kDenseLimit) {
      auto u = static_cast<std::size_t>(id);
      if (u < dense_.size() && dense_[u] >= 0) return dense_[u];
      return std::nullopt;
    }
    auto it = sparse_.find(id);
    if (it == sparse_.end()) return std::nullopt;
    return it->second;
  }

  // External id of index i.
  std::int64_t id(std::int32_t i) const { return ids_[static_cast<std::size_t>(i)]; }
  const std::vector<std::int64_t>& ids() const { return ids_; }
  std::int32_t size() const { return static_cast<std::int32_t>(ids_.size()); }
  bool empty() const { return ids_.empty(); }

 private:
  static constexpr std::int64_t kDenseLimit = std::int64_t{1} << 24;
  std::vector<std::int64_t> ids_;
  std::vector<std::int32_t> dense_;  // id -> index for small non-negative ids
  std::unordered_map<std::int64_t, std::int32_t> sparse_;
};

}  // namespace stagesim::data
