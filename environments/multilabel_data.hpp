#pragma once
// Multi-label product data for the two-stage bandit world (two-stage-bandits spec §6.2): a dense
// feature matrix (one row per product) and each product's label set. Read from files (features:
// .npy / .npz member / HDF5 dataset; labels: Extreme Classification text or a SciPy CSR .npz) or
// generated (synthetic_multilabel.hpp), then reduced to the kept categories with the paper's
// statistics.
#include <cstdint>
#include <string>

#include "environments/data/dense_matrix.hpp"
#include "environments/data/multilabel.hpp"
#include "environments/data/sparse.hpp"

namespace stagesim {

// Products before category selection.
struct RawMultilabel {
  data::DenseMatrix<float> features;  // products × feature columns (already cut to the kept ones)
  data::IdLists labels;               // per product: original label ids in [0, num_labels)
  std::int64_t num_labels = 0;
};

// Products after category selection: what the world serves from.
struct MultilabelData {
  data::DenseMatrix<float> features;
  data::CategoryRemap categories;  // labels per product as kept ids (ascending), frequencies
  data::LabelStats stats;
};

struct MultilabelFiles {
  std::string features;           // .npy, .npz or HDF5
  std::string features_dataset;   // .npz member / HDF5 dataset; "" = the only .npz member, or
                                  // the HDF5 dataset "features"
  std::int64_t feature_dims = 0;  // keep the first this many columns; 0 = all
  std::string labels;             // .npz (SciPy CSR, products × labels) or XC text
};

// Reads both files; DataError (naming the file) on malformed data, too few feature columns, or
// product counts that differ between the two files.
RawMultilabel ReadMultilabelFiles(const MultilabelFiles& files);

// The first `dims` columns of `m` (all when dims <= 0 or >= m.cols).
data::DenseMatrix<float> LeadingColumns(data::DenseMatrix<float> m, std::int64_t dims);

// Keeps the categories ranked selection.first_rank.. by frequency and computes the statistics.
MultilabelData PrepareMultilabel(RawMultilabel raw, const data::CategorySelection& selection);

// Writes features (.npy, or HDF5 dataset "features" for .h5/.hdf5) and labels (SciPy CSR .npz, or
// XC text for any other extension, features included as idx:value) so the file path can be
// exercised on generated data and the data read from Python. DataError on failure.
void WriteMultilabelFiles(const RawMultilabel& raw, const std::string& features_path,
                          const std::string& labels_path);

}  // namespace stagesim
