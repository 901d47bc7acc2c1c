#pragma once
// Choosing the best items by score. Exact ties are broken uniformly at random; the generator is
// only consumed when a tie actually occurs, so tie-free runs do not depend on how many draws a
// tie-break would have needed.
#include <span>
#include <vector>

#include "sim/random.hpp"

namespace stagesim {

// Appends to `out` the positions (0..scores.size()-1) of the k highest scores, best first.
void top_k(std::span<const double> scores, int k, Rng& rng, std::vector<int>& out);

// Position of the highest score (ties uniform).
int argmax(std::span<const double> scores, Rng& rng);

// Appends k distinct positions drawn uniformly from 0..n-1 (in draw order).
void uniform_sample(int n, int k, Rng& rng, std::vector<int>& out, std::vector<int>& scratch);

// Uniform integer in [0, n).
int uniform_index(Rng& rng, int n);

}  // namespace stagesim
