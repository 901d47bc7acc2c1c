// .npz archives (ZIP, stored or deflated, zip64) and SciPy CSR matrices inside them.
#include "environments/data/data_error.hpp"
#include "environments/data/npz.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;
using namespace stagesim::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string path = file.set(data, size);
  fuzz::expect_only<DataError>([&] {
    NpzFile npz(path);
    for (const std::string& name : npz.names()) {
      try {
        (void)npz.read(name);
      } catch (const DataError&) {
      }
    }
  });
  fuzz::expect_only<DataError>([&] { (void)read_scipy_csr(path); });
  return 0;
}
