#pragma once
// A stage scores/selects from a candidate set and learns from feedback. Nominators, rankers,
// retrievers and learned early-stage rankers are all stages; the pipeline composes them.
#include <memory>
#include <span>
#include <vector>

#include "sim/random.hpp"
#include "sim/request.hpp"
#include "sim/world.hpp"

namespace stagesim {

// What one stage instance is built with.
struct StageSetup {
  int num_items = 0;             // items in the world
  int world_dim = 0;             // feature columns the world provides
  std::vector<int> features;     // columns this instance sees, ascending (all of them by default)
  int replica = 0;               // index among the replicas of its stage entry
  int keep = 1;                  // items it passes on per request
  Rng* init_rng = nullptr;       // for random initialisation (the stage's own stream)
  const World* world = nullptr;  // this replication's world (e.g. its reward tables), read-only
};

// Feedback for one served request, as one stage instance sees it.
struct Feedback {
  const Request* request = nullptr;
  std::span<const int> candidates;  // what this instance was offered
  std::span<const int> selected;    // what it passed on, in order
  std::span<const int> served;      // the slate the user saw
  std::span<const double> rewards;  // realised reward per served position
  std::span<const double> weights;  // training weight per served position (train_on mode)
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Appends `keep` items chosen from `candidates` (item ids) to `out`, best first.
  virtual void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                      std::vector<int>& out) = 0;
  // Learns from a batch of feedback (one element when the stage updates on every feedback).
  virtual void learn(std::span<const Feedback> batch) = 0;
  // Selection when the pipeline is evaluated offline (policy value): no exploration, e.g. a
  // greedy Plackett–Luce ranker or a noisy ranker without its noise. Default: as when serving.
  virtual void select_eval(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                           std::vector<int>& out) {
    select(req, candidates, keep, rng, out);
  }
  // Current values of the statistics named by StageBuild::stats (e.g. training loss).
  virtual std::vector<double> stats() const { return {}; }
};

}  // namespace stagesim
