#pragma once
// Row-compressed sparse structures shared by the readers: a CSR matrix with values (features,
// SciPy matrices) and ragged id lists (labels per product, tags per video, friends per user).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace stagesim::data {

// Compressed sparse rows. Row i holds entries [indptr[i], indptr[i+1]).
struct CsrMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> indptr{0};  // rows + 1 entries
  std::vector<std::int32_t> indices;    // column of each entry
  std::vector<double> data;             // value of each entry

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::span<const std::int32_t> row_indices(std::int64_t i) const {
    return {indices.data() + indptr[i], static_cast<std::size_t>(indptr[i + 1] - indptr[i])};
  }
  std::span<const double> row_data(std::int64_t i) const {
    return {data.data() + indptr[i], static_cast<std::size_t>(indptr[i + 1] - indptr[i])};
  }
};

// Checks the CSR invariants (indptr of length rows+1 starting at 0, non-decreasing, ending at nnz;
// indices in [0, cols); data and indices of equal length). Throws DataError naming `file`.
void validate_csr(const CsrMatrix& m, const std::string& file);

// Ragged lists of ids: list i is ids[offsets[i] .. offsets[i+1]).
struct IdLists {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> ids;

  std::int64_t size() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
  std::span<const std::int32_t> operator[](std::int64_t i) const {
    return {ids.data() + offsets[i], static_cast<std::size_t>(offsets[i + 1] - offsets[i])};
  }
  void push_back(std::span<const std::int32_t> list) {
    ids.insert(ids.end(), list.begin(), list.end());
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
  }
};

}  // namespace stagesim::data
