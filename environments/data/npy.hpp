#pragma once
// NumPy .npy files: reader (format versions 1, 2 and 3; C order; little-endian numeric dtypes) and
// writer (version 1, or 2 when the header needs it), so that worlds can be exchanged with Python:
//   numpy.load("q.npy")            reads what WriteNpy wrote;
//   numpy.save("q.npy", q)         writes what ReadNpy reads (use np.ascontiguousarray for views).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "environments/data/data_error.hpp"
#include "environments/data/dense_matrix.hpp"

namespace stagesim::data {

// Supported element types. kBool is stored as one byte per element (0 or 1).
enum class DType { kFloat32, kFloat64, kInt32, kInt64, kUInt8, kBool };

std::string_view dtype_descr(DType t);  // "<f4", "<f8", "<i4", "<i8", "|u1", "|b1"
std::size_t dtype_size(DType t);

struct NpyArray {
  using Storage = std::variant<std::vector<float>, std::vector<double>, std::vector<std::int32_t>,
                               std::vector<std::int64_t>, std::vector<std::uint8_t>>;

  DType dtype = DType::kFloat64;
  std::vector<std::int64_t> shape;  // empty for a 0-d array (one element)
  Storage data;                     // the vector type matching dtype (uint8 for kBool)
  std::string source;               // file (and member) name, for error messages

  std::int64_t size() const;  // number of elements
  int rank() const { return static_cast<int>(shape.size()); }

  // The stored vector, when T is exactly the storage type (uint8_t for kBool); DataError otherwise.
  template <class T>
  const std::vector<T>& get() const;

  // Element-wise conversion to T (float, double, int32_t, int64_t, uint8_t). Converting floats
  // to an integer type requires integral, in-range values; DataError otherwise.
  template <class T>
  std::vector<T> as() const;
};

// Reads a .npy file. DataError on a bad magic/header, unsupported dtype (e.g. '>f8', '<c16',
// structured), Fortran order, truncated data or trailing bytes.
NpyArray read_npy(const std::filesystem::path& path);

// Parses a .npy image held in memory (an .npz member); `name` is used in error messages.
NpyArray parse_npy(std::span<const unsigned char> bytes, const std::string& name);

// The text of a 0-d or one-element string array ('|S<n>' bytes or '<U<n>' ASCII unicode), as
// SciPy stores the `format` member of save_npz files.
std::string parse_npy_string(std::span<const unsigned char> bytes, const std::string& name);

// A rank-2 array as a dense matrix of T (DataError for another rank).
template <class T>
DenseMatrix<T> npy_to_matrix(const NpyArray& a);
template <class T>
DenseMatrix<T> read_npy_matrix(const std::filesystem::path& path);

// The first `max_cols` columns (all when <= 0) of a rank-2 .npy file as T (float or double),
// read in row chunks so that peak memory is the result: keeping 400 of 768 float32 columns of a
// 1.2 M-row embedding file never holds the whole file. DataError as for ReadNpy.
template <class T>
DenseMatrix<T> read_npy_matrix_columns(const std::filesystem::path& path, std::int64_t max_cols);

// Writes a C-order array of the given shape; T is float, double, int32_t, int64_t or uint8_t
// (pass as_bool to write uint8 data with dtype '|b1'). DataError when the file cannot be written
// or the shape does not match the number of values.
template <class T>
void write_npy(const std::filesystem::path& path, std::span<const T> values,
              std::span<const std::int64_t> shape, bool as_bool = false);
// The .npy image WriteNpy would write, in memory (for .npz members).
template <class T>
std::vector<unsigned char> encode_npy(std::span<const T> values, std::span<const std::int64_t> shape,
                                     bool as_bool = false);
// A 0-d '<U<n>' array holding ASCII `text`, as numpy.save writes np.array("csr").
std::vector<unsigned char> encode_npy_string(std::string_view text);
template <class T>
void write_npy(const std::filesystem::path& path, const DenseMatrix<T>& m) {
  const std::int64_t shape[2] = {m.rows, m.cols};
  write_npy<T>(path, std::span<const T>(m.values), std::span<const std::int64_t>(shape, 2));
}

}  // namespace stagesim::data
