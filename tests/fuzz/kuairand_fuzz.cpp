// The KuaiRand readers: a log streamed row by row (with the tab statistics), user_features and
// video_features_basic. Bad input is a DataError, nothing else.
#include "environments/data/data_error.hpp"
#include "environments/data/kuairand.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;
using namespace stagesim::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string path = file.set(data, size);
  fuzz::expect_only<DataError>([&] {
    KuaiRandLogReader r({path});
    KuaiRandLogRow row;
    while (r.next(row)) {
    }
    (void)infer_tab_semantics(r.summary());
    (void)r.summary().report();
  });
  fuzz::expect_only<DataError>([&] { (void)load_kuairand_user_features(path).report(); });
  fuzz::expect_only<DataError>([&] { (void)load_kuairand_video_features(path).report(); });
  return 0;
}
