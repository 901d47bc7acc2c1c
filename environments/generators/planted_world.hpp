// A synthetic multi-label world with a known pool structure, for testing pool learning: items
// come in `groups` disjoint groups, and group k's labels depend only on feature block k
// (columns k·block .. (k+1)·block−1). Item a of group k carries product u when
//   <w_a, z_u[block k]> + noise·e_ua > tau,   w_a uniform on the unit sphere, z, e ~ N(0, 1),
// tau = sqrt(1 + noise²)·Φ⁻¹(1 − positive_rate). An expert that sees only block k can rank group
// k's items and nothing else, so the right pool allocation is "group k → expert k" and a random
// allocation is measurably worse. (environments/synthetic_multilabel.hpp is the Amazon stand-in,
// but it lives in stagesim_core and has no planted groups.)
#pragma once

#include <cstdint>
#include <vector>

#include "environments/generators/labeled_products.hpp"

namespace stagesim::moe {

struct PlantedOptions {
  std::int64_t products = 10000;
  int groups = 4;
  int items_per_group = 5;
  int block = 5;  // feature columns per group; d = groups · block
  double positive_rate = 0.2;
  double noise = 0.3;
  std::uint64_t seed = 1;
};

struct PlantedWorld {
  LabeledProducts data;
  std::vector<int> group_of_item;                // item → group
  std::vector<std::vector<int>> feature_blocks;  // group → its feature columns
};

PlantedWorld generate_planted_world(const PlantedOptions& options);

}  // namespace stagesim::moe
