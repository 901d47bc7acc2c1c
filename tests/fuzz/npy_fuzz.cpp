// .npy files: the header parser, every dtype conversion, and the column-prefix reader.
#include "environments/data/data_error.hpp"
#include "environments/data/npy.hpp"
#include "tests/fuzz/fuzz_util.hpp"

using namespace stagesim;
using namespace stagesim::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file;
  const std::string path = file.set(data, size);
  fuzz::expect_only<DataError>([&] { (void)read_npy_matrix<double>(path); });
  fuzz::expect_only<DataError>([&] { (void)read_npy_matrix_columns<float>(path, 3); });
  fuzz::expect_only<DataError>([&] {
    const NpyArray a = parse_npy({data, size}, "bytes");
    (void)npy_to_matrix<float>(a);
  });
  fuzz::expect_only<DataError>([&] { (void)parse_npy_string({data, size}, "bytes"); });
  return 0;
}
