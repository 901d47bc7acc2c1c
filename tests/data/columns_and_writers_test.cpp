// Leading-column reads (.npy row chunks, HDF5 hyperslabs), the labels-only XC read, and the .npz /
// SciPy CSR writers (round trips through our readers and, when available, SciPy).
#include <cstdlib>

#include "environments/data/hdf5_array.hpp"
#include "environments/data/npy.hpp"
#include "environments/data/npz.hpp"
#include "environments/data/xc_text.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

using testing::DataErrorOf;
using testing::Fixture;
using testing::TempDir;

TEST(NpyColumns, LeadingColumnsOfEveryDtype) {
  for (const char* f : {"amazoncat/embeddings_f4.npy", "amazoncat/embeddings_f8_v2.npy",
                        "amazoncat/embeddings_f8_v3.npy", "amazoncat/ids_i8.npy"}) {
    SCOPED_TRACE(f);
    const DenseMatrix<double> all = read_npy_matrix<double>(Fixture(f));
    for (std::int64_t keep : {0, 1, 2, 100}) {
      const DenseMatrix<float> m = read_npy_matrix_columns<float>(Fixture(f), keep);
      const std::int64_t cols = keep <= 0 ? all.cols : std::min(keep, all.cols);
      ASSERT_EQ(m.rows, all.rows);
      ASSERT_EQ(m.cols, cols);
      for (std::int64_t r = 0; r < m.rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) EXPECT_EQ(m(r, c), static_cast<float>(all(r, c)));
    }
  }
  // A file larger than one read chunk (4 MiB): 3000 rows x 400 float64.
  DenseMatrix<double> big(3000, 400);
  for (std::size_t i = 0; i < big.values.size(); ++i) big.values[i] = static_cast<double>(i) * 0.5;
  write_npy<double>(TempDir() / "big.npy", big);
  const DenseMatrix<double> m = read_npy_matrix_columns<double>(TempDir() / "big.npy", 3);
  ASSERT_EQ(m.cols, 3);
  EXPECT_EQ(m(2999, 2), big(2999, 2));
  EXPECT_EQ(m(1234, 0), big(1234, 0));
}

TEST(NpyColumns, ErrorsNameTheFile) {
  for (const char* f : {"malformed/truncated.npy", "malformed/trailing_bytes.npy",
                        "malformed/bad_magic.npy", "malformed/big_endian.npy",
                        "malformed/fortran.npy", "amazoncat/cube_f8.npy", "amazoncat/ids_i4.npy"}) {
    SCOPED_TRACE(f);
    const std::string m = DataErrorOf([&] { read_npy_matrix_columns<float>(Fixture(f), 2); });
    EXPECT_NE(m.find(Fixture(f).string()), std::string::npos) << m;
  }
}

TEST(Hdf5Columns, HyperslabOfTheLeadingColumns) {
  DenseMatrix<double> a(5, 7);
  for (std::size_t i = 0; i < a.values.size(); ++i) a.values[i] = static_cast<double>(i);
  write_hdf5_matrix<double>(TempDir() / "a.h5", "x/features", a);
  const DenseMatrix<float> m = read_hdf5_matrix_columns<float>(TempDir() / "a.h5", "x/features", 3);
  ASSERT_EQ(m.rows, 5);
  ASSERT_EQ(m.cols, 3);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(m(r, c), static_cast<float>(a(r, c)));
  EXPECT_EQ(read_hdf5_matrix_columns<double>(TempDir() / "a.h5", "x/features", 0).values, a.values);
  EXPECT_EQ(read_hdf5_matrix_columns<double>(TempDir() / "a.h5", "x/features", 99).cols, 7);
  EXPECT_NE(DataErrorOf([&] {
              read_hdf5_matrix_columns<float>(TempDir() / "a.h5", "nope", 2);
            }).find("nope"),
            std::string::npos);
}

TEST(XcLabelsOnly, SameLabelsNoFeatureStorage) {
  const XcDataset full = read_xc_text(Fixture("amazoncat/train.txt"));
  const XcDataset labels = read_xc_text(Fixture("amazoncat/train.txt"), /*keep_features=*/false);
  EXPECT_EQ(labels.labels.ids, full.labels.ids);
  EXPECT_EQ(labels.labels.offsets, full.labels.offsets);
  EXPECT_EQ(labels.num_labels, full.num_labels);
  EXPECT_EQ(labels.features.rows, full.features.rows);
  EXPECT_EQ(labels.features.nnz(), 0);
  EXPECT_NO_THROW(validate_csr(labels.features, "x"));
  // Malformed features are still reported.
  EXPECT_NE(DataErrorOf([] {
              read_xc_text(Fixture("malformed/amazoncat_feature_out_of_range.txt"), false);
            }).find("amazoncat_feature_out_of_range.txt:"),
            std::string::npos);
}

TEST(NpzWriter, CsrRoundTripAndStrings) {
  CsrMatrix m;
  m.rows = 4;
  m.cols = 6;
  m.indptr = {0, 2, 2, 5, 6};
  m.indices = {1, 4, 0, 2, 5, 3};
  m.data = {1, 2, 3, 4, 5, 6};
  const auto path = TempDir() / "m.npz";
  write_scipy_csr(path, m);
  const CsrMatrix back = read_scipy_csr(path);
  EXPECT_EQ(back.rows, 4);
  EXPECT_EQ(back.cols, 6);
  EXPECT_EQ(back.indptr, m.indptr);
  EXPECT_EQ(back.indices, m.indices);
  EXPECT_EQ(back.data, m.data);
  EXPECT_EQ(NpzFile(path).read_string("format"), "csr");
  EXPECT_EQ(parse_npy_string(encode_npy_string("abc"), "mem"), "abc");
  CsrMatrix bad = m;
  bad.indices[0] = 9;  // invalid input is rejected before writing
  EXPECT_FALSE(DataErrorOf([&] { write_scipy_csr(TempDir() / "bad.npz", bad); }).empty());
  const std::string& py = testing::PythonWithScipy();
  if (py.empty()) GTEST_SKIP() << "no python3 with scipy";
  const std::string cmd = py + " -c \"import scipy.sparse as s; m = s.load_npz('" + path.string() +
                          "'); assert m.format == 'csr' and m.shape == (4, 6); "
                          "assert m.toarray()[2].tolist() == [3, 0, 4, 0, 0, 5]\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace stagesim::data
