// Pool allocations for the MoE experiments: the random baseline (spec §4's round-robin deal),
// distillation of hard pools from a learned gating (paper Section 4, option 1: argmax over experts
// of each item's gate weight averaged over users), export for the two-stage bandit pipeline
// (`stages.nominators.pools = [[...], ...]` or an HDF5 dataset), and agreement scores used by the
// tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::moe {

using Pools = std::vector<std::vector<int>>;  // pool → ascending item ids

// Item → expert: a random permutation of the items dealt round-robin into `experts` pools
// (disjoint, sizes differ by at most one; some pools are empty when items < experts).
std::vector<int> random_pool_assignment(int items, int experts, Rng& rng);

// Item → expert with the largest weight (items × experts: MoeModel::gate_sums for the spec's
// average-gate rule, or MoeModel::contribution_sums). Ties: the lower expert.
std::vector<int> distill_assignment(const RowMatrixXd& gate_sums);

// Pools from an assignment (item → expert in [0, experts)); empty pools are dropped when
// drop_empty, because the pipeline requires every pool to be non-empty.
Pools pools_from_assignment(std::span<const int> assignment, int experts, bool drop_empty = true);

// "[[0, 3, 7], [1, 2]]": a TOML array of arrays, the value of `stages.nominators.pools`
// (set `replicas` to pools.size()). invalid_argument on an empty pool.
std::string pools_to_toml(const Pools& pools);

// Writes the item → pool index as a 1-D int32 dataset `dataset` (creating the file if needed,
// replacing the dataset if present). runtime_error on HDF5 failure.
void write_pools_hdf5(const std::filesystem::path& file, const std::string& dataset,
                      const Pools& pools);

// Reads what write_pools_hdf5 wrote back into pools. runtime_error on failure.
Pools read_pools_hdf5(const std::filesystem::path& file, const std::string& dataset);

// Purity of `found` against `truth` (both item → label): Σ over found clusters of the size of
// their largest overlap with one true cluster, / items. 1 = every found pool lies in one group.
double purity(std::span<const int> found, std::span<const int> truth);

// Adjusted Rand index (Hubert & Arabie): 1 = identical partitions, ≈ 0 for random ones.
double adjusted_rand_index(std::span<const int> a, std::span<const int> b);

}  // namespace stagesim::moe
