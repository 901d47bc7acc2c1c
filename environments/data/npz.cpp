#include "environments/data/npz.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

namespace stagesim::data {
namespace {

constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr const char* kZipFix =
    "the archive is corrupt or truncated; write it again with numpy.savez";

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

std::uint16_t U16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t U32(const unsigned char* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
std::uint64_t U64(const unsigned char* p) {
  return std::uint64_t{U32(p)} | (std::uint64_t{U32(p + 4)} << 32);
}

File open(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    throw DataError(path, std::string("cannot open file (") + std::strerror(errno) + ")",
                    "check the path and the permissions");
  }
  return f;
}

void read_at(std::FILE* f, std::uint64_t offset, void* dst, std::size_t n, const std::string& path) {
  if (n == 0) return;
  if (fseeko(f, static_cast<off_t>(offset), SEEK_SET) != 0 || std::fread(dst, 1, n, f) != n) {
    throw DataError(path, "read past the end of the file at offset " + std::to_string(offset),
                    kZipFix);
  }
}

}  // namespace

ZipReader::ZipReader(const std::filesystem::path& path) : path_(path.string()) {
  File f = open(path_);
  std::error_code ec;
  file_size_ = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(path_, "cannot determine the file size", "check the file");
  if (file_size_ < 22) throw DataError(path_, "not a ZIP/.npz archive (file too short)", kZipFix);

  // End of central directory: the last 22..65557 bytes.
  const std::size_t tail_len =
      static_cast<std::size_t>(std::min<std::uint64_t>(file_size_, 22 + 65535 + 20 + 56));
  std::vector<unsigned char> tail(tail_len);
  const std::uint64_t tail_off = file_size_ - tail_len;
  read_at(f.get(), tail_off, tail.data(), tail_len, path_);
  std::size_t eocd = std::string::npos;
  for (std::size_t i = tail_len - 22 + 1; i-- > 0;) {
    if (U32(&tail[i]) == kEocdSig && i + 22 + U16(&tail[i + 20]) == tail_len) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) {
    throw DataError(path_, "not a ZIP/.npz archive (no end-of-central-directory record)", kZipFix);
  }
  const unsigned char* e = &tail[eocd];
  std::uint64_t count = U16(e + 10);
  std::uint64_t cd_size = U32(e + 12);
  std::uint64_t cd_off = U32(e + 16);
  if (eocd >= 20 && U32(&tail[eocd - 20]) == kZip64LocatorSig) {
    const std::uint64_t z64_off = U64(&tail[eocd - 20 + 8]);
    unsigned char z[56];
    if (z64_off + 56 > file_size_) throw DataError(path_, "bad zip64 locator", kZipFix);
    read_at(f.get(), z64_off, z, 56, path_);
    if (U32(z) != kZip64EocdSig)
      throw DataError(path_, "bad zip64 end-of-directory record", kZipFix);
    count = U64(z + 32);
    cd_size = U64(z + 40);
    cd_off = U64(z + 48);
  }
  if (cd_off > file_size_ || cd_size > file_size_ - cd_off) {
    throw DataError(path_, "central directory lies outside the file", kZipFix);
  }
  if (count > cd_size / 46 + 1) throw DataError(path_, "implausible ZIP entry count", kZipFix);
  std::vector<unsigned char> cd(static_cast<std::size_t>(cd_size));
  read_at(f.get(), cd_off, cd.data(), cd.size(), path_);

  std::size_t pos = 0;
  for (std::uint64_t k = 0; k < count; ++k) {
    if (pos + 46 > cd.size() || U32(&cd[pos]) != kCentralSig) {
      throw DataError(path_, "corrupt central directory entry " + std::to_string(k), kZipFix);
    }
    const unsigned char* h = &cd[pos];
    ZipEntry z;
    z.flags = U16(h + 8);
    z.method = U16(h + 10);
    z.crc32 = U32(h + 16);
    z.compressed_size = U32(h + 20);
    z.uncompressed_size = U32(h + 24);
    const std::size_t name_len = U16(h + 28);
    const std::size_t extra_len = U16(h + 30);
    const std::size_t comment_len = U16(h + 32);
    z.local_header_offset = U32(h + 42);
    if (pos + 46 + name_len + extra_len + comment_len > cd.size()) {
      throw DataError(path_, "corrupt central directory entry " + std::to_string(k), kZipFix);
    }
    z.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
    // zip64 extended information: only the fields saturated in the fixed header, in this order.
    const unsigned char* x = h + 46 + name_len;
    const unsigned char* xend = x + extra_len;
    while (x + 4 <= xend) {
      const std::uint16_t id = U16(x);
      const std::uint16_t sz = U16(x + 2);
      if (x + 4 + sz > xend) break;
      if (id == 0x0001) {
        const unsigned char* q = x + 4;
        const unsigned char* qend = q + sz;
        auto take = [&](std::uint64_t& v) {
          if (v != 0xFFFFFFFFu) return;
          if (q + 8 > qend) throw DataError(path_, "truncated zip64 extra field", kZipFix);
          v = U64(q);
          q += 8;
        };
        take(z.uncompressed_size);
        take(z.compressed_size);
        take(z.local_header_offset);
      }
      x += 4 + sz;
    }
    entries_.push_back(std::move(z));
    pos += 46 + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  for (const ZipEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<unsigned char> ZipReader::read(std::string_view name) const {
  const ZipEntry* e = find(name);
  if (e == nullptr) {
    throw DataError(path_, "archive has no member '" + std::string(name) + "'",
                    "list the members with `unzip -l` and pass an existing name");
  }
  return read(*e);
}

std::vector<unsigned char> ZipReader::read(const ZipEntry& e) const {
  const std::string where = path_ + "[" + e.name + "]";
  if (e.flags & 0x1) {
    throw DataError(where, "encrypted ZIP members are not supported", "store it unencrypted");
  }
  if (e.method != 0 && e.method != 8) {
    throw DataError(
        where, "unsupported ZIP compression method " + std::to_string(e.method),
        "write the archive with numpy.savez or numpy.savez_compressed (stored/deflate)");
  }
  File f = open(path_);
  unsigned char lh[30];
  if (e.local_header_offset + 30 > file_size_) {
    throw DataError(where, "local header lies outside the file", kZipFix);
  }
  read_at(f.get(), e.local_header_offset, lh, 30, path_);
  if (U32(lh) != kLocalSig) throw DataError(where, "bad local header signature", kZipFix);
  const std::uint64_t data_off = e.local_header_offset + 30 + U16(lh + 26) + U16(lh + 28);
  if (data_off > file_size_ || e.compressed_size > file_size_ - data_off) {
    throw DataError(where, "member data extends past the end of the file (truncated archive)",
                    kZipFix);
  }
  if (e.method == 0 && e.compressed_size != e.uncompressed_size) {
    throw DataError(where, "stored member has differing compressed/uncompressed sizes", kZipFix);
  }
  // Deflate cannot expand data by more than ~1032:1; anything larger is a corrupt header.
  if (e.uncompressed_size > e.compressed_size * 1100 + 4096) {
    throw DataError(where, "implausible uncompressed size " + std::to_string(e.uncompressed_size),
                    kZipFix);
  }
  std::vector<unsigned char> out;
  try {
    out.resize(static_cast<std::size_t>(e.uncompressed_size));
  } catch (const std::bad_alloc&) {
    throw DataError(where,
                    "not enough memory for " + std::to_string(e.uncompressed_size) + " bytes",
                    "use a machine with more memory");
  }
  if (e.method == 0) {
    read_at(f.get(), data_off, out.data(), out.size(), path_);
  } else {
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
      throw DataError(where, "zlib inflateInit2 failed", "check the zlib installation");
    }
    std::unique_ptr<z_stream, int (*)(z_streamp)> guard(&zs, &inflateEnd);
    if (fseeko(f.get(), static_cast<off_t>(data_off), SEEK_SET) != 0) {
      throw DataError(where, "seek failed", kZipFix);
    }
    std::vector<unsigned char> in(std::size_t{1} << 20);
    std::uint64_t left = e.compressed_size;
    std::uint64_t produced = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (zs.avail_in == 0) {
        if (left == 0) {
          throw DataError(where, "deflate stream ends early (truncated or corrupt member)",
                          kZipFix);
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, in.size()));
        if (std::fread(in.data(), 1, n, f.get()) != n) {
          throw DataError(where, "read error in member data", kZipFix);
        }
        left -= n;
        zs.next_in = in.data();
        zs.avail_in = static_cast<uInt>(n);
      }
      const std::uint64_t room = out.size() - produced;
      unsigned char dummy = 0;
      zs.next_out = room ? out.data() + produced : &dummy;
      zs.avail_out = static_cast<uInt>(
          std::min<std::uint64_t>(room ? room : 1, std::numeric_limits<uInt>::max()));
      const uInt before = zs.avail_out;
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        throw DataError(where,
                        std::string("corrupt deflate data (zlib: ") +
                            (zs.msg ? zs.msg : "error " + std::to_string(rc)) + ")",
                        kZipFix);
      }
      const uInt wrote = before - zs.avail_out;
      if (room == 0 && wrote > 0) {
        throw DataError(where, "member inflates to more than its recorded size", kZipFix);
      }
      produced += room ? wrote : 0;
    }
    if (produced != out.size()) {
      throw DataError(where,
                      "member inflates to " + std::to_string(produced) + " bytes, expected " +
                          std::to_string(out.size()),
                      kZipFix);
    }
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t off = 0; off < out.size();) {
    const std::size_t n = std::min<std::size_t>(out.size() - off, std::size_t{1} << 30);
    crc = crc32(crc, out.data() + off, static_cast<uInt>(n));
    off += n;
  }
  if (static_cast<std::uint32_t>(crc) != e.crc32) {
    throw DataError(where, "CRC-32 mismatch (member data is corrupt)", kZipFix);
  }
  return out;
}

std::vector<std::string> NpzFile::names() const {
  std::vector<std::string> names;
  for (const ZipEntry& e : zip_.entries()) {
    std::string n = e.name;
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0) n.resize(n.size() - 4);
    names.push_back(std::move(n));
  }
  return names;
}

bool NpzFile::contains(std::string_view name) const {
  return zip_.find(name) != nullptr || zip_.find(std::string(name) + ".npy") != nullptr;
}

const ZipEntry& NpzFile::entry(std::string_view name) const {
  if (const ZipEntry* e = zip_.find(std::string(name) + ".npy")) return *e;
  if (const ZipEntry* e = zip_.find(name)) return *e;
  std::string have;
  for (const std::string& n : names()) have += (have.empty() ? "" : ", ") + n;
  throw DataError(zip_.path(),
                  "archive has no array '" + std::string(name) + "' (has: " + have + ")",
                  "pass one of the listed names");
}

NpyArray NpzFile::read(std::string_view name) const {
  const ZipEntry& e = entry(name);
  std::vector<unsigned char> bytes = zip_.read(e);
  return parse_npy(bytes, zip_.path() + "[" + e.name + "]");
}

std::string NpzFile::read_string(std::string_view name) const {
  const ZipEntry& e = entry(name);
  std::vector<unsigned char> bytes = zip_.read(e);
  return parse_npy_string(bytes, zip_.path() + "[" + e.name + "]");
}

CsrMatrix read_scipy_csr(const std::filesystem::path& path) {
  NpzFile npz(path);
  const std::string file = path.string();
  for (const char* m : {"format", "shape", "data", "indices", "indptr"}) {
    if (!npz.contains(m)) {
      throw DataError(file, std::string("not a SciPy sparse file: member '") + m + "' is missing",
                      "write the matrix with scipy.sparse.save_npz");
    }
  }
  const std::string format = npz.read_string("format");
  if (format != "csr") {
    throw DataError(file, "sparse format is '" + format + "', expected 'csr'",
                    "save matrix.tocsr() with scipy.sparse.save_npz");
  }
  const std::vector<std::int64_t> shape = npz.read("shape").as<std::int64_t>();
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) {
    throw DataError(file, "member 'shape' must hold two non-negative integers", kZipFix);
  }
  if (shape[1] > std::numeric_limits<std::int32_t>::max()) {
    throw DataError(file, "more than 2^31-1 columns are not supported", "split the matrix");
  }
  CsrMatrix m;
  m.rows = shape[0];
  m.cols = shape[1];
  m.indptr = npz.read("indptr").as<std::int64_t>();
  m.indices = npz.read("indices").as<std::int32_t>();
  m.data = npz.read("data").as<double>();
  validate_csr(m, file);
  return m;
}

namespace {

void put16(std::vector<unsigned char>& b, std::uint32_t v) {
  b.push_back(static_cast<unsigned char>(v & 0xff));
  b.push_back(static_cast<unsigned char>((v >> 8) & 0xff));
}
void put32(std::vector<unsigned char>& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

}  // namespace

void write_npz(const std::filesystem::path& path,
              const std::vector<std::pair<std::string, std::vector<unsigned char>>>& members) {
  const std::string file = path.string();
  constexpr std::uint64_t kLimit = 0xffffffffULL;
  constexpr std::uint32_t kDosDate = 0x21;  // 1980-01-01: fixed, so equal data give equal files
  std::vector<unsigned char> central;
  std::uint64_t offset = 0;
  File f(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!f) {
    throw DataError(file, std::string("cannot create file (") + std::strerror(errno) + ")",
                    "check that the directory exists and is writable");
  }
  bool ok = true;
  auto write = [&](const void* p, std::size_t n) {
    ok = ok && (n == 0 || std::fwrite(p, 1, n, f.get()) == n);
    offset += n;
  };
  for (const auto& [array, bytes] : members) {
    const std::string name = array + ".npy";
    if (bytes.size() >= kLimit || offset >= kLimit) {
      throw DataError(file, "the archive would exceed 4 GiB",
                      "write large arrays as HDF5 (or .npy) instead");
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (std::size_t off = 0; off < bytes.size();) {
      const std::size_t n = std::min<std::size_t>(bytes.size() - off, std::size_t{1} << 30);
      crc = crc32(crc, bytes.data() + off, static_cast<uInt>(n));
      off += n;
    }
    const auto size = static_cast<std::uint32_t>(bytes.size());
    std::vector<unsigned char> local;
    put32(local, kLocalSig);
    put16(local, 20);  // version needed
    put16(local, 0);   // flags
    put16(local, 0);   // stored
    put16(local, 0);   // time
    put16(local, kDosDate);
    put32(local, static_cast<std::uint32_t>(crc));
    put32(local, size);
    put32(local, size);
    put16(local, static_cast<std::uint32_t>(name.size()));
    put16(local, 0);  // extra
    local.insert(local.end(), name.begin(), name.end());

    put32(central, kCentralSig);
    put16(central, 20);  // made by
    put16(central, 20);  // needed
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate);
    put32(central, static_cast<std::uint32_t>(crc));
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<std::uint32_t>(name.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0);  // external attributes
    put32(central, static_cast<std::uint32_t>(offset));
    central.insert(central.end(), name.begin(), name.end());

    write(local.data(), local.size());
    write(bytes.data(), bytes.size());
  }
  if (offset + central.size() >= kLimit) {
    throw DataError(file, "the archive would exceed 4 GiB",
                    "write large arrays as HDF5 (or .npy) instead");
  }
  std::vector<unsigned char> eocd;
  put32(eocd, kEocdSig);
  put16(eocd, 0);
  put16(eocd, 0);
  put16(eocd, static_cast<std::uint32_t>(members.size()));
  put16(eocd, static_cast<std::uint32_t>(members.size()));
  put32(eocd, static_cast<std::uint32_t>(central.size()));
  put32(eocd, static_cast<std::uint32_t>(offset));
  put16(eocd, 0);
  write(central.data(), central.size());
  write(eocd.data(), eocd.size());
  if (std::fclose(f.release()) != 0) ok = false;
  if (!ok) {
    throw DataError(file, std::string("write failed (") + std::strerror(errno) + ")",
                    "check the free disk space");
  }
}

void write_scipy_csr(const std::filesystem::path& path, const CsrMatrix& m) {
  validate_csr(m, path.string());
  const std::int64_t shape[2] = {m.rows, m.cols};
  const std::int64_t nnz[1] = {m.nnz()};
  const std::int64_t ptr_len[1] = {m.rows + 1};
  std::vector<std::pair<std::string, std::vector<unsigned char>>> members;
  members.emplace_back("indices", encode_npy<std::int32_t>(m.indices, nnz));
  if (m.nnz() <= std::numeric_limits<std::int32_t>::max()) {
    std::vector<std::int32_t> ptr(m.indptr.begin(), m.indptr.end());
    members.emplace_back("indptr", encode_npy<std::int32_t>(ptr, ptr_len));
  } else {
    members.emplace_back("indptr", encode_npy<std::int64_t>(m.indptr, ptr_len));
  }
  members.emplace_back("format", encode_npy_string("csr"));
  const std::int64_t two[1] = {2};
  members.emplace_back("shape", encode_npy<std::int64_t>(shape, two));
  members.emplace_back("data", encode_npy<double>(m.data, nnz));
  write_npz(path, members);
}

}  // namespace stagesim::data
