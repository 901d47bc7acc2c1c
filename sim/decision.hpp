#pragma once
// What one stage instance decided for one request. The engine keeps it with the request's record,
// hands it back in Feedback and shows every stage's decision to metrics (Trace), so a learner can
// train from the probabilities it sampled with, a stage log can record scores, and an agent's
// action (sampled parameter index, fusion weights) travels with its outcome.
#include <limits>
#include <memory>
#include <span>
#include <vector>

namespace stagesim {

struct Decision {
  std::vector<int> ids;  // the selection, best first (what the stage passes on)
  // Optional score per candidate, aligned with the candidates the stage was offered; empty when
  // the stage does not report scores.
  std::vector<double> scores;
  // log-probability of this selection under the stage's (stochastic) policy; NaN when the stage
  // does not report it (deterministic stages, or when it is not computed).
  double log_prob = std::numeric_limits<double>::quiet_NaN();
  // Opaque per-request data the stage wants back with the feedback (e.g. a sampled parameter
  // index, fusion weights, the softmax it sampled from). Only the stage interprets it.
  std::vector<double> payload;
  // Stage-private per-request state too large to copy (e.g. the softmax a Plackett–Luce ranker
  // sampled from, reused by its gradient). Shared, so delayed feedback keeps it alive without a
  // copy; the engine never looks inside.
  std::shared_ptr<const void> state;

  // Empties the decision and keeps the capacity (no allocation per request in steady state).
  void clear() {
    ids.clear();
    scores.clear();
    log_prob = std::numeric_limits<double>::quiet_NaN();
    payload.clear();
    state.reset();
  }
};

// One stage instance's part in a served request, as metrics see it (Trace::stages).
struct StageView {
  int entry = 0;    // index of the stage entry (Config::stages, topological order)
  int replica = 0;  // index among the entry's replicas
  std::span<const int> candidates;
  const Decision* decision = nullptr;
};

}  // namespace stagesim
