#pragma once
// A world produces requests (contexts + oracle means) and realised rewards. One instance is built
// per replication from that replication's world streams; it is shared read-only by every system
// that runs on the same world configuration (common random numbers).
#include <memory>

#include "sim/random.hpp"
#include "sim/request.hpp"

namespace stagesim {

class World {
 public:
  virtual ~World() = default;
  virtual int num_items() const = 0;
  virtual int dim() const = 0;
  // Fills the context, oracle means and `slate` per-position noise draws of the next request.
  // `index`, `time` and `delay_draw` are set by the caller.
  virtual void next(Request& req, int slate) = 0;
  // Realised reward of showing `item` at slate position `pos` of `req`.
  virtual double reward(const Request& req, int item, int pos) const = 0;

  // Worlds whose expected rewards form a fixed users × items table (tabular worlds, KuaiRec, the
  // embedding world) expose it, row u = user u; sigma is optional. Used by `stagesim export-world`
  // and by stages that evaluate on all users.
  struct Tables {
    const RowMatrix* q = nullptr;
    const RowMatrix* sigma = nullptr;
    // Scores a late-stage ranker ranks by when they are not q itself (e.g. the embedding world's
    // logits f, with q = softplus(f) + 1); nullptr = rank by q.
    const RowMatrix* score = nullptr;
  };
  virtual Tables tables() const { return {}; }

  // Draws an independent request from `rng` without touching the world's own streams, for offline
  // evaluation of a pipeline (policy value). False when the world cannot.
  virtual bool sample_request(Request& req, int slate, Rng& rng) const { return false; }
};

}  // namespace stagesim
