#pragma once
// Category quantile rescaling (CQR, UNEX-RL's variance reduction): a reward becomes its empirical
// quantile within its (user group, item group) cell, r̃ = Φ(r | G_u, G_i) ∈ [0, 1], removing the
// user and item biases that dominate raw watch time. Each cell keeps a sorted sample of the
// values seen so far (a reservoir of at most `capacity`, replaced at keyed positions when full);
// the quantile is the mid-rank (#below + ½ #equal) / n, 0.5 in an empty cell.
#include <cstdint>
#include <vector>

namespace stagesim::multistage {

class CategoryQuantile {
 public:
  CategoryQuantile(int user_groups, int item_groups, int capacity = 512);
  // Adds r to its cell, then returns its quantile there.
  double add_and_rescale(int user_group, int item_group, double r);
  double quantile(int user_group, int item_group, double r) const;
  std::int64_t count(int user_group, int item_group) const;

 private:
  std::vector<double>& cell(int u, int i) { return cells_[static_cast<std::size_t>(u) * items_ + i]; }
  const std::vector<double>& cell(int u, int i) const {
    return cells_[static_cast<std::size_t>(u) * items_ + i];
  }
  int items_, capacity_;
  std::vector<std::vector<double>> cells_;
  std::vector<std::int64_t> seen_;
};

}  // namespace stagesim::multistage
