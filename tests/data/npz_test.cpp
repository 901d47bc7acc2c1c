#include "environments/data/npz.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
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

std::vector<double> EmbeddingValues() {
  std::vector<double> v;
  for (int k = 0; k < 32; ++k) v.push_back(k / 8.0 - 1.0);
  return v;
}

TEST(Npz, StoredMembers) {
  const NpzFile z(Fixture("amazoncat/arrays_stored.npz"));
  EXPECT_EQ(z.names(), (std::vector<std::string>{"embeddings", "ids", "mask"}));
  EXPECT_TRUE(z.contains("ids"));
  EXPECT_TRUE(z.contains("ids.npy"));
  EXPECT_FALSE(z.contains("nope"));
  for (const ZipEntry& e : z.zip().entries()) EXPECT_EQ(e.method, 0) << e.name;
  const NpyArray emb = z.read("embeddings");
  EXPECT_EQ(emb.dtype, DType::kFloat32);
  EXPECT_EQ(emb.shape, (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(emb.as<double>(), EmbeddingValues());
  EXPECT_EQ(z.read("ids.npy").get<std::int64_t>(),
            (std::vector<std::int64_t>{0, 10, 20, 30, 40, 50, 60, 70}));
  EXPECT_EQ(z.read("mask").get<std::uint8_t>(),
            (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 0, 1, 0}));
  ExpectMessage(DataErrorOf([&] { z.read("nope"); }),
                {"arrays_stored.npz", "no array 'nope'", "embeddings, ids, mask"});
}

TEST(Npz, DeflatedMembers) {
  const NpzFile z(Fixture("amazoncat/arrays_deflated.npz"));
  ASSERT_EQ(z.zip().entries().size(), 2u);
  for (const ZipEntry& e : z.zip().entries()) EXPECT_EQ(e.method, 8) << e.name;
  EXPECT_EQ(z.read("embeddings").get<double>(), EmbeddingValues());
  EXPECT_EQ(z.read("ids").get<std::int64_t>()[7], 70);
}

TEST(Npz, Zip64Records) {
  const NpzFile z(Fixture("amazoncat/zip64_stored.npz"));
  EXPECT_EQ(z.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(z.zip().entries()[1].local_header_offset,
            z.zip().entries()[0].compressed_size + 30 + 5 + 20);
  EXPECT_EQ(z.read("x").get<double>(), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(z.read("y").get<std::int32_t>(), (std::vector<std::int32_t>{1, 2, 3}));
}

void ExpectFixtureLabels(const CsrMatrix& m) {
  EXPECT_EQ(m.rows, 8);
  EXPECT_EQ(m.cols, 10);
  EXPECT_EQ(m.indptr, (std::vector<std::int64_t>{0, 3, 5, 5, 8, 9, 11, 14, 17}));
  EXPECT_EQ(m.indices,
            (std::vector<std::int32_t>{0, 3, 7, 3, 5, 0, 1, 7, 3, 3, 9, 2, 3, 8, 1, 3, 4}));
  EXPECT_EQ(m.data, std::vector<double>(17, 1.0));
}

TEST(ScipyCsr, CompressedAndStored) {
  ExpectFixtureLabels(read_scipy_csr(Fixture("amazoncat/labels_csr.npz")));
  ExpectFixtureLabels(read_scipy_csr(Fixture("amazoncat/labels_csr_stored.npz")));
  const NpzFile z(Fixture("amazoncat/labels_csr.npz"));
  EXPECT_EQ(z.read_string("format"), "csr");
}

TEST(Npz, MalformedFiles) {
  auto m = [](const char* name) { return Fixture(std::string("malformed/") + name); };
  auto read_all = [](const fs::path& p) {
    NpzFile z(p);
    for (const std::string& n : z.names()) z.read(n);
  };
  ExpectMessage(DataErrorOf([&] { read_all(m("corrupt_crc.npz")); }),
                {"corrupt_crc.npz[a.npy]", "CRC-32 mismatch"});
  ExpectMessage(DataErrorOf([&] { read_all(m("corrupt_deflate.npz")); }), {"corrupt_deflate.npz"});
  ExpectMessage(DataErrorOf([&] { read_all(m("truncated.npz")); }),
                {"truncated.npz", "no end-of-central-directory"});
  ExpectMessage(DataErrorOf([&] { read_all(m("not_a_zip.npz")); }), {"not_a_zip.npz", "not a ZIP"});
  ExpectMessage(DataErrorOf([&] { read_all(m("absent.npz")); }), {"absent.npz", "cannot open"});
  ExpectMessage(DataErrorOf([&] { read_scipy_csr(m("csr_bad_indptr.npz")); }),
                {"csr_bad_indptr.npz", "indptr decreases at row 1"});
  ExpectMessage(DataErrorOf([&] { read_scipy_csr(m("csr_bad_index.npz")); }),
                {"csr_bad_index.npz", "column index 4", "outside [0, 4)"});
  ExpectMessage(DataErrorOf([&] { read_scipy_csr(m("csr_csc_format.npz")); }),
                {"csr_csc_format.npz", "'csc'", "tocsr"});
  ExpectMessage(DataErrorOf([&] { read_scipy_csr(m("csr_missing_member.npz")); }),
                {"csr_missing_member.npz", "'indptr' is missing"});
  ExpectMessage(DataErrorOf([&] { read_scipy_csr(Fixture("amazoncat/arrays_stored.npz")); }),
                {"arrays_stored.npz", "'format' is missing"});
}

std::vector<double> ReadDump(const fs::path& p) {
  LineReader in(p);
  std::string_view line;
  std::vector<double> values;
  in.next(line);  // shape
  while (in.next(line)) {
    double v = 0;
    EXPECT_EQ(parse_double(line, v), ParseStatus::kOk) << line;
    values.push_back(v);
  }
  return values;
}

// Files freshly written by numpy/scipy agree with numpy's text dump of the same values.
TEST(Npz, FreshScipyFilesAgree) {
  const std::string& py = testing::PythonWithScipy();
  if (py.empty()) GTEST_SKIP() << "no python3 with numpy and scipy";
  const fs::path dir = testing::TempDir();
  const std::string cmd =
      py + " '" + Fixture("make_fixtures.py").string() + "' --fresh '" + dir.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  const NpzFile bundle(dir / "bundle.npz");
  const NpyArray big = bundle.read("big");
  EXPECT_EQ(big.shape, (std::vector<std::int64_t>{300, 200}));
  EXPECT_EQ(big.get<double>(), ReadDump(dir / "big.txt"));
  EXPECT_EQ(bundle.read("a").get<double>(), ReadDump(dir / "a_f8.txt"));

  const CsrMatrix m = read_scipy_csr(dir / "m_csr.npz");
  EXPECT_EQ(m.rows, 120);
  EXPECT_EQ(m.cols, 90);
  std::vector<double> indptr(m.indptr.begin(), m.indptr.end());
  std::vector<double> indices(m.indices.begin(), m.indices.end());
  EXPECT_EQ(indptr, ReadDump(dir / "m_indptr.txt"));
  EXPECT_EQ(indices, ReadDump(dir / "m_indices.txt"));
  EXPECT_EQ(m.data, ReadDump(dir / "m_data.txt"));
  EXPECT_GT(m.nnz(), 0);
}

}  // namespace
}  // namespace stagesim::data
