#include "environments/data/sparse.hpp"

#include "environments/data/data_error.hpp"

namespace stagesim::data {

void validate_csr(const CsrMatrix& m, const std::string& file) {
  const char* fix = "the sparse matrix is corrupt; write it again with scipy.sparse.save_npz";
  if (m.rows < 0 || m.cols < 0) throw DataError(file, "negative CSR shape", fix);
  if (static_cast<std::int64_t>(m.indptr.size()) != m.rows + 1) {
    throw DataError(file,
                    "CSR indptr has " + std::to_string(m.indptr.size()) +
                        " entries, expected rows+1 = " + std::to_string(m.rows + 1),
                    fix);
  }
  if (m.indices.size() != m.data.size()) {
    throw DataError(file,
                    "CSR indices (" + std::to_string(m.indices.size()) + ") and data (" +
                        std::to_string(m.data.size()) + ") differ in length",
                    fix);
  }
  if (m.indptr.front() != 0) throw DataError(file, "CSR indptr[0] is not 0", fix);
  for (std::int64_t i = 0; i < m.rows; ++i) {
    if (m.indptr[i + 1] < m.indptr[i]) {
      throw DataError(file,
                      "CSR indptr decreases at row " + std::to_string(i) + " (" +
                          std::to_string(m.indptr[i]) + " > " + std::to_string(m.indptr[i + 1]) +
                          ")",
                      fix);
    }
  }
  if (m.indptr.back() != m.nnz()) {
    throw DataError(file,
                    "CSR indptr ends at " + std::to_string(m.indptr.back()) + " but there are " +
                        std::to_string(m.nnz()) + " entries",
                    fix);
  }
  for (std::size_t k = 0; k < m.indices.size(); ++k) {
    if (m.indices[k] < 0 || m.indices[k] >= m.cols) {
      throw DataError(file,
                      "CSR column index " + std::to_string(m.indices[k]) + " at entry " +
                          std::to_string(k) + " is outside [0, " + std::to_string(m.cols) + ")",
                      fix);
    }
  }
}

}  // namespace stagesim::data
