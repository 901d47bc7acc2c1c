#pragma once
// Label preprocessing for the two-stage bandit experiments (two-stage-bandits.md §6.2): keep the
// categories ranked first_rank .. first_rank+count-1 by frequency (default 3rd..102nd), remap them
// to 0..count-1 by rank (ties: lower original id first), and report the statistics the paper gives.
#include <cstdint>
#include <string>
#include <vector>

#include "environments/data/sparse.hpp"

namespace stagesim::data {

struct CategorySelection {
  int first_rank = 3;  // 1-based rank of the first kept category
  int count = 100;     // number of categories kept
};

struct CategoryRemap {
  std::vector<std::int32_t> original;   // new id -> original category id
  std::vector<std::int64_t> frequency;  // new id -> number of products carrying it
  IdLists labels;                       // per product: kept categories as new ids, ascending
};

// Ranks categories by the number of products carrying them (duplicates within a product count
// once; categories no product carries are never kept, so fewer than `count` may be kept).
// DataError if a label is outside [0, num_labels) or the selection is invalid.
CategoryRemap select_categories(const IdLists& labels, std::int64_t num_labels,
                               const CategorySelection& selection = {});

struct LabelStats {
  std::int64_t products = 0;
  std::int64_t categories = 0;  // kept categories
  std::int64_t positives = 0;   // (product, kept category) pairs
  double positive_rate = 0;     // positives / (products * categories)
  double top_share = 0;         // share of positives in the top_n kept categories
  double bottom_share = 0;      // share of positives in the bottom_n kept categories
  double no_label_share = 0;    // share of products with no kept category
  int top_n = 5;
  int bottom_n = 50;

  // One paragraph comparing with the paper's values (10.73 %, 19.22 %, 19.85 %, < 5 %).
  std::string report() const;
};

LabelStats compute_label_stats(const CategoryRemap& remap, int top_n = 5, int bottom_n = 50);

}  // namespace stagesim::data
