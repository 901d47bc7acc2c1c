#include "learners/moe/pools.hpp"

#include <hdf5.h>

#include "environments/data/hdf5_handle.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "environments/generators/labeled_products.hpp"

namespace stagesim::moe {

std::vector<int> random_pool_assignment(int items, int experts, Rng& rng) {
  if (items < 1 || experts < 1) throw std::invalid_argument("random_pool_assignment: sizes >= 1");
  const auto perm = random_permutation(items, rng);
  std::vector<int> assignment(static_cast<std::size_t>(items));
  for (int i = 0; i < items; ++i) assignment[static_cast<std::size_t>(perm[i])] = i % experts;
  return assignment;
}

std::vector<int> distill_assignment(const RowMatrixXd& gate_sums) {
  std::vector<int> assignment(static_cast<std::size_t>(gate_sums.rows()));
  for (Eigen::Index a = 0; a < gate_sums.rows(); ++a) {
    Eigen::Index best = 0;
    gate_sums.row(a).maxCoeff(&best);  // first maximum: the lower expert on ties
    assignment[static_cast<std::size_t>(a)] = static_cast<int>(best);
  }
  return assignment;
}

Pools pools_from_assignment(std::span<const int> assignment, int experts, bool drop_empty) {
  Pools pools(static_cast<std::size_t>(experts));
  for (std::size_t a = 0; a < assignment.size(); ++a) {
    if (assignment[a] < 0 || assignment[a] >= experts)
      throw std::invalid_argument("pools_from_assignment: expert out of range");
    pools[static_cast<std::size_t>(assignment[a])].push_back(static_cast<int>(a));
  }
  if (drop_empty) std::erase_if(pools, [](const auto& p) { return p.empty(); });
  return pools;
}

std::string pools_to_toml(const Pools& pools) {
  std::ostringstream out;
  out << '[';
  for (std::size_t p = 0; p < pools.size(); ++p) {
    if (pools[p].empty())
      throw std::invalid_argument("pools_to_toml: pool " + std::to_string(p) +
                                  " is empty (the pipeline rejects it)");
    out << (p ? ", [" : "[");
    for (std::size_t i = 0; i < pools[p].size(); ++i) out << (i ? ", " : "") << pools[p][i];
    out << ']';
  }
  out << ']';
  return out.str();
}

namespace {

using data::Hdf5Handle;
using data::Hdf5QuietErrors;

[[noreturn]] void h5_fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(file.string() + ": " + what);
}

}  // namespace

void write_pools_hdf5(const std::filesystem::path& file, const std::string& dataset,
                      const Pools& pools) {
  std::vector<std::int32_t> pool_of_item;
  for (std::size_t p = 0; p < pools.size(); ++p) {
    for (int a : pools[p]) {
      if (a < 0) h5_fail(file, "negative item id");
      if (static_cast<std::size_t>(a) >= pool_of_item.size()) pool_of_item.resize(a + 1, -1);
      pool_of_item[static_cast<std::size_t>(a)] = static_cast<std::int32_t>(p);
    }
  }
  {
    const Hdf5QuietErrors quiet;
    Hdf5Handle f(std::filesystem::exists(file)
                     ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                     : H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                 H5Fclose);
    if (f.get() < 0) h5_fail(file, "cannot open for writing");
    if (H5Lexists(f.get(), dataset.c_str(), H5P_DEFAULT) > 0)
      H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT);
    const hsize_t dims[1] = {pool_of_item.size()};
    Hdf5Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Hdf5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Hdf5Handle ds(H5Dcreate2(f.get(), dataset.c_str(), H5T_STD_I32LE, space.get(), lcpl.get(),
                             H5P_DEFAULT, H5P_DEFAULT),
                  H5Dclose);
    if (ds.get() < 0) h5_fail(file, "cannot create dataset " + dataset);
    if (H5Dwrite(ds.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, pool_of_item.data()) <
        0)
      h5_fail(file, "cannot write dataset " + dataset);
  }
}

Pools read_pools_hdf5(const std::filesystem::path& file, const std::string& dataset) {
  std::vector<std::int32_t> pool_of_item;
  {
    const Hdf5QuietErrors quiet;
    Hdf5Handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (f.get() < 0) h5_fail(file, "cannot open");
    Hdf5Handle ds(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
    if (ds.get() < 0) h5_fail(file, "no dataset " + dataset);
    Hdf5Handle space(H5Dget_space(ds.get()), H5Sclose);
    if (H5Sget_simple_extent_ndims(space.get()) != 1) h5_fail(file, dataset + " is not 1-D");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space.get(), &n, nullptr);
    pool_of_item.resize(n);
    if (n &&
        H5Dread(ds.get(), H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, pool_of_item.data()) < 0)
      h5_fail(file, "cannot read " + dataset);
  }
  Pools pools;
  for (std::size_t a = 0; a < pool_of_item.size(); ++a) {
    const int p = pool_of_item[a];
    if (p < 0) continue;  // an id no pool held
    if (static_cast<std::size_t>(p) >= pools.size()) pools.resize(p + 1);
    pools[static_cast<std::size_t>(p)].push_back(static_cast<int>(a));
  }
  return pools;
}

namespace {

std::map<std::pair<int, int>, double> contingency(std::span<const int> a, std::span<const int> b) {
  if (a.size() != b.size()) throw std::invalid_argument("partitions of different sizes");
  std::map<std::pair<int, int>, double> t;
  for (std::size_t i = 0; i < a.size(); ++i) t[{a[i], b[i]}] += 1.0;
  return t;
}

double pairs(double n) {
  return n * (n - 1) / 2;
}

}  // namespace

double purity(std::span<const int> found, std::span<const int> truth) {
  if (found.empty()) return 1.0;
  std::map<int, double> best;
  for (const auto& [key, n] : contingency(found, truth))
    best[key.first] = std::max(best[key.first], n);
  double total = 0;
  for (const auto& [cluster, n] : best) total += n;
  return total / static_cast<double>(found.size());
}

double adjusted_rand_index(std::span<const int> a, std::span<const int> b) {
  const auto table = contingency(a, b);
  std::map<int, double> rows, cols;
  double index = 0;
  for (const auto& [key, n] : table) {
    rows[key.first] += n;
    cols[key.second] += n;
    index += pairs(n);
  }
  double sa = 0, sb = 0;
  for (const auto& [k, n] : rows) sa += pairs(n);
  for (const auto& [k, n] : cols) sb += pairs(n);
  const double expected = sa * sb / pairs(static_cast<double>(a.size()));
  const double max_index = 0.5 * (sa + sb);
  if (max_index == expected) return 1.0;  // both trivial partitions: identical by convention
  return (index - expected) / (max_index - expected);
}

}  // namespace stagesim::moe
