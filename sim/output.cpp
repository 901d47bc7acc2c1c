#include "sim/output.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "environments/data/hdf5_handle.hpp"
#include "sim/atomic_file.hpp"
#include "sim/errors.hpp"
#include "stagesim_version.hpp"

namespace stagesim {
namespace {

using H = data::Hdf5Handle;
using Quiet = data::Hdf5QuietErrors;

void check(herr_t r, const std::string& what, const std::string& path) {
  if (r < 0) throw IoError(path + ": HDF5 failed to " + what + " (out of memory?)");
}
hid_t check_id(hid_t id, const std::string& what, const std::string& path) {
  if (id < 0) throw IoError(path + ": HDF5 failed to " + what + " (out of memory?)");
  return id;
}

hid_t string_type() {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

void attr_string(hid_t obj, const char* name, const std::string& value, const std::string& path) {
  H t(string_type(), H5Tclose);
  H space(H5Screate(H5S_SCALAR), H5Sclose);
  H a(check_id(H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT), "create attribute", path),
      H5Aclose);
  const char* p = value.c_str();
  check(H5Awrite(a, t, &p), "write attribute", path);
}

template <class T>
void attr_scalar(hid_t obj, const char* name, T value, hid_t type, const std::string& path) {
  H space(H5Screate(H5S_SCALAR), H5Sclose);
  H a(check_id(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), "create attribute",
               path),
      H5Aclose);
  check(H5Awrite(a, type, &value), "write attribute", path);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v,
                   const std::string& path) {
  H t(string_type(), H5Tclose);
  hsize_t dims[1] = {v.size()};
  H space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  H d(check_id(H5Dcreate2(loc, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
               "create dataset " + name, path),
      H5Dclose);
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  if (!v.empty()) check(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "write", path);
}

template <class T>
void write_array(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                 const T* data, const std::string& path, bool compress) {
  H space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  if (compress && total > 0) {
    // One chunk per task: all replications and checkpoints of a configuration together.
    std::vector<hsize_t> chunk = dims;
    chunk[0] = 1;
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
  }
  H d(check_id(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
               "create dataset " + name, path),
      H5Dclose);
  if (total > 0)
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name, path);
}

std::string sanitize(std::string s) {
  for (char& c : s)
    if (c == '/') c = '_';
  return s;
}

// Opens an existing results file read-only.
hid_t open_read(const std::string& path) {
  hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) throw IoError(path + ": cannot open as HDF5");
  return fid;
}

// /tables/<name>/<column>: every cell's rows in (task, replication) order, with `task` and
// `replication` columns, so pandas can build a DataFrame from the 1-D datasets directly.
void write_tables(hid_t f, const Experiment& ex, const Results& res, const std::string& tmp) {
  H group(
      check_id(H5Gcreate2(f, "tables", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group", tmp),
      H5Gclose);
  const std::size_t cells = res.cells.size();
  for (std::size_t t = 0; t < ex.tables.size(); ++t) {
    const TableInfo& info = ex.tables[t];
    H g(check_id(
            H5Gcreate2(group, sanitize(info.name).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "create group", tmp),
        H5Gclose);
    attr_string(g, "description", info.description, tmp);
    std::size_t rows = 0;
    for (std::size_t i = 0; i < cells; ++i)
      if (t < res.tables[i].size()) rows += res.tables[i][t].rows;
    std::vector<long long> task, rep;
    task.reserve(rows);
    rep.reserve(rows);
    for (std::size_t i = 0; i < cells; ++i)
      if (t < res.tables[i].size())
        for (std::size_t r = 0; r < res.tables[i][t].rows; ++r) {
          task.push_back(static_cast<long long>(i / res.replications));
          rep.push_back(static_cast<long long>(i % res.replications));
        }
    auto write_column = [&](const std::string& name, const std::vector<hsize_t>& dims,
                            const void* data, bool integer) {
      H space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
      H dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
      if (dims[0] > 0) {
        std::vector<hsize_t> chunk = dims;
        chunk[0] = std::min<hsize_t>(dims[0], 65536);
        H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
      }
      const hid_t type = integer ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE;
      H d(check_id(H5Dcreate2(g, name.c_str(), integer ? H5T_STD_I64LE : H5T_IEEE_F64LE, space,
                              H5P_DEFAULT, dcpl, H5P_DEFAULT),
                   "create dataset " + name, tmp),
          H5Dclose);
      if (dims[0] > 0)
        check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name, tmp);
    };
    write_column("task", {rows}, task.data(), true);
    write_column("replication", {rows}, rep.data(), true);
    for (std::size_t c = 0; c < info.columns.size(); ++c) {
      const ColumnInfo& col = info.columns[c];
      std::vector<double> v;
      v.reserve(rows * col.width);
      for (std::size_t i = 0; i < cells; ++i)
        if (t < res.tables[i].size() && c < res.tables[i][t].columns.size())
          v.insert(v.end(), res.tables[i][t].columns[c].begin(), res.tables[i][t].columns[c].end());
      std::vector<hsize_t> dims = {rows};
      if (col.width > 1) dims.push_back(col.width);
      const std::string name = sanitize(col.name);
      if (col.integer) {
        // NaN (a value the configuration lacks) becomes -1, the tables' "none" for ids/positions.
        std::vector<long long> iv(v.size());
        for (std::size_t k = 0; k < v.size(); ++k)
          iv[k] = std::isnan(v[k]) ? -1 : static_cast<long long>(v[k]);
        write_column(name, dims, iv.data(), true);
      } else {
        write_column(name, dims, v.data(), false);
      }
      H d(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
      attr_string(d, "units", col.units, tmp);
      attr_string(d, "description", col.description, tmp);
      if (!col.labels.empty()) {
        std::string labels;
        for (const auto& l : col.labels) labels += (labels.empty() ? "" : ",") + l;
        attr_string(d, "labels", labels, tmp);
      }
    }
  }
}

// An offline job's outputs: /metrics/<output> [task, replication, axes...] from the cells'
// layout, and /axes/<axis> [task, extent] with each configuration's coordinates (NaN past its
// own extent).
void write_job_arrays(hid_t f, hid_t metrics, const Experiment& ex, const Results& res,
                      const std::string& tmp) {
  const std::size_t C = ex.configs.size(), R = res.replications;
  for (const ResultArray& a : ex.arrays) {
    const std::size_t n = a.size();
    std::vector<double> buf(C * R * n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < C * R; ++i)
      if (!res.cells[i].empty())
        std::copy_n(res.cells[i].begin() + static_cast<std::ptrdiff_t>(a.offset), n,
                    buf.begin() + static_cast<std::ptrdiff_t>(i * n));
    std::vector<hsize_t> dims = {C, R};
    std::string dimensions = "task, replication";
    for (std::size_t d = 0; d < a.shape.size(); ++d) {
      dims.push_back(a.shape[d]);
      dimensions += ", " + a.axes[d];
    }
    const std::string name = sanitize(a.name);
    write_array(metrics, name, H5T_NATIVE_DOUBLE, dims, buf.data(), tmp, true);
    H d(H5Dopen2(metrics, name.c_str(), H5P_DEFAULT), H5Dclose);
    attr_string(d, "units", a.units, tmp);
    attr_string(d, "description", a.description, tmp);
    attr_string(d, "dimensions", dimensions, tmp);
  }
  if (ex.axes.empty()) return;
  H axes(
      check_id(H5Gcreate2(f, "axes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group", tmp),
      H5Gclose);
  for (const JobAxis& ax : ex.axes) {
    std::size_t extent = 0;
    for (const Config& c : ex.configs)
      for (const JobAxis& x : c.job.axes)
        if (x.name == ax.name) extent = std::max(extent, x.values.size());
    std::vector<double> buf(C * extent, std::numeric_limits<double>::quiet_NaN());
    for (const Config& c : ex.configs)
      for (const JobAxis& x : c.job.axes)
        if (x.name == ax.name)
          std::copy(x.values.begin(), x.values.end(),
                    buf.begin() + static_cast<std::ptrdiff_t>(c.index * extent));
    const std::string name = sanitize(ax.name);
    write_array(axes, name, H5T_NATIVE_DOUBLE, {C, extent}, buf.data(), tmp, false);
    H d(H5Dopen2(axes, name.c_str(), H5P_DEFAULT), H5Dclose);
    attr_string(d, "units", ax.units, tmp);
    attr_string(d, "dimensions", "task, " + ax.name, tmp);
  }
}

}  // namespace

void write_results(const std::string& path, const Experiment& ex, const Results& res,
                   const RunInfo& info) {
  Quiet quiet;
  // The file is built in memory (HDF5's core driver, no backing store) and written out by us:
  // HDF5 never meets a full disk (whose failed close it cannot recover from), and the bytes reach
  // the final name atomically and synced (sim/atomic_file.hpp).
  const std::string& tmp = path;  // names the file in messages
  std::vector<char> image;
  {
    H fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    check(H5Pset_fapl_core(fapl, 4 << 20, /*backing_store=*/0), "set up the in-memory file", path);
    hid_t fid = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fid < 0) throw IoError(path + ": HDF5 cannot create the output file in memory");
    H f(fid, H5Fclose);
    attr_string(f, "format", "stagesim-results-1", tmp);
    attr_string(f, "stagesim_version", kVersion, tmp);
    attr_string(f, "git_commit", kGitCommit, tmp);
    attr_string(f, "experiment_name", ex.name, tmp);
    attr_string(f, "experiment_description", ex.description, tmp);
    attr_string(f, "experiment_path", ex.path, tmp);
    attr_string(f, "experiment_text", ex.text, tmp);
    std::string sets;
    for (const auto& s : ex.set_overrides) sets += (sets.empty() ? "" : "\n") + s;
    attr_string(f, "set_overrides", sets, tmp);
    std::string selected;
    for (const auto& v : ex.variant_filter) selected += (selected.empty() ? "" : "\n") + v;
    attr_string(f, "variants_selected", selected, tmp);
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(ex.hash));
    attr_string(f, "experiment_hash", hash, tmp);
    attr_scalar<unsigned long long>(f, "master_seed", ex.seed, H5T_NATIVE_ULLONG, tmp);
    attr_scalar<long long>(f, "replications", ex.replications, H5T_NATIVE_LLONG, tmp);
    attr_scalar<long long>(f, "checkpoints", ex.checkpoints, H5T_NATIVE_LLONG, tmp);
    attr_string(f, "kind", ex.jobs ? "job" : "simulation", tmp);
    attr_string(f, "start_time", info.start_time, tmp);
    attr_string(f, "end_time", info.end_time, tmp);
    attr_string(f, "host", info.host, tmp);
    attr_scalar<int>(f, "threads", info.threads, H5T_NATIVE_INT, tmp);
    attr_scalar<int>(f, "mpi_ranks", info.ranks, H5T_NATIVE_INT, tmp);
    attr_string(f, "shard", info.shard, tmp);
    // Orders HDF5 does not keep (groups list their members by name): readers show the main
    // series first and the grid axes in the engine's order (tasks enumerate them last fastest).
    std::string names, axes;
    for (const SeriesInfo& s : ex.series)
      names.append(names.empty() ? "" : "\n").append(sanitize(s.name));
    for (const std::string& a : ex.grid_axes)
      axes.append(axes.empty() ? "" : "\n").append(sanitize(a));
    attr_string(f, "series", names, tmp);
    attr_string(f, "grid_axes", axes, tmp);

    const std::size_t C = ex.configs.size(), R = res.replications, P = res.checkpoints;
    std::size_t S = res.series;
    H tasks(check_id(H5Gcreate2(f, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group",
                     tmp),
            H5Gclose);
    std::vector<std::string> variants, resolved, job_types;
    std::vector<long long> horizon;
    for (const Config& c : ex.configs) {
      variants.push_back(c.variant);
      resolved.push_back(c.resolved);
      horizon.push_back(c.horizon);
      job_types.push_back(c.job_type);
    }
    write_strings(tasks, "variant", variants, tmp);
    write_strings(tasks, "resolved", resolved, tmp);
    if (ex.jobs)
      write_strings(tasks, "job", job_types, tmp);
    else
      write_array(tasks, "horizon", H5T_NATIVE_LLONG, {C}, horizon.data(), tmp, false);
    std::vector<unsigned char> done(C * R);
    for (std::size_t i = 0; i < C * R; ++i) done[i] = !res.cells[i].empty();
    write_array(tasks, "done", H5T_NATIVE_UCHAR, {C, R}, done.data(), tmp, false);
    H grid(check_id(H5Gcreate2(tasks, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                    "create group", tmp),
           H5Gclose);
    for (std::size_t a = 0; a < ex.grid_axes.size(); ++a) {
      std::vector<std::string> text;
      std::vector<double> num;
      bool numeric = true;
      for (const Config& c : ex.configs) {
        text.push_back(c.grid[a].second);
        char* end = nullptr;
        double v = std::strtod(c.grid[a].second.c_str(), &end);
        numeric = numeric && end && *end == '\0' && !c.grid[a].second.empty();
        num.push_back(v);
      }
      const std::string name = sanitize(ex.grid_axes[a]);
      if (numeric)
        write_array(grid, name, H5T_NATIVE_DOUBLE, {C}, num.data(), tmp, false);
      else
        write_strings(grid, name, text, tmp);
    }
    H metrics(check_id(H5Gcreate2(f, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       "create group", tmp),
              H5Gclose);
    if (ex.jobs) {
      write_job_arrays(f, metrics, ex, res, tmp);
      S = 0;  // no checkpoint series
    } else {
      std::vector<long long> steps;
      for (const Config& c : ex.configs)
        for (std::int64_t s : c.checkpoint_steps) steps.push_back(s);
      write_array(f, "checkpoints", H5T_NATIVE_LLONG, {C, P}, steps.data(), tmp, false);
    }
    std::vector<double> buf(C * R * P);
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t r = 0; r < R; ++r) {
          const std::vector<double>& cell = res.cell(c, r);
          for (std::size_t p = 0; p < P; ++p)
            buf[(c * R + r) * P + p] =
                cell.empty() ? std::numeric_limits<double>::quiet_NaN() : cell[s * P + p];
        }
      const std::string name = sanitize(ex.series[s].name);
      write_array(metrics, name, H5T_NATIVE_DOUBLE, {C, R, P}, buf.data(), tmp, true);
      H d(H5Dopen2(metrics, name.c_str(), H5P_DEFAULT), H5Dclose);
      attr_string(d, "units", ex.series[s].units, tmp);
      attr_string(d, "description", ex.series[s].description, tmp);
      attr_string(d, "dimensions", "task, replication, checkpoint", tmp);
    }
    if (!ex.tables.empty()) write_tables(f, ex, res, tmp);
    check(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush", tmp);
    const ssize_t size = H5Fget_file_image(f, nullptr, 0);
    if (size < 0) throw IoError(path + ": HDF5 failed to produce the file image");
    image.resize(static_cast<std::size_t>(size));
    if (H5Fget_file_image(f, image.data(), image.size()) != size)
      throw IoError(path + ": HDF5 failed to produce the file image");
  }
  write_file_atomically(path, image);
}

Dataset read_dataset(const std::string& path, const std::string& name) {
  Quiet quiet;
  H f(open_read(path), H5Fclose);
  hid_t did = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  if (did < 0) throw IoError(path + ": no dataset " + name);
  H d(did, H5Dclose);
  H space(H5Dget_space(d), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  Dataset out;
  hsize_t total = 1;
  for (hsize_t x : dims) {
    out.shape.push_back(x);
    total *= x;
  }
  out.values.resize(total);
  if (total > 0 &&
      H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0)
    throw IoError(path + ": cannot read " + name);
  return out;
}

std::string read_string_attribute(const std::string& path, const std::string& name) {
  Quiet quiet;
  H f(open_read(path), H5Fclose);
  hid_t aid = H5Aopen(f, name.c_str(), H5P_DEFAULT);
  if (aid < 0) throw IoError(path + ": no attribute " + name + " (not a stagesim results file?)");
  H a(aid, H5Aclose);
  H t(string_type(), H5Tclose);
  char* p = nullptr;
  if (H5Aread(a, t, &p) < 0) throw IoError(path + ": cannot read attribute " + name);
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

std::optional<std::string> find_string_attribute(const std::string& path, const std::string& name) {
  {
    Quiet quiet;
    H f(open_read(path), H5Fclose);
    if (H5Aexists(f, name.c_str()) <= 0) return std::nullopt;
  }
  return read_string_attribute(path, name);
}

std::uint64_t read_u64_attribute(const std::string& path, const std::string& name) {
  Quiet quiet;
  H f(open_read(path), H5Fclose);
  hid_t aid = H5Aopen(f, name.c_str(), H5P_DEFAULT);
  if (aid < 0) throw IoError(path + ": no attribute " + name + " (not a stagesim results file?)");
  H a(aid, H5Aclose);
  unsigned long long v = 0;
  if (H5Aread(a, H5T_NATIVE_ULLONG, &v) < 0)
    throw IoError(path + ": cannot read attribute " + name);
  return v;
}

std::vector<unsigned char> read_done(const std::string& path) {
  Dataset d = read_dataset(path, "tasks/done");
  std::vector<unsigned char> out;
  for (double v : d.values) out.push_back(v != 0);
  return out;
}

std::vector<std::string> read_string_dataset(const std::string& path, const std::string& name) {
  Quiet quiet;
  H f(open_read(path), H5Fclose);
  hid_t did = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  if (did < 0) throw IoError(path + ": no dataset " + name);
  H d(did, H5Dclose);
  H space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  std::vector<char*> ptrs(n, nullptr);
  H t(string_type(), H5Tclose);
  if (n > 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    throw IoError(path + ": cannot read " + name);
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  if (n > 0) H5Dvlen_reclaim(t, space, H5P_DEFAULT, ptrs.data());
  return out;
}

std::vector<std::string> list_metrics(const std::string& path) {
  Quiet quiet;
  H f(open_read(path), H5Fclose);
  H g(H5Gopen2(f, "metrics", H5P_DEFAULT), H5Gclose);
  std::vector<std::string> names;
  H5Literate(
      g, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* n, const H5L_info_t*, void* op) -> herr_t {
        static_cast<std::vector<std::string>*>(op)->push_back(n);
        return 0;
      },
      &names);
  return names;
}

}  // namespace stagesim
