#include "sim/world_export.hpp"

#include <hdf5.h>

#include <filesystem>

#include "environments/data/data_error.hpp"
#include "environments/data/hdf5_array.hpp"
#include "sim/errors.hpp"
#include "stagesim_version.hpp"

namespace stagesim {
namespace {

data::DenseMatrix<double> to_dense(const RowMatrix& m) {
  data::DenseMatrix<double> d(m.rows(), m.cols());
  std::copy(m.data(), m.data() + m.size(), d.values.begin());
  return d;
}

// Root attributes describing where the tables came from (provenance; readers need only q/sigma).
void write_attributes(const std::string& file, const Experiment& ex, const Config& c,
                      std::int64_t replication) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) throw IoError(file + ": cannot reopen the HDF5 file to add attributes");
  bool ok = true;
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  auto text = [&](const char* name, const std::string& v) {
    const hid_t a = H5Acreate2(f, name, str, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char* p = v.c_str();
    ok = ok && a >= 0 && H5Awrite(a, str, &p) >= 0;
    if (a >= 0) H5Aclose(a);
  };
  auto integer = [&](const char* name, std::int64_t v) {
    const hid_t a = H5Acreate2(f, name, H5T_NATIVE_INT64, scalar, H5P_DEFAULT, H5P_DEFAULT);
    ok = ok && a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0;
    if (a >= 0) H5Aclose(a);
  };
  text("format", "stagesim-tabular-world-v1");
  text("stagesim_version", std::string(kVersion) + " (git " + kGitCommit + ")");
  text("world_type", c.world_type);
  text("resolved", c.resolved);
  text("experiment_file", ex.path);
  integer("task", static_cast<std::int64_t>(c.index));
  integer("replication", replication);
  integer("master_seed", static_cast<std::int64_t>(ex.seed));
  H5Sclose(scalar);
  H5Tclose(str);
  if (H5Fclose(f) < 0) ok = false;
  if (!ok) throw IoError(file + ": cannot write attributes (disk full or not writable?)");
}

}  // namespace

ExportedWorld export_world(const Experiment& ex, std::size_t task, std::int64_t replication,
                           const std::string& out) {
  if (task >= ex.configs.size())
    throw ConfigError("--task " + std::to_string(task) + " is out of range: " + ex.path + " has " +
                      std::to_string(ex.configs.size()) + " tasks (0.." +
                      std::to_string(ex.configs.size() - 1) + "; see `stagesim check`)");
  if (replication < 0 || replication >= ex.replications)
    throw ConfigError("--replication " + std::to_string(replication) +
                      " is out of range: " + ex.path + " has " + std::to_string(ex.replications) +
                      " replications (0.." + std::to_string(ex.replications - 1) + ")");
  const Config& c = ex.configs[task];
  const StreamKey key{ex.seed, c.world_scope, static_cast<std::uint64_t>(replication)};
  const std::unique_ptr<World> world = c.world.make(key);
  const World::Tables t = world->tables();
  if (!t.q)
    throw ConfigError(ex.path + ": world type '" + c.world_type + "' (task " +
                      std::to_string(task) +
                      ") has no fixed users × items reward table: its "
                      "expected rewards are drawn per request; export-world works for worlds "
                      "with a table, e.g. type = \"tabular\" or \"kuairec\"");
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string tmp = out + ".tmp";
  std::filesystem::remove(tmp, ec);
  try {
    data::write_hdf5_matrix<double>(tmp, "q", to_dense(*t.q));
    if (t.sigma) data::write_hdf5_matrix<double>(tmp, "sigma", to_dense(*t.sigma));
    if (t.score) data::write_hdf5_matrix<double>(tmp, "score", to_dense(*t.score));
  } catch (const data::DataError& e) {
    std::filesystem::remove(tmp, ec);
    throw IoError(out + ": " + e.what());
  }
  try {
    write_attributes(tmp, ex, c, replication);
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    throw IoError(out + ": cannot move the finished file into place (" + why + ")");
  }
  return {t.q->rows(), t.q->cols(), t.sigma != nullptr};
}

}  // namespace stagesim
