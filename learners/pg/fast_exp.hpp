// Vectorisable exp for softmax weights: the N exponentials per context and model are the largest
// elementwise cost of a gradient step, and Eigen's double exp divides (a Padé form).
#pragma once

namespace stagesim::pg {

// out[i] = exp(x[i] − shift) for x[i] − shift <= 709, with at most 1 ulp error; results below
// exp(−708) (the end of the normal doubles) are flushed to 0. Plain arithmetic only, so every
// build gives the same bits whatever the vector width.
void exp_shifted(const double* x, double shift, double* out, int n);

}  // namespace stagesim::pg
