#pragma once
// NumPy .npz archives: a minimal ZIP reader (central directory, stored and deflated members,
// zip64 records as Python's zipfile writes them) and the SciPy CSR layout of
// scipy.sparse.save_npz (members format='csr', shape, data, indices, indptr).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "environments/data/npy.hpp"
#include "environments/data/sparse.hpp"

namespace stagesim::data {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflated
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Reads the central directory. DataError if the file is missing or not a readable ZIP.
  explicit ZipReader(const std::filesystem::path& path);

  const std::string& path() const { return path_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry with this exact name, or nullptr.
  const ZipEntry* find(std::string_view name) const;

  // The member's uncompressed bytes, CRC-checked. DataError on corruption or an unsupported
  // compression method / encryption.
  std::vector<unsigned char> read(const ZipEntry& e) const;
  std::vector<unsigned char> read(std::string_view name) const;

 private:
  std::string path_;
  std::uint64_t file_size_ = 0;
  std::vector<ZipEntry> entries_;
};

class NpzFile {
 public:
  explicit NpzFile(const std::filesystem::path& path) : zip_(path) {}

  // Array names, i.e. member names without the ".npy" suffix, in archive order.
  std::vector<std::string> names() const;
  bool contains(std::string_view name) const;
  // Reads array `name` ("x" or "x.npy"). DataError if absent or malformed.
  NpyArray read(std::string_view name) const;
  // Reads a string array member (e.g. SciPy's `format`).
  std::string read_string(std::string_view name) const;

  const ZipReader& zip() const { return zip_; }

 private:
  const ZipEntry& entry(std::string_view name) const;
  ZipReader zip_;
};

// Writes an uncompressed .npz (a stored ZIP archive) of named .npy images (see EncodeNpy);
// members are named NAME.npy. numpy.load reads it. DataError when the file cannot be written or
// the archive would exceed 4 GiB (write HDF5 instead).
void write_npz(const std::filesystem::path& path,
              const std::vector<std::pair<std::string, std::vector<unsigned char>>>& members);

// Writes `m` as scipy.sparse.save_npz(path, m, compressed=False) does: members format ('csr'),
// shape, data (float64), indices (int32), indptr (int32, or int64 above 2^31-1 entries).
void write_scipy_csr(const std::filesystem::path& path, const CsrMatrix& m);

// Reads a CSR matrix written by scipy.sparse.save_npz (compressed or not). Data of any supported
// dtype is converted to double. Validates shape, indptr (monotone, 0..nnz) and index ranges.
CsrMatrix read_scipy_csr(const std::filesystem::path& path);

}  // namespace stagesim::data
