#include "sim/merge.hpp"

#include <sstream>

#include "sim/errors.hpp"
#include "sim/experiment.hpp"
#include "sim/output.hpp"

namespace stagesim {

void merge_parts(const std::string& out, const std::vector<std::string>& parts,
                 const Registry& reg) {
  if (parts.empty()) throw ConfigError("stagesim merge: give the output file and the parts");
  // The experiment is rebuilt from what the first part recorded; every part must carry its hash.
  const std::string& first = parts.front();
  const std::string hash = read_string_attribute(first, "experiment_hash");
  LoadOptions lo;
  std::istringstream sets(read_string_attribute(first, "set_overrides"));
  for (std::string line; std::getline(sets, line);)
    if (!line.empty()) lo.set.push_back(line);
  if (const auto v = find_string_attribute(first, "variants_selected")) {
    std::istringstream names(*v);
    for (std::string line; std::getline(names, line);)
      if (!line.empty()) lo.variants.push_back(line);
  }
  lo.seed = read_u64_attribute(first, "master_seed");
  Experiment ex = parse_experiment(read_string_attribute(first, "experiment_text"),
                                   read_string_attribute(first, "experiment_path"), lo, reg);
  char mine[32];
  std::snprintf(mine, sizeof mine, "%016llx", static_cast<unsigned long long>(ex.hash));
  if (hash != mine)
    throw ConfigError(first + ": written by a different stagesim version (experiment hash " + hash +
                      ", this version computes " + mine +
                      "); merge with the version "
                      "that ran the shards");
  const std::size_t C = ex.configs.size(), R = static_cast<std::size_t>(ex.replications),
                    P = static_cast<std::size_t>(ex.checkpoints), S = ex.series.size();
  Results res;
  res.reset(C, R, S, P);
  std::vector<std::string> owner(C * R);
  for (const std::string& part : parts) {
    const std::string h = read_string_attribute(part, "experiment_hash");
    if (h != hash)
      throw ConfigError(part + ": belongs to a different experiment than " + first + " (hash " + h +
                        " vs " + hash + "); merge only the parts of one run");
    std::vector<unsigned char> done = read_done(part);
    if (done.size() != C * R)
      throw ConfigError(part + ": has " + std::to_string(done.size()) + " task cells, expected " +
                        std::to_string(C * R));
    std::vector<Dataset> data;
    for (const SeriesInfo& s : ex.series) data.push_back(read_dataset(part, "metrics/" + s.name));
    // Table rows, split back into their cells.
    std::vector<std::vector<TableData>> part_tables(C * R);
    for (std::size_t t = 0; t < ex.tables.size(); ++t) {
      const TableInfo& info = ex.tables[t];
      const std::string g = "tables/" + info.name + "/";
      const Dataset task = read_dataset(part, g + "task"),
                    rep = read_dataset(part, g + "replication");
      std::vector<Dataset> cols;
      for (const ColumnInfo& col : info.columns) cols.push_back(read_dataset(part, g + col.name));
      for (auto& pt : part_tables) {
        pt.resize(ex.tables.size());
        pt[t].columns.resize(info.columns.size());
      }
      for (std::size_t row = 0; row < task.values.size(); ++row) {
        const std::size_t i = static_cast<std::size_t>(task.values[row]) * R +
                              static_cast<std::size_t>(rep.values[row]);
        if (i >= C * R)
          throw ConfigError(part + ": " + g + "task has a row outside the task table");
        TableData& td = part_tables[i][t];
        ++td.rows;
        for (std::size_t k = 0; k < cols.size(); ++k) {
          const std::size_t w = info.columns[k].width;
          auto b = cols[k].values.begin() + static_cast<std::ptrdiff_t>(row * w);
          td.columns[k].insert(td.columns[k].end(), b, b + static_cast<std::ptrdiff_t>(w));
        }
      }
    }
    for (std::size_t i = 0; i < C * R; ++i) {
      if (!done[i]) continue;
      if (!owner[i].empty())
        throw ConfigError(part + ": task " + std::to_string(i / R) + " replication " +
                          std::to_string(i % R) + " is also in " + owner[i] +
                          "; the parts overlap — merge each shard once");
      owner[i] = part;
      std::vector<double>& cell = res.cells[i];
      if (!ex.tables.empty()) res.tables[i] = std::move(part_tables[i]);
      if (ex.jobs) {  // each output's values of this cell, at its offset in the layout
        cell.resize(ex.cell_size);
        for (std::size_t a = 0; a < ex.arrays.size(); ++a) {
          const std::size_t n = ex.arrays[a].size();
          if (data[a].values.size() != C * R * n)
            throw ConfigError(part + ": metrics/" + ex.arrays[a].name + " has " +
                              std::to_string(data[a].values.size()) + " values, expected " +
                              std::to_string(C * R * n));
          std::copy_n(data[a].values.begin() + static_cast<std::ptrdiff_t>(i * n), n,
                      cell.begin() + static_cast<std::ptrdiff_t>(ex.arrays[a].offset));
        }
        continue;
      }
      cell.resize(S * P);
      for (std::size_t s = 0; s < S; ++s)
        std::copy(data[s].values.begin() + static_cast<std::ptrdiff_t>(i * P),
                  data[s].values.begin() + static_cast<std::ptrdiff_t>((i + 1) * P),
                  cell.begin() + static_cast<std::ptrdiff_t>(s * P));
    }
  }
  std::size_t missing = 0, first_missing = 0;
  for (std::size_t i = 0; i < C * R; ++i)
    if (owner[i].empty() && missing++ == 0) first_missing = i;
  if (missing)
    throw ConfigError("stagesim merge: " + std::to_string(missing) + " of " +
                      std::to_string(C * R) + " task cells are in no part (first: task " +
                      std::to_string(first_missing / R) + " replication " +
                      std::to_string(first_missing % R) +
                      "); wait for every shard to finish or rerun the missing ones");
  RunInfo info;
  info.start_time = read_string_attribute(first, "start_time");
  info.end_time = read_string_attribute(first, "end_time");
  info.host = read_string_attribute(first, "host");
  info.shard = "";
  info.ranks = static_cast<int>(parts.size());
  write_results(out, ex, res, info);
}

}  // namespace stagesim
