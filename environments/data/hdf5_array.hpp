#pragma once
// Named 2-D float datasets in HDF5 files (C API): our preferred format for tabular worlds
// (`q`, optional `sigma`). From Python:
//   import h5py, numpy as np; h5py.File("world.h5", "a")["q"] = np.load("q.npy")
#include <cstdint>
#include <filesystem>
#include <string>

#include "environments/data/dense_matrix.hpp"

namespace stagesim::data {

// True if `file` exists, is HDF5 and holds a dataset at path `dataset` ("q", "worlds/a/q").
bool hdf5_has_dataset(const std::filesystem::path& file, const std::string& dataset);

// Reads a rank-2 dataset of float or integer type, converted to T (float or double).
// DataError when the file or dataset is missing, the rank is not 2 or the type is not numeric.
template <class T>
DenseMatrix<T> read_hdf5_matrix(const std::filesystem::path& file, const std::string& dataset);

// As ReadHdf5Matrix, but only the first `max_cols` columns (all when <= 0), read as a hyperslab.
template <class T>
DenseMatrix<T> read_hdf5_matrix_columns(const std::filesystem::path& file, const std::string& dataset,
                                     std::int64_t max_cols);

// Writes `m` as a rank-2 dataset of T (float32/float64), creating the file and intermediate groups
// as needed and replacing an existing dataset of that name. DataError on failure.
template <class T>
void write_hdf5_matrix(const std::filesystem::path& file, const std::string& dataset,
                     const DenseMatrix<T>& m);

}  // namespace stagesim::data
