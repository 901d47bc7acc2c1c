// The random engine of every layer. Boost.Random because its engines and distributions are
// specified exactly (std:: distributions differ between standard libraries); every draw goes
// through an engine passed in by the caller, seeded from the stream derivation in sim/random.hpp.
#pragma once

#include <boost/random/mersenne_twister.hpp>

namespace stagesim {

using Rng = boost::random::mt19937_64;

}  // namespace stagesim
