#include "environments/multilabel_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "environments/data/hdf5_array.hpp"
#include "environments/data/npy.hpp"
#include "environments/data/npz.hpp"
#include "environments/data/xc_text.hpp"
#include "environments/data_source.hpp"

namespace stagesim {
namespace {

bool is_hdf5_name(const std::string& ext) {
  return ext == ".h5" || ext == ".hdf5";
}

data::DenseMatrix<float> read_features(const MultilabelFiles& f) {
  const std::string ext = extension_of(f.features);
  data::DenseMatrix<float> m;
  std::int64_t available = 0;
  if (ext == ".npy") {
    m = data::read_npy_matrix_columns<float>(f.features, f.feature_dims);
    available = m.cols;
  } else if (ext == ".npz") {
    data::NpzFile npz(f.features);
    std::string member = f.features_dataset;
    if (member.empty()) {
      const auto names = npz.names();
      if (names.size() != 1) {
        std::string have;
        for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
        throw data::DataError(
            f.features, "archive holds " + std::to_string(names.size()) + " arrays (" + have + ")",
            "name the feature matrix with features_dataset");
      }
      member = names.front();
    }
    m = data::npy_to_matrix<float>(npz.read(member));
    available = m.cols;
    m = LeadingColumns(std::move(m), f.feature_dims);
  } else {
    m = data::read_hdf5_matrix_columns<float>(
        f.features, f.features_dataset.empty() ? "features" : f.features_dataset, f.feature_dims);
    available = m.cols;
  }
  if (f.feature_dims > 0 && available < f.feature_dims)
    throw data::DataError(f.features,
                          "has " + std::to_string(available) + " feature columns but " +
                              std::to_string(f.feature_dims) + " were asked for",
                          "lower feature_dims or use the full embedding file");
  if (m.rows == 0 || m.cols == 0)
    throw data::DataError(f.features, "the feature matrix is empty",
                          "store one row per product and at least one column");
  for (float v : m.values)
    if (!std::isfinite(v))
      throw data::DataError(f.features, "the feature matrix holds a non-finite value",
                            "replace NaN/inf entries before loading");
  return m;
}

void read_labels(const MultilabelFiles& f, RawMultilabel& raw) {
  if (extension_of(f.labels) == ".npz") {
    const data::CsrMatrix csr = data::read_scipy_csr(f.labels);
    raw.num_labels = csr.cols;
    std::vector<std::int32_t> row;
    for (std::int64_t i = 0; i < csr.rows; ++i) {
      row.clear();
      const auto idx = csr.row_indices(i);
      const auto val = csr.row_data(i);
      for (std::size_t k = 0; k < idx.size(); ++k)
        if (val[k] != 0) row.push_back(idx[k]);  // explicit zeros are not labels
      raw.labels.push_back(row);
    }
  } else {
    data::XcDataset xc = data::read_xc_text(f.labels, /*keep_features=*/false);
    raw.num_labels = xc.num_labels;
    raw.labels = std::move(xc.labels);
  }
}

}  // namespace

data::DenseMatrix<float> LeadingColumns(data::DenseMatrix<float> m, std::int64_t dims) {
  if (dims <= 0 || dims >= m.cols) return m;
  data::DenseMatrix<float> out(m.rows, dims);
  for (std::int64_t r = 0; r < m.rows; ++r) std::copy(m.row(r), m.row(r) + dims, &out(r, 0));
  return out;
}

RawMultilabel ReadMultilabelFiles(const MultilabelFiles& files) {
  RawMultilabel raw;
  raw.features = read_features(files);
  read_labels(files, raw);
  if (raw.labels.size() != raw.features.rows)
    throw data::DataError(files.labels,
                          "has " + std::to_string(raw.labels.size()) + " products but " +
                              files.features + " has " + std::to_string(raw.features.rows) +
                              " feature rows",
                          "use label and feature files of the same split, rows in the same order");
  return raw;
}

MultilabelData PrepareMultilabel(RawMultilabel raw, const data::CategorySelection& selection) {
  MultilabelData d;
  d.categories = data::select_categories(raw.labels, raw.num_labels, selection);
  d.stats = data::compute_label_stats(d.categories);
  d.features = std::move(raw.features);
  return d;
}

void WriteMultilabelFiles(const RawMultilabel& raw, const std::string& features_path,
                          const std::string& labels_path) {
  const std::string fext = extension_of(features_path);
  if (fext == ".npy") {
    data::write_npy<float>(features_path, raw.features);
  } else if (is_hdf5_name(fext)) {
    std::error_code ec;
    std::filesystem::remove(features_path, ec);  // a fresh file, not a dataset added to an old one
    data::write_hdf5_matrix<float>(features_path, "features", raw.features);
  } else {
    throw data::DataError(features_path, "unsupported feature file extension '" + fext + "'",
                          "use .npy, .h5 or .hdf5");
  }
  if (extension_of(labels_path) == ".npz") {
    data::CsrMatrix m;
    m.rows = raw.labels.size();
    m.cols = raw.num_labels;
    m.indptr.assign(raw.labels.offsets.begin(), raw.labels.offsets.end());
    m.indices.assign(raw.labels.ids.begin(), raw.labels.ids.end());
    m.data.assign(m.indices.size(), 1.0);
    data::write_scipy_csr(labels_path, m);
    return;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(labels_path.c_str(), "w"),
                                                    &std::fclose);
  if (!f)
    throw data::DataError(labels_path, "cannot create file",
                          "check that the directory exists and is writable");
  bool ok = std::fprintf(f.get(), "%lld %lld %lld\n", static_cast<long long>(raw.features.rows),
                         static_cast<long long>(raw.features.cols),
                         static_cast<long long>(raw.num_labels)) > 0;
  for (std::int64_t p = 0; ok && p < raw.labels.size(); ++p) {
    const auto labels = raw.labels[p];
    for (std::size_t k = 0; k < labels.size(); ++k)
      std::fprintf(f.get(), k ? ",%d" : "%d", labels[k]);
    // Features always follow, so a product without labels is a line starting with a space.
    for (std::int64_t c = 0; c < raw.features.cols; ++c)
      std::fprintf(f.get(), " %lld:%.9g", static_cast<long long>(c), raw.features(p, c));
    ok = std::fputc('\n', f.get()) != EOF;
  }
  if (std::fclose(f.release()) != 0 || !ok)
    throw data::DataError(labels_path, "write failed", "check the free disk space");
}

}  // namespace stagesim
