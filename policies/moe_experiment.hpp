#pragma once
// `stagesim moe FILE`: the offline Mixture-of-Experts pool-learning experiment (two-stage spec
// §7, paper Fig. 5). The file names the products through a [world] table of type
// multilabel_bandit (AmazonCat-13K files or the synthetic generator), the trainer's options in
// [moe] and a [grid] of experts N, item_dim d_e, per_item c and subset s; every grid point ×
// replication trains the MoE and the random-pool baseline and records P@k / R@k (with standard
// errors over the test products) to HDF5 datasets [task, replication].
#include <string>

#include "sim/experiment.hpp"

namespace stagesim {

struct MoeRunOptions {
  std::string out;
  int threads = 0;  // grid points in parallel (0 = all cores)
  bool progress = true;
};

// Returns the number of tasks run. ConfigError / IoError on bad input.
std::size_t run_moe_experiment(const std::string& path, const LoadOptions& load,
                               const MoeRunOptions& run);

}  // namespace stagesim
