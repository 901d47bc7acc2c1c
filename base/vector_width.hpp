// Doubles per machine vector register, for kernels written with GCC/Clang vector extensions: a
// generic vector wider than a register is lowered to pairs of registers, and register tiles sized
// for AVX-512's 32 then spill to the stack on AVX2 (20-25x slower).
#pragma once

namespace stagesim {

#if defined(__AVX512F__)
inline constexpr int kVectorDoubles = 8;
inline constexpr int kVectorRegisters = 32;
#elif defined(__AVX__)
inline constexpr int kVectorDoubles = 4;
inline constexpr int kVectorRegisters = 16;
#else
inline constexpr int kVectorDoubles = 2;
inline constexpr int kVectorRegisters = 16;
#endif

}  // namespace stagesim
