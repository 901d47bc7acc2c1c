// float32 exp, log and log1p over arrays with exactly the bits of the scalar std::exp, std::log and
// std::log1p of the C library the project targets (glibc 2.36, Debian 12, on an x86-64 CPU with
// AVX2 and FMA, where glibc's ifunc picks its FMA builds of expf and logf). The float32 reference
// paths of V-PG and CA-PG call these ~10 times per slot; as scalar library calls they were a fifth
// of a K = 200 step.
//
// Why replicas and not a faster approximation: the results of the float32 experiments (and their
// overflows) are then bit-identical to those computed with the scalar calls, before and after.
// The algorithms are glibc's (expf, logf: Szabolcs Nagy's table-driven ones evaluated in double;
// log1pf: the fdlibm one), re-expressed branch-free on 4 double or 8 float lanes. Checked against
// the library on every one of the 2^32 floats (docs/early-stage-pg.md, "float32 libm replicas");
// tests/pg/kernels_test.cpp checks a stride of them and the special values on every build.
//
// Without AVX2 + FMA (STAGESIM_NATIVE=OFF builds, other CPUs) these call the library itself, so
// the bits are then the library's on that machine, as before.
#pragma once

namespace stagesim::pg {

// out[i] = std::exp(x[i]), out[i] = std::log(x[i]), out[i] = std::log1p(x[i]) (float overloads),
// bit for bit for every input, NaN payloads included. May run in place (out == x).
void libm_expf(const float* x, float* out, int n);
void libm_logf(const float* x, float* out, int n);
void libm_log1pf(const float* x, float* out, int n);

}  // namespace stagesim::pg
