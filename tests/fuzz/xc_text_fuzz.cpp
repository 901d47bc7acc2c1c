// Extreme Classification text (AmazonCat-13K train.txt) and the category selection on its labels.
#include "environments/data/data_error.hpp"
#include "environments/data/multilabel.hpp"
#include "environments/data/xc_text.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;
using namespace stagesim::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string path = file.set(data, size);
  fuzz::expect_only<DataError>([&] {
    const XcDataset ds = read_xc_text(path, size % 2 == 0);
    const CategoryRemap r = select_categories(ds.labels, ds.num_labels, {1 + int(size % 3), 5});
    (void)compute_label_stats(r);
  });
  return 0;
}
