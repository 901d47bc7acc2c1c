// Writes the KuaiRand-shaped fixture tests/fixtures/kuairand_shaped (the data the default
// calibration runs on) from the parameters in tests/fixtures/kuairand_shaped/session_world.toml:
//   build/tests/make_kuairand_shaped tests/fixtures/kuairand_shaped/session_world.toml
//     tests/fixtures/kuairand_shaped   (one command line)
// Not a test; the truth file records what a fit on the fixture should come close to.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "environments/kuairand_synthetic_logs.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TRUTH.toml OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    const stagesim::SessionWorldParams p = stagesim::read_session_world_params(argv[1]);
    stagesim::SyntheticLogOptions o;
    o.users = std::getenv("USERS") ? std::atoi(std::getenv("USERS")) : 30;
    const auto c = stagesim::write_synthetic_kuairand(p, o, 20220408, argv[2]);
    std::printf("%lld rows, %lld sessions, %lld gaps\n", static_cast<long long>(c.rows),
                static_cast<long long>(c.sessions), static_cast<long long>(c.gaps));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
