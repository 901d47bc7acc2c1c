// Partial selection of the largest keys (no full sort).
#pragma once

#include <vector>

namespace stagesim::pg {

// Holds scratch buffers between calls (one per thread). Cost ~N vectorised comparisons plus a sort
// of about 2n candidates when n <= N / 32; otherwise a selection over all N.
class TopSelector {
 public:
  // Writes the indices of the n largest of key[0..n_items) to out[0..n), largest first; ties go
  // to the lower index so results never depend on the selection algorithm. Requires
  // 0 <= n <= n_items. NaN keys never cause undefined behaviour: the result is always n distinct
  // indices, NaNs ranked after numbers among them, but with NaNs present the fast path may miss a
  // number next to one (callers that care clamp non-finite keys first, as pl_ranker does).
  void select(const double* key, int n_items, int n, int* out);
  // The same for float keys (identical results to selecting on the keys widened to double).
  void select(const float* key, int n_items, int n, int* out);

 private:
  std::vector<int> index_;
  std::vector<double> value_;
  std::vector<float> fvalue_;
  std::vector<unsigned char> flag_;
};

}  // namespace stagesim::pg
