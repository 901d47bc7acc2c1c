#include "environments/data/hdf5_array.hpp"

#include <hdf5.h>

#include <type_traits>
#include <utility>

#include "environments/data/data_error.hpp"
#include "environments/data/hdf5_handle.hpp"

namespace stagesim::data {
namespace {

template <class T>
hid_t mem_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  return std::is_same_v<T, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

// True if every group on the way to `dataset` exists and the link itself exists.
bool link_exists(hid_t file, const std::string& dataset) {
  std::size_t pos = 0;
  while (true) {
    pos = dataset.find('/', pos + 1);
    std::string prefix = dataset.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

}  // namespace

bool hdf5_has_dataset(const std::filesystem::path& file, const std::string& dataset) {
  Hdf5QuietErrors quiet;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return false;
  if (H5Fis_hdf5(file.string().c_str()) <= 0) return false;
  Hdf5Handle f(H5Fopen(file.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok() || !link_exists(f.get(), dataset)) return false;
  Hdf5Handle d(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  return d.ok();
}

template <class T>
DenseMatrix<T> read_hdf5_matrix(const std::filesystem::path& file, const std::string& dataset) {
  return read_hdf5_matrix_columns<T>(file, dataset, 0);
}

template <class T>
DenseMatrix<T> read_hdf5_matrix_columns(const std::filesystem::path& file, const std::string& dataset,
                                     std::int64_t max_cols) {
  Hdf5QuietErrors quiet;
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw DataError(name, "file not found", "check the path of the HDF5 file");
  }
  if (H5Fis_hdf5(name.c_str()) <= 0) {
    throw DataError(name, "not an HDF5 file",
                    "convert it (see hdf5_array.hpp) or pass an .h5 file");
  }
  Hdf5Handle f(H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) throw DataError(name, "cannot open the HDF5 file", "check the file and permissions");
  if (!link_exists(f.get(), dataset)) {
    throw DataError(name, "no dataset '" + dataset + "'",
                    "list the datasets with `h5ls -r " + name + "` and pass an existing one");
  }
  Hdf5Handle d(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.ok()) throw DataError(name, "'" + dataset + "' is not a dataset", "pass a dataset path");
  Hdf5Handle type(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    throw DataError(name, "dataset '" + dataset + "' is not numeric",
                    "store the matrix as float32 or float64");
  }
  Hdf5Handle space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank != 2) {
    throw DataError(name,
                    "dataset '" + dataset + "' has rank " + std::to_string(rank) + ", expected 2",
                    "store a [rows, cols] matrix");
  }
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (max_cols > 0 && static_cast<hsize_t>(max_cols) < dims[1])
    dims[1] = static_cast<hsize_t>(max_cols);
  DenseMatrix<T> m(static_cast<std::int64_t>(dims[0]), static_cast<std::int64_t>(dims[1]));
  if (m.values.empty()) return m;
  // A hyperslab of the leading columns: HDF5 reads only what is kept.
  const hsize_t start[2] = {0, 0};
  if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, dims, nullptr) < 0) {
    throw DataError(name, "cannot select columns of dataset '" + dataset + "'",
                    "the file may be corrupt");
  }
  Hdf5Handle mem(H5Screate_simple(2, dims, nullptr), H5Sclose);
  if (H5Dread(d.get(), mem_type<T>(), mem.get(), space.get(), H5P_DEFAULT, m.values.data()) < 0) {
    throw DataError(name, "failed to read dataset '" + dataset + "'", "the file may be corrupt");
  }
  return m;
}

template <class T>
void write_hdf5_matrix(const std::filesystem::path& file, const std::string& dataset,
                     const DenseMatrix<T>& m) {
  Hdf5QuietErrors quiet;
  const std::string name = file.string();
  std::error_code ec;
  const bool exists = std::filesystem::exists(file, ec);
  hid_t fid = -1;
  if (exists) {
    if (H5Fis_hdf5(name.c_str()) <= 0) {
      throw DataError(name, "exists and is not an HDF5 file", "choose another output path");
    }
    fid = H5Fopen(name.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  } else {
    fid = H5Fcreate(name.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  }
  Hdf5Handle f(fid, H5Fclose);
  if (!f.ok()) {
    throw DataError(name, "cannot open the HDF5 file for writing",
                    "check that the directory exists and is writable");
  }
  if (link_exists(f.get(), dataset) && H5Ldelete(f.get(), dataset.c_str(), H5P_DEFAULT) < 0) {
    throw DataError(name, "cannot replace '" + dataset + "'", "remove it or use another name");
  }
  hsize_t dims[2] = {static_cast<hsize_t>(m.rows), static_cast<hsize_t>(m.cols)};
  Hdf5Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
  Hdf5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hdf5Handle d(H5Dcreate2(f.get(), dataset.c_str(), mem_type<T>(), space.get(), lcpl.get(),
                          H5P_DEFAULT, H5P_DEFAULT),
               H5Dclose);
  if (!d.ok()) throw DataError(name, "cannot create dataset '" + dataset + "'", "check the name");
  if (!m.values.empty() &&
      H5Dwrite(d.get(), mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, m.values.data()) < 0) {
    throw DataError(name, "failed to write dataset '" + dataset + "'", "check the free disk space");
  }
}

template DenseMatrix<float> read_hdf5_matrix<float>(const std::filesystem::path&, const std::string&);
template DenseMatrix<double> read_hdf5_matrix<double>(const std::filesystem::path&,
                                                    const std::string&);
template DenseMatrix<float> read_hdf5_matrix_columns<float>(const std::filesystem::path&,
                                                         const std::string&, std::int64_t);
template DenseMatrix<double> read_hdf5_matrix_columns<double>(const std::filesystem::path&,
                                                           const std::string&, std::int64_t);
template void write_hdf5_matrix<float>(const std::filesystem::path&, const std::string&,
                                     const DenseMatrix<float>&);
template void write_hdf5_matrix<double>(const std::filesystem::path&, const std::string&,
                                      const DenseMatrix<double>&);

}  // namespace stagesim::data
