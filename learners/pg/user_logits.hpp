// Logits of a few users under one two-tower model, from a dim-major copy of its item table: the
// serving path of the Plackett–Luce ranker (policies/pl_ranker.cpp), one request or a whole
// update's worth of requests at once.
#pragma once

#include <span>

#include "base/matrix.hpp"

namespace stagesim::pg {

// out(r, a) = Σ_j (U[users[r]][j] · inv_tau) · vt(j, a) for r < users.size(), a < vt.cols(), into
// rows of `out` (resized to users.size() × vt.cols()). Every element is summed in j order from 0
// with a separate multiply and add, exactly as a single-row loop would, so a row's bits do not
// depend on how many rows share the call (the engine batches the requests of one update; a lone
// request gives the same logits). Rows of users out of range are the caller's to refuse.
void user_logits(const RowMatrixXd& user_table, std::span<const int> users, const RowMatrixXd& vt,
                 double inv_tau, RowMatrixXd& out);

}  // namespace stagesim::pg
