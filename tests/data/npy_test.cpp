#include "environments/data/npy.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "environments/data/csv.hpp"
#include "environments/data/line_reader.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;
using testing::DataErrorOf;
using testing::ExpectMessage;
using testing::Fixture;

// (i*4 + j) / 8 - 1, as written by make_fixtures.py.
std::vector<double> EmbeddingValues() {
  std::vector<double> v;
  for (int k = 0; k < 32; ++k) v.push_back(k / 8.0 - 1.0);
  return v;
}

TEST(Npy, ReadsEveryDtypeAndVersion) {
  const NpyArray f4 = read_npy(Fixture("amazoncat/embeddings_f4.npy"));
  EXPECT_EQ(f4.dtype, DType::kFloat32);
  EXPECT_EQ(f4.shape, (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(f4.as<double>(), EmbeddingValues());
  EXPECT_EQ(f4.get<float>()[5], 5 / 8.0f - 1.0f);
  for (const char* name : {"amazoncat/embeddings_f8_v2.npy", "amazoncat/embeddings_f8_v3.npy"}) {
    SCOPED_TRACE(name);
    const NpyArray a = read_npy(Fixture(name));
    EXPECT_EQ(a.dtype, DType::kFloat64);
    EXPECT_EQ(a.shape, (std::vector<std::int64_t>{8, 4}));
    EXPECT_EQ(a.get<double>(), EmbeddingValues());
  }
  const NpyArray i4 = read_npy(Fixture("amazoncat/ids_i4.npy"));
  EXPECT_EQ(i4.get<std::int32_t>(), (std::vector<std::int32_t>{5, -3, 2147483647}));
  const NpyArray i8 = read_npy(Fixture("amazoncat/ids_i8.npy"));
  EXPECT_EQ(i8.shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(i8.get<std::int64_t>(), (std::vector<std::int64_t>{1, -2, 3, std::int64_t{1} << 40}));
  const NpyArray b1 = read_npy(Fixture("amazoncat/mask_b1.npy"));
  EXPECT_EQ(b1.dtype, DType::kBool);
  EXPECT_EQ(b1.get<std::uint8_t>(), (std::vector<std::uint8_t>{1, 0, 1, 1}));
  const NpyArray u1 = read_npy(Fixture("amazoncat/bytes_u1.npy"));
  EXPECT_EQ(u1.dtype, DType::kUInt8);
  EXPECT_EQ(u1.get<std::uint8_t>(), (std::vector<std::uint8_t>{0, 7, 255}));
  const NpyArray cube = read_npy(Fixture("amazoncat/cube_f8.npy"));
  EXPECT_EQ(cube.shape, (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(cube.get<double>()[23], 23.0);
  const NpyArray scalar = read_npy(Fixture("amazoncat/scalar_f8.npy"));
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_EQ(scalar.size(), 1);
  EXPECT_EQ(scalar.get<double>()[0], 2.5);
  const NpyArray empty = read_npy(Fixture("amazoncat/empty_f4.npy"));
  EXPECT_EQ(empty.shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(empty.size(), 0);
}

TEST(Npy, ConversionsAndMatrices) {
  const NpyArray i8 = read_npy(Fixture("amazoncat/ids_i8.npy"));
  ExpectMessage(DataErrorOf([&] { i8.as<std::int32_t>(); }), {"ids_i8.npy", "does not fit"});
  ExpectMessage(DataErrorOf([&] { i8.get<double>(); }), {"ids_i8.npy", "<i8"});
  const NpyArray f4 = read_npy(Fixture("amazoncat/embeddings_f4.npy"));
  ExpectMessage(DataErrorOf([&] { f4.as<std::int64_t>(); }),
                {"embeddings_f4.npy", "not an integer"});
  const DenseMatrix<double> m = read_npy_matrix<double>(Fixture("amazoncat/embeddings_f4.npy"));
  EXPECT_EQ(m.rows, 8);
  EXPECT_EQ(m.cols, 4);
  EXPECT_EQ(m(2, 3), 11 / 8.0 - 1.0);
  const DenseMatrix<float> mf = read_npy_matrix<float>(Fixture("amazoncat/embeddings_f8_v2.npy"));
  EXPECT_EQ(mf(7, 3), 31 / 8.0f - 1.0f);
  ExpectMessage(DataErrorOf([] { read_npy_matrix<double>(Fixture("amazoncat/cube_f8.npy")); }),
                {"cube_f8.npy", "rank 3"});
}

TEST(Npy, MalformedFiles) {
  auto m = [](const char* name) { return Fixture(std::string("malformed/") + name); };
  ExpectMessage(DataErrorOf([&] { read_npy(m("wrong_dtype.npy")); }),
                {"wrong_dtype.npy", "unsupported .npy dtype '<c16'"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("big_endian.npy")); }),
                {"big_endian.npy", "'>f8'", "big-endian"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("unicode.npy")); }), {"unicode.npy", "'<U2'"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("fortran.npy")); }),
                {"fortran.npy", "Fortran", "ascontiguousarray"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("truncated.npy")); }),
                {"truncated.npy", "truncated .npy data", "expected 80 bytes, found 75"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("trailing_bytes.npy")); }),
                {"trailing_bytes.npy", "3 unexpected bytes"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("bad_magic.npy")); }), {"bad_magic.npy", "magic"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("small_matrix_bad_int.csv")); }),
                {"small_matrix_bad_int.csv", "not a .npy file"});
  ExpectMessage(DataErrorOf([&] { read_npy(m("absent.npy")); }), {"absent.npy", "cannot open"});
  // Every prefix of a valid file is rejected cleanly (no crash, no other exception).
  std::ifstream in(Fixture("amazoncat/embeddings_f8_v3.npy"), std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(DataErrorOf([&] {
                   parse_npy(std::span<const unsigned char>(bytes.data(), n), "prefix");
                 }).empty());
  }
}

TEST(Npy, WriteReadRoundTrip) {
  const fs::path dir = testing::TempDir();
  const std::vector<double> d = {1.5, -2.25, 3e300, 0.0, -0.0, 1e-310};
  const std::vector<std::int64_t> shape23 = {2, 3};
  write_npy<double>(dir / "d.npy", d, shape23);
  NpyArray a = read_npy(dir / "d.npy");
  EXPECT_EQ(a.dtype, DType::kFloat64);
  EXPECT_EQ(a.shape, shape23);
  EXPECT_EQ(a.get<double>(), d);

  const std::vector<float> f = {1.5f, -2.25f, 3.0f};
  const std::vector<std::int64_t> shape3 = {3};
  write_npy<float>(dir / "f.npy", f, shape3);
  EXPECT_EQ(read_npy(dir / "f.npy").get<float>(), f);

  const std::vector<std::int32_t> i = {1, -2, 3, 4};
  const std::vector<std::int64_t> shape1x2x2 = {1, 2, 2};
  write_npy<std::int32_t>(dir / "i.npy", i, shape1x2x2);
  a = read_npy(dir / "i.npy");
  EXPECT_EQ(a.shape, shape1x2x2);
  EXPECT_EQ(a.get<std::int32_t>(), i);

  const std::vector<std::int64_t> l = {std::int64_t{1} << 50, -7};
  const std::vector<std::int64_t> shape2 = {2};
  write_npy<std::int64_t>(dir / "l.npy", l, shape2);
  EXPECT_EQ(read_npy(dir / "l.npy").get<std::int64_t>(), l);

  const std::vector<std::uint8_t> b = {1, 0, 1};
  write_npy<std::uint8_t>(dir / "b.npy", b, shape3, /*as_bool=*/true);
  a = read_npy(dir / "b.npy");
  EXPECT_EQ(a.dtype, DType::kBool);
  EXPECT_EQ(a.get<std::uint8_t>(), b);

  const std::vector<double> scalar = {4.0};
  write_npy<double>(dir / "s.npy", scalar, std::span<const std::int64_t>());
  a = read_npy(dir / "s.npy");
  EXPECT_EQ(a.rank(), 0);
  EXPECT_EQ(a.get<double>(), scalar);

  DenseMatrix<float> m(3, 2);
  for (int k = 0; k < 6; ++k) m.values[k] = 0.5f * k;
  write_npy(dir / "m.npy", m);
  const DenseMatrix<float> back = read_npy_matrix<float>(dir / "m.npy");
  EXPECT_EQ(back.rows, 3);
  EXPECT_EQ(back.cols, 2);
  EXPECT_EQ(back.values, m.values);

  // Header padded so the data starts on a 64-byte boundary, as numpy does.
  std::ifstream in(dir / "m.npy", std::ios::binary);
  unsigned char head[10];
  in.read(reinterpret_cast<char*>(head), 10);
  EXPECT_EQ(head[6], 1);
  EXPECT_EQ((10 + head[8] + 256 * head[9]) % 64, 0);

  // A header longer than 65535 bytes switches to format version 2.
  std::vector<std::int64_t> many(22000, 1);
  write_npy<double>(dir / "v2.npy", scalar, many);
  a = read_npy(dir / "v2.npy");
  EXPECT_EQ(a.rank(), 22000);
  EXPECT_EQ(a.get<double>(), scalar);

  ExpectMessage(DataErrorOf([&] { write_npy<double>(dir / "bad.npy", d, shape3); }),
                {"bad.npy", "shape holds 3 elements but 6 values"});
  ExpectMessage(DataErrorOf([&] { write_npy<double>(dir / "no" / "dir.npy", d, shape23); }),
                {"dir.npy", "cannot create"});
}

// numpy reads what we write.
TEST(Npy, NumpyReadsOurFiles) {
  const std::string& py = testing::PythonWithScipy();
  if (py.empty()) GTEST_SKIP() << "no python3 with numpy and scipy";
  const fs::path dir = testing::TempDir();
  std::vector<double> d(12);
  for (int k = 0; k < 12; ++k) d[k] = 0.5 * k - 1.0 / 3.0;
  const std::vector<std::int64_t> shape = {3, 4};
  write_npy<double>(dir / "d.npy", d, shape);
  std::vector<float> f(12);
  for (int k = 0; k < 12; ++k) f[k] = 0.25f * k;
  write_npy<float>(dir / "f.npy", f, shape);
  std::vector<std::int32_t> i = {7, -8, 9};
  const std::vector<std::int64_t> shape3 = {3};
  write_npy<std::int32_t>(dir / "i.npy", i, shape3);
  const std::string script =
      "import numpy as np, sys; d = sys.argv[1]\n"
      "a = np.load(d + '/d.npy'); assert a.dtype == np.float64 and a.shape == (3, 4)\n"
      "assert (a == (0.5 * np.arange(12) - 1.0 / 3.0).reshape(3, 4)).all()\n"
      "b = np.load(d + '/f.npy'); assert b.dtype == np.float32 and (b.ravel() == 0.25 * "
      "np.arange(12, dtype=np.float32)).all()\n"
      "c = np.load(d + '/i.npy'); assert c.dtype == np.int32 and list(c) == [7, -8, 9]\n";
  std::ofstream(dir / "check.py") << script;
  const std::string cmd = py + " '" + (dir / "check.py").string() + "' '" + dir.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Reads a dump written by make_fixtures.py --fresh: first line the shape, then one value per line.
std::vector<double> ReadDump(const fs::path& p, std::vector<std::int64_t>* shape = nullptr) {
  LineReader in(p);
  std::string_view line;
  std::vector<double> values;
  bool first = true;
  while (in.next(line)) {
    if (first) {
      first = false;
      if (shape) {
        shape->clear();
        std::size_t pos = 0;
        while (pos < line.size()) {
          std::size_t end = line.find(' ', pos);
          if (end == std::string_view::npos) end = line.size();
          std::int64_t v = 0;
          parse_int64(line.substr(pos, end - pos), v);
          shape->push_back(v);
          pos = end + 1;
        }
      }
      continue;
    }
    double v = 0;
    EXPECT_EQ(parse_double(line, v), ParseStatus::kOk) << line;
    values.push_back(v);
  }
  return values;
}

// Freshly generated numpy files agree with numpy's own text dump of the values.
TEST(Npy, FreshNumpyFilesAgree) {
  const std::string& py = testing::PythonWithScipy();
  if (py.empty()) GTEST_SKIP() << "no python3 with numpy and scipy";
  const fs::path dir = testing::TempDir();
  const std::string cmd =
      py + " '" + Fixture("make_fixtures.py").string() + "' --fresh '" + dir.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const char* name : {"a_f8", "b_f4", "c_i8"}) {
    SCOPED_TRACE(name);
    std::vector<std::int64_t> shape;
    const std::vector<double> expected = ReadDump(dir / (std::string(name) + ".txt"), &shape);
    const NpyArray a = read_npy(dir / (std::string(name) + ".npy"));
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.as<double>(), expected);
  }
}

}  // namespace
}  // namespace stagesim::data
