#include "sim/estimate.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "sim/errors.hpp"
#include "sim/memory.hpp"

namespace stagesim {

Footprint memory_footprint(const Experiment& ex) {
  Footprint f;
  const double C = static_cast<double>(ex.configs.size());
  const double R = static_cast<double>(ex.replications);
  const double P = static_cast<double>(ex.checkpoints);
  const double cell = static_cast<double>(ex.cell_size);  // S·P, or a job's output values
  // Per cell: the results, the same again for the file image, one series buffer (P doubles),
  // the vector and done-flag overhead.
  f.results_bytes = C * R * (2.0 * 8.0 * cell + 8.0 * P + 40.0);
  // Systems sharing a world run together on one thread (a job's configurations run alone).
  std::map<std::uint64_t, std::pair<double, std::size_t>> group;
  for (const Config& c : ex.configs) {
    const std::uint64_t key = ex.jobs ? c.index : c.world_scope;
    auto [it, fresh] = group.emplace(key, std::make_pair(ex.jobs ? 0.0 : c.world.bytes, c.index));
    it->second.first += c.bytes + 8.0 * cell;
  }
  for (const auto& [scope, g] : group)
    if (g.first > f.worker_bytes) {
      f.worker_bytes = g.first;
      f.worker_config = g.second;
    }
  return f;
}

void check_memory(const Experiment& ex, int threads) {
  const Footprint f = memory_footprint(ex);
  const double avail = available_memory_bytes();
  const double t = std::max(1, threads);
  if (f.results_bytes + t * f.worker_bytes <= avail) return;
  auto source = [&](const std::string& key) {
    auto it = ex.key_sources.find(key);
    return it != ex.key_sources.end() ? it->second : ex.path;
  };
  if (f.results_bytes + f.worker_bytes > avail) {
    if (f.results_bytes >= f.worker_bytes)
      throw ConfigError(
          source("experiment.replications") + ": key 'experiment.replications' = " +
          std::to_string(ex.replications) + ": the results need " + format_bytes(f.results_bytes) +
          " of memory (" + std::to_string(ex.configs.size()) + " configurations × " +
          std::to_string(ex.replications) + " replications × " + std::to_string(ex.series.size()) +
          " series × " + std::to_string(ex.checkpoints) + " checkpoints), but " +
          format_bytes(avail) +
          " are available; lower replications or experiment.checkpoints, or split the run into "
          "separate experiments");
    const Config& c = ex.configs[f.worker_config];
    std::string what =
        "world type '" + c.world_type + "' (" + std::to_string(c.world.items) + " items";
    if (c.world.dim > 0) what += " × " + std::to_string(c.world.dim) + " features";
    what += ")";
    throw ConfigError(source("world") + ": key 'world': one replication of " + what +
                      (c.variant.empty() ? "" : ", variant " + c.variant) +
                      " with its stages needs " + format_bytes(f.worker_bytes) +
                      " of memory, but " + format_bytes(avail) +
                      " are available; lower world.items or world.dim (or the stages' sizes)");
  }
  const int fit = static_cast<int>((avail - f.results_bytes) / f.worker_bytes);
  throw ConfigError("--threads " + std::to_string(threads) + ": " + std::to_string(threads) +
                    " workers need " + format_bytes(f.results_bytes + t * f.worker_bytes) +
                    " of memory (" + format_bytes(f.worker_bytes) + " each), but " +
                    format_bytes(avail) + " are available; use --threads " +
                    std::to_string(std::max(1, fit)) + " or fewer");
}

double experiment_flops(const Experiment& ex) {
  double cost = 0;
  std::set<std::string> shared;
  for (const Config& c : ex.configs) {
    cost += c.cost * static_cast<double>(ex.replications);
    if (c.job.shared_cost > 0 &&
        (c.job.shared_scope.empty() || shared.insert(c.job.shared_scope).second))
      cost += c.job.shared_cost * static_cast<double>(ex.replications);
  }
  return cost;
}

double estimate_seconds(double flops, int threads) {
  return kRunOverheadSeconds + flops / kFlopsPerSecond / std::max(1, threads);
}

}  // namespace stagesim
