#pragma once
// A dense row-major matrix owned by a std::vector; Eigen views are provided for the numerics.
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace stagesim::data {

template <class T>
struct DenseMatrix {
  using EigenType = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<T> values;  // rows * cols, row-major

  DenseMatrix() = default;
  DenseMatrix(std::int64_t r, std::int64_t c, T fill = T{})
      : rows(r), cols(c), values(static_cast<std::size_t>(r * c), fill) {}

  T& operator()(std::int64_t r, std::int64_t c) {
    return values[static_cast<std::size_t>(r * cols + c)];
  }
  const T& operator()(std::int64_t r, std::int64_t c) const {
    return values[static_cast<std::size_t>(r * cols + c)];
  }
  const T* row(std::int64_t r) const { return values.data() + r * cols; }

  Eigen::Map<EigenType> eigen() { return Eigen::Map<EigenType>(values.data(), rows, cols); }
  Eigen::Map<const EigenType> eigen() const {
    return Eigen::Map<const EigenType>(values.data(), rows, cols);
  }
};

}  // namespace stagesim::data
