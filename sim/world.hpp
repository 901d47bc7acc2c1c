#pragma once
// A world produces requests (contexts + oracle means) and realised outcomes. A stateless world is
// built once per replication from that replication's world streams and shared read-only by every
// system that runs on the same world configuration (common random numbers by sharing requests). A
// stateful world (WorldBuild::stateful) keeps per-user state that changes with what it served; it
// gets one instance per system, and draws its randomness from streams keyed by (user, purpose), so
// two systems that show the same items to the same user get the same responses.
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

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
  // Realised reward of showing `item` at slate position `pos` of `req` (the primary objective).
  virtual double reward(const Request& req, int item, int pos) const = 0;

  // Every objective (WorldBuild::objectives, primary first) of each served position, row-major
  // into out[position × objectives]. Default: one objective, reward().
  virtual void outcomes(const Request& req, std::span<const int> served,
                        std::span<double> out) const {
    for (std::size_t l = 0; l < served.size(); ++l)
      out[l] = reward(req, served[l], static_cast<int>(l));
  }

  // Stateful worlds: learns what was served and how the user responded (after outcomes(), before
  // the next request), e.g. to update the user's satisfaction or end the session.
  virtual void observe(const Request& req, std::span<const int> served,
                       std::span<const double> outcomes) {}

  // Session events since the previous request (session starts, ends), for metrics. Worlds that
  // own their arrival process (WorldBuild::owns_arrivals) set Request::time in next().
  struct SessionEvent {
    enum class Kind { start, end };
    Kind kind = Kind::start;
    std::int64_t user = -1;
    double time = 0;
    std::int64_t requests = 0;  // end: requests in the session
    double reward = 0;          // end: total primary outcome over the session
    double gap = NAN;           // start: time since the user's previous session ended (NaN: first)
  };
  virtual std::span<const SessionEvent> events() const { return {}; }

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
