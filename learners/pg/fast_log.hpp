// Vectorisable natural logarithm of float arrays (the Gumbel noise of the float32 sampler needs two
// logs per item and block: 2000 per K = 10 row).
#pragma once

namespace stagesim::pg {

// out[i] = log(x[i]) for positive, normal, finite x (the only inputs the sampler produces; other
// inputs give unspecified values, never a trap). Cephes' logf: x = m·2^e with m in [√½, √2),
// log(1 + f) by a degree-9 polynomial, e·ln 2 split in two. Branch-free, so GCC vectorises it at
// the full vector width. Error: at most 1 ulp of log(x) away from the correctly rounded std::log
// (checked over every float of [2^-126, 2^7] in tests/pg/kernels_test.cpp, the range the sampler
// uses). May run in place (out == x).
void log_float(const float* x, float* out, int n);

}  // namespace stagesim::pg
