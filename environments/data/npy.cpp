#include "environments/data/npy.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace stagesim::data {

static_assert(std::endian::native == std::endian::little,
              "the .npy reader assumes a little-endian host");

namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kMaxHeader = std::size_t{1} << 24;

struct Header {
  DType dtype = DType::kFloat64;
  std::string descr;
  std::size_t itemsize = 0;
  bool is_string = false;  // '|S<n>' or '<U<n>' (only with allow_strings)
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;  // from the start of the file
  std::uint64_t data_bytes = 0;
};

[[noreturn]] void bad(const std::string& name, std::string_view what) {
  throw DataError(name, what, "the file is not a valid .npy array; write it again with numpy.save");
}

// Minimal parser for the Python dict literal of the .npy header.
class DictParser {
 public:
  DictParser(std::string_view s, const std::string& name) : s_(s), name_(name) {}

  void Parse(std::string& descr, std::optional<bool>& fortran,
             std::optional<std::vector<std::int64_t>>& shape) {
    expect('{');
    for (;;) {
      skip();
      if (peek() == '}') break;
      std::string key = parse_string();
      expect(':');
      skip();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') {
          unsupported("a structured dtype");
        }
        descr = parse_string();
      } else if (key == "fortran_order") {
        fortran = parse_bool();
      } else if (key == "shape") {
        shape = parse_tuple();
      } else {
        skip_value();
      }
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return;
    }
  }

 private:
  [[noreturn]] void unsupported(std::string_view what) {
    throw DataError(name_, "unsupported .npy dtype: " + std::string(what),
                    "save a plain numeric array (float32/float64/int32/int64/uint8/bool)");
  }
  [[noreturn]] void malformed() {
    bad(name_, "malformed .npy header near offset " + std::to_string(i_) + ": '" +
                   std::string(s_.substr(0, 120)) + "'");
  }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
  }
  char peek() {
    if (i_ >= s_.size()) malformed();
    return s_[i_];
  }
  void expect(char c) {
    skip();
    if (peek() != c) malformed();
    ++i_;
  }
  std::string parse_string() {
    skip();
    char q = peek();
    if (q != '\'' && q != '"') malformed();
    std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) malformed();
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    malformed();
  }
  std::vector<std::int64_t> parse_tuple() {
    expect('(');
    std::vector<std::int64_t> out;
    for (;;) {
      skip();
      if (peek() == ')') {
        ++i_;
        return out;
      }
      std::int64_t v = 0;
      std::size_t digits = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) malformed();
        v = v * 10 + (s_[i_] - '0');
        ++i_;
        ++digits;
      }
      if (digits == 0) malformed();
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long literal
      out.push_back(v);
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(')');
      return out;
    }
  }
  void skip_value() {
    int depth = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\'' || c == '"') {
        parse_string();
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) return;
        --depth;
      }
      if (c == ',' && depth == 0) return;
      ++i_;
    }
  }

  std::string_view s_;
  const std::string& name_;
  std::size_t i_ = 0;
};

DType parse_descr(const std::string& d, const std::string& name) {
  if (d == "<f4") return DType::kFloat32;
  if (d == "<f8") return DType::kFloat64;
  if (d == "<i4") return DType::kInt32;
  if (d == "<i8") return DType::kInt64;
  if (d == "|u1" || d == "<u1") return DType::kUInt8;
  if (d == "|b1") return DType::kBool;
  std::string hint = "save a plain numeric array (float32/float64/int32/int64/uint8/bool)";
  if (!d.empty() && d[0] == '>')
    hint = "the array is big-endian; save arr.astype(arr.dtype.newbyteorder('<'))";
  throw DataError(name, "unsupported .npy dtype '" + d + "'", hint);
}

// Parses magic, version and header dict from the first `avail` bytes.
Header parse_header(const unsigned char* p, std::size_t avail, const std::string& name,
                   bool allow_strings = false) {
  if (avail < 10 || std::memcmp(p, kMagic, 6) != 0) bad(name, "not a .npy file (bad magic bytes)");
  const unsigned major = p[6];
  std::size_t len = 0;
  std::size_t start = 0;
  if (major == 1) {
    len = p[8] | (std::size_t{p[9]} << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (avail < 12) bad(name, "truncated .npy header");
    len = p[8] | (std::size_t{p[9]} << 8) | (std::size_t{p[10]} << 16) | (std::size_t{p[11]} << 24);
    start = 12;
  } else {
    bad(name, "unsupported .npy format version " + std::to_string(major));
  }
  if (len > kMaxHeader) bad(name, ".npy header length " + std::to_string(len) + " is implausible");
  if (start + len > avail) bad(name, "truncated .npy header");
  std::string_view text(reinterpret_cast<const char*>(p + start), len);
  std::string descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::int64_t>> shape;
  DictParser(text, name).Parse(descr, fortran, shape);
  if (descr.empty() || !fortran || !shape) {
    bad(name, ".npy header lacks 'descr', 'fortran_order' or 'shape'");
  }
  Header h;
  h.descr = descr;
  if (allow_strings && descr.size() >= 3 &&
      (descr.compare(0, 2, "|S") == 0 || descr.compare(0, 2, "<U") == 0) &&
      descr.find_first_not_of("0123456789", 2) == std::string::npos && descr.size() < 12) {
    h.is_string = true;
    h.itemsize = std::stoull(descr.substr(2)) * (descr[1] == 'U' ? 4 : 1);
  } else {
    h.dtype = parse_descr(descr, name);
    h.itemsize = dtype_size(h.dtype);
  }
  if (*fortran && shape->size() > 1) {
    throw DataError(name, "the .npy array is in Fortran (column-major) order",
                    "save np.ascontiguousarray(arr) to get C order");
  }
  h.shape = *shape;
  h.data_offset = start + len;
  std::uint64_t n = 1;
  for (std::int64_t d : h.shape) {
    auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > (std::uint64_t{1} << 62) / u)
      bad(name, "the .npy shape is implausibly large");
    n *= u;
  }
  if (h.itemsize != 0 && n > (std::uint64_t{1} << 62) / h.itemsize) {
    bad(name, "the .npy shape is implausibly large");
  }
  h.data_bytes = n * h.itemsize;
  return h;
}

NpyArray::Storage make_storage(DType t, std::size_t n) {
  switch (t) {
    case DType::kFloat32:
      return std::vector<float>(n);
    case DType::kFloat64:
      return std::vector<double>(n);
    case DType::kInt32:
      return std::vector<std::int32_t>(n);
    case DType::kInt64:
      return std::vector<std::int64_t>(n);
    case DType::kUInt8:
    case DType::kBool:
      return std::vector<std::uint8_t>(n);
  }
  return std::vector<double>(n);
}

void* storage_data(NpyArray::Storage& s) {
  return std::visit([](auto& v) -> void* { return v.data(); }, s);
}

void check_size(const Header& h, std::uint64_t available, const std::string& name) {
  if (available < h.data_bytes) {
    bad(name, "truncated .npy data: expected " + std::to_string(h.data_bytes) + " bytes, found " +
                  std::to_string(available));
  }
  if (available > h.data_bytes) {
    bad(name, ".npy file has " + std::to_string(available - h.data_bytes) +
                  " unexpected bytes after the array data");
  }
}

// Reads and parses the header at the start of an open .npy file.
Header read_file_header(std::FILE* f, std::uint64_t file_size, const std::string& name) {
  std::vector<unsigned char> head(12);
  std::size_t got = std::fread(head.data(), 1, head.size(), f);
  if (got >= 10 && std::memcmp(head.data(), kMagic, 6) == 0) {
    std::size_t len = head[6] == 1
                          ? (head[8] | (std::size_t{head[9]} << 8))
                          : (head[8] | (std::size_t{head[9]} << 8) | (std::size_t{head[10]} << 16) |
                             (std::size_t{head[11]} << 24));
    std::size_t total = (head[6] == 1 ? 10 : 12) + std::min(len, kMaxHeader);
    if (total > got && total <= file_size) {
      head.resize(total);
      got += std::fread(head.data() + got, 1, total - got, f);
    }
  }
  return parse_header(head.data(), got, name);
}

template <class T>
constexpr bool kSupported =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint8_t>;

template <class T>
DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  if constexpr (std::is_same_v<T, std::int32_t>) return DType::kInt32;
  if constexpr (std::is_same_v<T, std::int64_t>) return DType::kInt64;
  return DType::kUInt8;
}

}  // namespace

std::string_view dtype_descr(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "<f4";
    case DType::kFloat64:
      return "<f8";
    case DType::kInt32:
      return "<i4";
    case DType::kInt64:
      return "<i8";
    case DType::kUInt8:
      return "|u1";
    case DType::kBool:
      return "|b1";
  }
  return "?";
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kUInt8:
    case DType::kBool:
      return 1;
  }
  return 1;
}

std::int64_t NpyArray::size() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

template <class T>
const std::vector<T>& NpyArray::get() const {
  if (const auto* v = std::get_if<std::vector<T>>(&data)) return *v;
  throw DataError(source, "array has dtype '" + std::string(dtype_descr(dtype)) + "'",
                  "convert it with as<T>() or save it with the expected dtype");
}

template <class T>
std::vector<T> NpyArray::as() const {
  return std::visit(
      [&](const auto& v) {
        using S = typename std::decay_t<decltype(v)>::value_type;
        std::vector<T> out(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
          if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
            const double x = static_cast<double>(v[i]);
            if (!(x == std::floor(x)) || x < static_cast<double>(std::numeric_limits<T>::min()) ||
                x >= static_cast<double>(std::numeric_limits<T>::max()) + 1.0) {
              throw DataError(source,
                              "element " + std::to_string(i) + " (" + std::to_string(x) +
                                  ") is not an integer in range",
                              "store integer data with an integer dtype");
            }
          } else if constexpr (std::is_integral_v<S> && std::is_integral_v<T>) {
            if (!std::in_range<T>(v[i])) {
              throw DataError(source,
                              "element " + std::to_string(i) + " (" + std::to_string(v[i]) +
                                  ") does not fit the requested integer type",
                              "read it as a wider type");
            }
          }
          out[i] = static_cast<T>(v[i]);
        }
        return out;
      },
      data);
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(name.c_str(), "rb"), &std::fclose);
  if (!f) {
    throw DataError(name, std::string("cannot open file (") + std::strerror(errno) + ")",
                    "check the path and the permissions");
  }
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(name, "cannot determine the file size", "check the file");
  Header h = read_file_header(f.get(), file_size, name);
  check_size(h, file_size - h.data_offset, name);
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.source = name;
  a.data = make_storage(h.dtype, h.data_bytes / dtype_size(h.dtype));
  if (std::fseek(f.get(), static_cast<long>(h.data_offset), SEEK_SET) != 0 ||
      std::fread(storage_data(a.data), 1, h.data_bytes, f.get()) != h.data_bytes) {
    bad(name, "read error or truncated .npy data");
  }
  if (a.dtype == DType::kBool) {
    for (std::uint8_t& b : std::get<std::vector<std::uint8_t>>(a.data)) b = b != 0;
  }
  return a;
}

NpyArray parse_npy(std::span<const unsigned char> bytes, const std::string& name) {
  Header h = parse_header(bytes.data(), bytes.size(), name);
  check_size(h, bytes.size() - h.data_offset, name);
  NpyArray a;
  a.dtype = h.dtype;
  a.shape = h.shape;
  a.source = name;
  a.data = make_storage(h.dtype, h.data_bytes / dtype_size(h.dtype));
  if (h.data_bytes) std::memcpy(storage_data(a.data), bytes.data() + h.data_offset, h.data_bytes);
  if (a.dtype == DType::kBool) {
    for (std::uint8_t& b : std::get<std::vector<std::uint8_t>>(a.data)) b = b != 0;
  }
  return a;
}

std::string parse_npy_string(std::span<const unsigned char> bytes, const std::string& name) {
  Header h = parse_header(bytes.data(), bytes.size(), name, /*allow_strings=*/true);
  check_size(h, bytes.size() - h.data_offset, name);
  if (!h.is_string) {
    throw DataError(name, "expected a string array, found dtype '" + h.descr + "'",
                    "store the value as a string");
  }
  if (h.data_bytes != h.itemsize) {
    throw DataError(name,
                    "expected a single string, found " +
                        std::to_string(h.itemsize ? h.data_bytes / h.itemsize : 0) + " elements",
                    "store one string");
  }
  const unsigned char* d = bytes.data() + h.data_offset;
  std::string out;
  if (h.descr[1] == 'S') {
    out.assign(reinterpret_cast<const char*>(d), h.itemsize);
  } else {
    for (std::size_t i = 0; i + 4 <= h.itemsize; i += 4) {
      std::uint32_t cp =
          d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (std::uint32_t{d[i + 3]} << 24);
      if (cp == 0) break;
      if (cp >= 128) {
        throw DataError(name, "non-ASCII character in a string array", "store an ASCII string");
      }
      out.push_back(static_cast<char>(cp));
    }
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

template <class T>
DenseMatrix<T> npy_to_matrix(const NpyArray& a) {
  if (a.rank() != 2) {
    throw DataError(a.source, "expected a 2-D array, found rank " + std::to_string(a.rank()),
                    "save a matrix of shape [rows, cols]");
  }
  DenseMatrix<T> m;
  m.rows = a.shape[0];
  m.cols = a.shape[1];
  if (const auto* v = std::get_if<std::vector<T>>(&a.data); v && a.dtype != DType::kBool) {
    m.values = *v;
  } else {
    m.values = a.as<T>();
  }
  return m;
}

template <class T>
DenseMatrix<T> read_npy_matrix(const std::filesystem::path& path) {
  NpyArray a = read_npy(path);
  if (a.rank() != 2) return npy_to_matrix<T>(a);  // throws
  DenseMatrix<T> m;
  m.rows = a.shape[0];
  m.cols = a.shape[1];
  if (auto* v = std::get_if<std::vector<T>>(&a.data)) {
    m.values = std::move(*v);
  } else {
    m.values = a.as<T>();
  }
  return m;
}

namespace {

// The magic, version and padded header dict of a C-order array (version 2 only when needed).
std::string encode_header(std::string_view descr, std::span<const std::int64_t> shape,
                         const std::string& name) {
  std::string dims;
  for (std::int64_t d : shape) {
    if (d < 0) throw DataError(name, "negative dimension in shape", "pass a valid shape");
    dims += std::to_string(d) + ", ";
  }
  if (shape.size() == 1) dims.pop_back();  // "(5,)"
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string dict =
      "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  std::size_t prefix = 10;
  std::size_t total = prefix + dict.size() + 1;
  if ((total + 63) / 64 * 64 - prefix > 65535) prefix = 12;
  total = prefix + dict.size() + 1;
  std::size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  const std::size_t len = dict.size();
  std::string head(reinterpret_cast<const char*>(kMagic), 6);
  head.push_back(static_cast<char>(prefix == 10 ? 1 : 2));
  head.push_back(0);
  head.push_back(static_cast<char>(len & 0xff));
  head.push_back(static_cast<char>((len >> 8) & 0xff));
  if (prefix == 12) {
    head.push_back(static_cast<char>((len >> 16) & 0xff));
    head.push_back(static_cast<char>((len >> 24) & 0xff));
  }
  return head + dict;
}

template <class T>
std::string checked_header(std::span<const T> values, std::span<const std::int64_t> shape,
                          bool as_bool, const std::string& name) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  if (n != static_cast<std::int64_t>(values.size())) {
    throw DataError(name,
                    "shape holds " + std::to_string(n) + " elements but " +
                        std::to_string(values.size()) + " values were given",
                    "pass a shape matching the data");
  }
  DType t = dtype_of<T>();
  if (as_bool && t == DType::kUInt8) t = DType::kBool;
  return encode_header(dtype_descr(t), shape, name);
}

// Converts `n` elements of dtype `t` at `src` (little-endian, possibly unaligned) to T.
template <class T>
void convert_elements(DType t, const unsigned char* src, std::size_t n, T* dst) {
  auto copy = [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      S v;
      std::memcpy(&v, src + i * sizeof(S), sizeof(S));
      if constexpr (std::is_same_v<S, std::uint8_t>) {
        dst[i] = static_cast<T>(t == DType::kBool ? (v != 0) : v);
      } else {
        dst[i] = static_cast<T>(v);
      }
    }
  };
  switch (t) {
    case DType::kFloat32:
      return copy(float{});
    case DType::kFloat64:
      return copy(double{});
    case DType::kInt32:
      return copy(std::int32_t{});
    case DType::kInt64:
      return copy(std::int64_t{});
    case DType::kUInt8:
    case DType::kBool:
      return copy(std::uint8_t{});
  }
}

}  // namespace

template <class T>
void write_npy(const std::filesystem::path& path, std::span<const T> values,
              std::span<const std::int64_t> shape, bool as_bool) {
  static_assert(kSupported<T>, "WriteNpy supports float, double, int32_t, int64_t, uint8_t");
  const std::string name = path.string();
  const std::string head = checked_header(values, shape, as_bool, name);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(name.c_str(), "wb"), &std::fclose);
  if (!f) {
    throw DataError(name, std::string("cannot create file (") + std::strerror(errno) + ")",
                    "check that the directory exists and is writable");
  }
  bool ok = std::fwrite(head.data(), 1, head.size(), f.get()) == head.size();
  if (ok && !values.empty()) {
    ok = std::fwrite(values.data(), sizeof(T), values.size(), f.get()) == values.size();
  }
  if (std::fclose(f.release()) != 0) ok = false;
  if (!ok) {
    throw DataError(name, std::string("write failed (") + std::strerror(errno) + ")",
                    "check the free disk space");
  }
}

template <class T>
std::vector<unsigned char> encode_npy(std::span<const T> values, std::span<const std::int64_t> shape,
                                     bool as_bool) {
  static_assert(kSupported<T>, "EncodeNpy supports float, double, int32_t, int64_t, uint8_t");
  const std::string head = checked_header(values, shape, as_bool, "<memory>");
  std::vector<unsigned char> out(head.begin(), head.end());
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  out.insert(out.end(), bytes, bytes + values.size() * sizeof(T));
  return out;
}

std::vector<unsigned char> encode_npy_string(std::string_view text) {
  const std::size_t n = std::max<std::size_t>(text.size(), 1);
  const std::string head = encode_header("<U" + std::to_string(n), {}, "<memory>");
  std::vector<unsigned char> out(head.begin(), head.end());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
    out.insert(out.end(), {c, 0, 0, 0});  // UTF-32LE, ASCII only
  }
  return out;
}

template <class T>
DenseMatrix<T> read_npy_matrix_columns(const std::filesystem::path& path, std::int64_t max_cols) {
  const std::string name = path.string();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(name.c_str(), "rb"), &std::fclose);
  if (!f) {
    throw DataError(name, std::string("cannot open file (") + std::strerror(errno) + ")",
                    "check the path and the permissions");
  }
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(name, "cannot determine the file size", "check the file");
  const Header h = read_file_header(f.get(), file_size, name);
  check_size(h, file_size - h.data_offset, name);
  if (h.shape.size() != 2) {
    throw DataError(name, "expected a 2-D array, found rank " + std::to_string(h.shape.size()),
                    "save a matrix of shape [rows, cols]");
  }
  const std::int64_t rows = h.shape[0];
  const std::int64_t cols = h.shape[1];
  const std::int64_t keep = max_cols <= 0 ? cols : std::min(max_cols, cols);
  DenseMatrix<T> m(rows, keep);
  const std::size_t row_bytes = static_cast<std::size_t>(cols) * h.itemsize;
  // Whole rows are read in chunks of about 4 MiB; only the first `keep` columns are converted.
  const std::size_t chunk_rows =
      std::max<std::size_t>(1, (std::size_t{1} << 22) / std::max<std::size_t>(row_bytes, 1));
  std::vector<unsigned char> buf(chunk_rows * row_bytes);
  if (std::fseek(f.get(), static_cast<long>(h.data_offset), SEEK_SET) != 0) {
    bad(name, "read error or truncated .npy data");
  }
  for (std::int64_t r0 = 0; r0 < rows && row_bytes > 0;) {
    const std::size_t n = std::min<std::size_t>(chunk_rows, static_cast<std::size_t>(rows - r0));
    if (std::fread(buf.data(), 1, n * row_bytes, f.get()) != n * row_bytes) {
      bad(name, "read error or truncated .npy data");
    }
    for (std::size_t i = 0; i < n; ++i) {
      convert_elements<T>(h.dtype, buf.data() + i * row_bytes, static_cast<std::size_t>(keep),
                         &m(r0 + static_cast<std::int64_t>(i), 0));
    }
    r0 += static_cast<std::int64_t>(n);
  }
  return m;
}

#define STAGESIM_NPY_INSTANTIATE(T)                                           \
  template const std::vector<T>& NpyArray::get<T>() const;                    \
  template std::vector<T> NpyArray::as<T>() const;                            \
  template DenseMatrix<T> npy_to_matrix<T>(const NpyArray&);                    \
  template DenseMatrix<T> read_npy_matrix<T>(const std::filesystem::path&);     \
  template void write_npy<T>(const std::filesystem::path&, std::span<const T>, \
                            std::span<const std::int64_t>, bool);             \
  template std::vector<unsigned char> encode_npy<T>(std::span<const T>,        \
                                                   std::span<const std::int64_t>, bool);
STAGESIM_NPY_INSTANTIATE(float)
STAGESIM_NPY_INSTANTIATE(double)
STAGESIM_NPY_INSTANTIATE(std::int32_t)
STAGESIM_NPY_INSTANTIATE(std::int64_t)
STAGESIM_NPY_INSTANTIATE(std::uint8_t)
#undef STAGESIM_NPY_INSTANTIATE
template DenseMatrix<float> read_npy_matrix_columns<float>(const std::filesystem::path&, std::int64_t);
template DenseMatrix<double> read_npy_matrix_columns<double>(const std::filesystem::path&,
                                                          std::int64_t);

}  // namespace stagesim::data
