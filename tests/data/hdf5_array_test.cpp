#include "environments/data/hdf5_array.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>
#include <string>

#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

using testing::DataErrorOf;
using testing::ExpectMessage;

DenseMatrix<double> Sample(int rows, int cols) {
  DenseMatrix<double> m(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) m(r, c) = r * 10 + c + 0.125;
  }
  return m;
}

TEST(Hdf5Array, WriteReadRoundTrip) {
  const auto file = testing::TempDir() / "world.h5";
  const DenseMatrix<double> q = Sample(3, 4);
  write_hdf5_matrix(file, "q", q);
  DenseMatrix<float> sigma(3, 4, 0.5f);
  write_hdf5_matrix(file, "worlds/a/sigma", sigma);  // intermediate groups created
  EXPECT_TRUE(hdf5_has_dataset(file, "q"));
  EXPECT_TRUE(hdf5_has_dataset(file, "worlds/a/sigma"));
  EXPECT_FALSE(hdf5_has_dataset(file, "worlds"));  // a group, not a dataset
  EXPECT_FALSE(hdf5_has_dataset(file, "worlds/b/q"));
  EXPECT_FALSE(hdf5_has_dataset(testing::TempDir() / "none.h5", "q"));

  const DenseMatrix<double> back = read_hdf5_matrix<double>(file, "q");
  EXPECT_EQ(back.rows, 3);
  EXPECT_EQ(back.cols, 4);
  EXPECT_EQ(back.values, q.values);
  const DenseMatrix<float> backf = read_hdf5_matrix<float>(file, "q");
  EXPECT_EQ(backf(2, 3), 23.125f);
  const DenseMatrix<double> s = read_hdf5_matrix<double>(file, "worlds/a/sigma");
  EXPECT_EQ(s(1, 1), 0.5);

  // Replacing a dataset with one of another shape.
  write_hdf5_matrix(file, "q", Sample(2, 2));
  const DenseMatrix<double> q2 = read_hdf5_matrix<double>(file, "q");
  EXPECT_EQ(q2.rows, 2);
  EXPECT_EQ(q2(1, 1), 11.125);
  EXPECT_TRUE(hdf5_has_dataset(file, "worlds/a/sigma"));
}

TEST(Hdf5Array, Errors) {
  const auto dir = testing::TempDir();
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(dir / "missing.h5", "q"); }),
                {"missing.h5", "file not found"});
  std::ofstream(dir / "text.h5") << "not hdf5\n";
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(dir / "text.h5", "q"); }),
                {"text.h5", "not an HDF5 file"});
  ExpectMessage(DataErrorOf([&] { write_hdf5_matrix(dir / "text.h5", "q", Sample(1, 1)); }),
                {"text.h5", "not an HDF5 file"});
  const auto file = dir / "w.h5";
  write_hdf5_matrix(file, "q", Sample(2, 3));
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(file, "sigma"); }),
                {"w.h5", "no dataset 'sigma'", "h5ls"});
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(file, "a/b/c"); }),
                {"w.h5", "no dataset 'a/b/c'"});
  {  // A rank-1 dataset and a string dataset written with the C API.
    hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    hsize_t n = 5;
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t d = H5Dcreate2(f, "vec", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    hsize_t dims[2] = {1, 1};
    hid_t space2 = H5Screate_simple(2, dims, nullptr);
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 8);
    d = H5Dcreate2(f, "text", str, space2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Tclose(str);
    H5Sclose(space2);
    H5Sclose(space);
    H5Fclose(f);
  }
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(file, "vec"); }),
                {"w.h5", "'vec' has rank 1, expected 2"});
  ExpectMessage(DataErrorOf([&] { read_hdf5_matrix<double>(file, "text"); }),
                {"w.h5", "'text' is not numeric"});
  ExpectMessage(DataErrorOf([&] { write_hdf5_matrix(dir / "no" / "dir.h5", "q", Sample(1, 1)); }),
                {"dir.h5", "cannot open the HDF5 file for writing"});
}

}  // namespace
}  // namespace stagesim::data
