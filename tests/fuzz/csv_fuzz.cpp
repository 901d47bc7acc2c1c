// The CSV reader and the KuaiRec loaders on it: interactions (every duplicate policy), the dense
// table, and the side tables. Bad input is a DataError, nothing else.
#include "environments/data/csv.hpp"
#include "environments/data/data_error.hpp"
#include "environments/data/kuairec.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;
using namespace stagesim::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string path = file.set(data, size);
  fuzz::expect_only<DataError>([&] {
    CsvReader r(path, 64);  // a tiny buffer exercises records that span refills
    while (r.next()) {
      for (std::size_t i = 0; i < r.size(); ++i) {
        (void)r.field(i);
        try {
          (void)r.as_double(i);
        } catch (const DataError&) {
        }
      }
    }
  });
  fuzz::expect_only<DataError>([&] {
    InteractionOptions o;
    o.duplicates = static_cast<DuplicatePolicy>(size % 5);
    o.clip = size % 2 ? std::optional<double>(5.0) : std::nullopt;
    (void)load_kuairec_interactions(path, o);
  });
  fuzz::expect_only<DataError>([&] {
    DenseOptions o;
    o.duplicates = static_cast<DuplicatePolicy>(1 + size % 4);
    o.max_bytes = 64e6;
    (void)load_kuairec_dense<double>(path, o);
  });
  fuzz::expect_only<DataError>([&] { (void)load_kuairec_user_features(path); });
  fuzz::expect_only<DataError>([&] { (void)load_kuairec_item_categories(path); });
  fuzz::expect_only<DataError>([&] { (void)load_kuairec_social_network(path); });
  fuzz::expect_only<DataError>([&] { (void)load_kuairec_item_daily_features(path); });
  return 0;
}
