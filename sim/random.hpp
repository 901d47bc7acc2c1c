#pragma once
// Random streams. Every stream is selected by (master seed, key, replication, purpose) so that a
// task's numbers never depend on which thread, rank or order ran it, and so that systems which
// share a world configuration draw identical contexts and noise in the same replication (common
// random numbers). Boost.Random engines and distributions are used because their output is
// specified exactly, unlike std:: distributions which differ between standard libraries.
#include <cstdint>
#include <string_view>

#include "base/rng.hpp"

namespace stagesim {

// SplitMix64 finaliser: a bijective mix with good avalanche, used to combine stream coordinates.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a over bytes, then mixed: stable across platforms, used for purpose names and config text.
constexpr std::uint64_t hash_text(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

constexpr std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
  return mix64(a ^ (mix64(b) + 0x632be59bd9b4e019ULL + (a << 6) + (a >> 2)));
}

// A uniform in [0, 1) that is a pure function of its coordinates: counter-based randomness for
// stateful worlds, whose draws are keyed by (user, the user's request number, position) so that
// systems showing a user the same items get the same responses whatever else they did.
constexpr double counter_uniform(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                                 std::uint64_t c = 0) {
  const std::uint64_t h = mix64(hash_combine(hash_combine(hash_combine(seed, a), b), c));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// Identifies one family of streams: everything but the purpose.
struct StreamKey {
  std::uint64_t master_seed = 0;
  std::uint64_t scope = 0;  // hash of the configuration the stream belongs to (world or system)
  std::uint64_t replication = 0;

  std::uint64_t seed_for(std::string_view purpose) const {
    return hash_combine(hash_combine(hash_combine(master_seed, scope), replication),
                        hash_text(purpose));
  }
  Rng stream(std::string_view purpose) const { return Rng(seed_for(purpose)); }
  // A sub-stream for an indexed member (e.g. the n-th nominator replica).
  Rng stream(std::string_view purpose, std::uint64_t index) const {
    return Rng(hash_combine(seed_for(purpose), index + 1));
  }
};

}  // namespace stagesim
