// Mutated fixtures (bit flips, truncations, inserted bytes) must load or throw DataError: never
// crash, hang, or throw anything else. Run under -DSTAGESIM_SANITIZE=ON to catch memory errors.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "environments/data/kuairec.hpp"
#include "environments/data/npy.hpp"
#include "environments/data/npz.hpp"
#include "environments/data/xc_text.hpp"
#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void Mutate(const char* fixture, const char* ext, const std::function<void(const fs::path&)>& load,
            int trials = 150) {
  SCOPED_TRACE(fixture);
  const std::string original = Slurp(testing::Fixture(fixture));
  ASSERT_FALSE(original.empty());
  const fs::path path = testing::TempDir() / (std::string("mutant") + ext);
  std::mt19937 rng(12345);
  int errors = 0;
  for (int t = 0; t < trials; ++t) {
    std::string s = original;
    std::uniform_int_distribution<std::size_t> pos(0, s.size() - 1);
    switch (t % 4) {
      case 0:  // flip a few bits
        for (int k = 0; k < 1 + t % 3; ++k) s[pos(rng)] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // truncate
        s.resize(pos(rng));
        break;
      case 2:  // insert junk bytes
        s.insert(pos(rng), std::string(1 + rng() % 4, static_cast<char>(rng() % 256)));
        break;
      case 3:  // overwrite a byte with a structural character
        s[pos(rng)] = "\",\n:[]\r\xff\x00"[rng() % 10];
        break;
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << s;
    try {
      load(path);
    } catch (const DataError& e) {
      ++errors;
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_NE(m.find("mutant"), std::string::npos) << m;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << t << ": non-DataError exception: " << e.what();
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(Robustness, MutatedFilesOnlyThrowDataError) {
  Mutate("amazoncat/embeddings_f8_v3.npy", ".npy", [](const fs::path& p) { read_npy(p); });
  Mutate("amazoncat/arrays_deflated.npz", ".npz", [](const fs::path& p) {
    NpzFile z(p);
    for (const std::string& n : z.names()) z.read(n);
  });
  Mutate("amazoncat/labels_csr.npz", ".npz", [](const fs::path& p) { read_scipy_csr(p); });
  Mutate("amazoncat/zip64_stored.npz", ".npz", [](const fs::path& p) {
    NpzFile z(p);
    for (const std::string& n : z.names()) z.read(n);
  });
  Mutate("amazoncat/train.txt", ".txt", [](const fs::path& p) { read_xc_text(p); });
  Mutate("kuairec/small_matrix.csv", ".csv", [](const fs::path& p) {
    load_kuairec_interactions(p);
    load_kuairec_dense<double>(p);
  });
  Mutate("kuairec/big_matrix.csv", ".csv", [](const fs::path& p) {
    InteractionOptions o;
    o.duplicates = DuplicatePolicy::kMax;
    load_kuairec_interactions(p, o);
  });
  Mutate("kuairec/user_features.csv", ".csv",
         [](const fs::path& p) { load_kuairec_user_features(p); });
  Mutate("kuairec/item_categories.csv", ".csv",
         [](const fs::path& p) { load_kuairec_item_categories(p); });
  Mutate("kuairec/item_daily_features.csv", ".csv",
         [](const fs::path& p) { load_kuairec_item_daily_features(p); });
}

}  // namespace
}  // namespace stagesim::data
