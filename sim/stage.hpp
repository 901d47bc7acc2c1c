#pragma once
// A stage scores/selects from a candidate set and learns from feedback. Nominators, rankers,
// retrievers and learned early-stage rankers are all stages; the pipeline composes them.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/state.hpp"
#include "sim/decision.hpp"
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
  // A metric (e.g. the stage log) wants Decision::scores: fill them if the stage has scores.
  bool report_scores = false;
};

// Feedback for one served request, as one stage instance sees it.
struct Feedback {
  // The request served. When the feedback was held (delayed or batched), a copy with only what
  // the stage's StageBuild::held_features declares (Request::hold_from): read features through
  // Request::feature_row (or a FeatureView), never by row index.
  const Request* request = nullptr;
  std::span<const int> candidates;     // what this instance was offered
  std::span<const int> selected;       // what it passed on, in order (= decision->ids)
  const Decision* decision = nullptr;  // everything it decided for this request
  std::span<const int> served;         // the slate the user saw
  // What the instance trains on per served position: the stage's scalarisation of the outcomes
  // (`objective`; by default the world's primary objective).
  std::span<const double> rewards;
  std::span<const double> weights;  // training weight per served position (train_on mode)
  // Every objective per served position, row-major [position × objective], named by objectives.
  std::span<const double> outcomes;
  std::span<const std::string> objectives;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // Appends `keep` items chosen from `candidates` (item ids) to `out.ids`, best first; may fill
  // out.scores (one per candidate), out.log_prob and out.payload. `out` arrives cleared.
  virtual void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                      Decision& out) = 0;
  // Learns from a batch of feedback (one element when the stage updates on every feedback).
  virtual void learn(std::span<const Feedback> batch) = 0;
  // Stages built with StageBuild::lookahead: called before each select while serving, with the
  // requests this instance is expected to serve before its next update, in order, the first being
  // the one about to be served (worlds without per-system state only; otherwise just that one).
  // A stage may precompute work that depends only on those requests and its current parameters
  // (the Plackett–Luce ranker's logits: one batched product per update instead of one per
  // request), but its decisions must be exactly those it makes without the hint.
  virtual void prepare(std::span<const Request* const> upcoming) {}
  // Selection when the pipeline is evaluated offline (policy value): no exploration, e.g. a
  // greedy Plackett–Luce ranker or a noisy ranker without its noise. Default: as when serving.
  virtual void select_eval(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                           Decision& out) {
    select(req, candidates, keep, rng, out);
  }
  // Current values of the statistics named by StageBuild::stats (e.g. training loss).
  virtual std::vector<double> stats() const { return {}; }
  // Stages an outside agent drives (sim/stepper.hpp): the length of the action they take, 0 for
  // every other stage, and the action for the requests that follow (size action_size()).
  virtual std::size_t action_size() const { return 0; }
  virtual void set_action(std::span<const double>) {}
  // Task checkpoints (docs/engine.md): writes everything the stage has learned, bit for bit, and
  // returns true; false (the default) means the stage cannot be checkpointed, and the task then
  // restarts from zero when resumed. restore reads what save wrote into a freshly built stage of
  // the same configuration. Only called between requests with no feedback outstanding.
  virtual bool save(StateWriter&) const { return false; }
  virtual void restore(StateReader&) {}
};

}  // namespace stagesim
