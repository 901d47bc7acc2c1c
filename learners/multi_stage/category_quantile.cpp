#include "learners/multi_stage/category_quantile.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/random.hpp"

namespace stagesim::multistage {

CategoryQuantile::CategoryQuantile(int user_groups, int item_groups, int capacity)
    : items_(item_groups),
      capacity_(capacity),
      cells_(static_cast<std::size_t>(user_groups) * item_groups),
      seen_(cells_.size(), 0) {
  if (user_groups < 1 || item_groups < 1 || capacity < 1)
    throw std::invalid_argument("CategoryQuantile: groups and capacity must be >= 1");
}

double CategoryQuantile::quantile(int u, int i, double r) const {
  const std::vector<double>& c = cell(u, i);
  if (c.empty()) return 0.5;
  const auto lo = std::lower_bound(c.begin(), c.end(), r);
  const auto hi = std::upper_bound(lo, c.end(), r);
  return (static_cast<double>(lo - c.begin()) + 0.5 * static_cast<double>(hi - lo)) /
         static_cast<double>(c.size());
}

double CategoryQuantile::add_and_rescale(int u, int i, double r) {
  std::vector<double>& c = cell(u, i);
  std::int64_t& n = seen_[static_cast<std::size_t>(u) * items_ + i];
  ++n;
  if (static_cast<int>(c.size()) < capacity_) {
    c.insert(std::upper_bound(c.begin(), c.end(), r), r);
  } else {
    // Reservoir sampling with a keyed draw: keep r with probability capacity / n.
    const double v = counter_uniform(0x6371725ULL, static_cast<std::uint64_t>(u) * 1000003ULL + i,
                                     static_cast<std::uint64_t>(n));
    const std::int64_t slot = static_cast<std::int64_t>(v * static_cast<double>(n));
    if (slot < capacity_) {
      c.erase(c.begin() + slot);
      c.insert(std::upper_bound(c.begin(), c.end(), r), r);
    }
  }
  return quantile(u, i, r);
}

std::int64_t CategoryQuantile::count(int u, int i) const {
  return seen_[static_cast<std::size_t>(u) * items_ + i];
}

}  // namespace stagesim::multistage
