#pragma once
// Runs a learner on an offline strategic-parameter problem for a number of rounds: each round the
// learner chooses a parameter per bucket, every bucket observes μ(β_k) + noise, the learner
// updates. Records the true value f(U p) of the deployed and current distributions at the
// requested rounds.
#include <cstdint>
#include <functional>
#include <vector>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"

namespace stagesim::strategic {

struct RoundsOptions {
  std::int64_t rounds = 1000;
  int buckets = 1;                      // Q
  std::vector<std::int64_t> record_at;  // ascending round counts (0 = before the first round)
  // Called after each recorded round with the rounds done (progress); may be empty.
  std::function<void(std::int64_t)> on_record;
};

struct RoundsRecord {
  // One entry per RoundsOptions::record_at.
  std::vector<double> deployed_value, current_value;          // f(U p)
  std::vector<double> deployed_violation, current_violation;  // worst guardrail shortfall of U p
  Eigen::VectorXd deployed, current;                          // after the last round
};

// `choices` feeds the learner's own sampling; `noise` gives Q·m standard normals per round in
// (bucket, metric) order whatever the learner chose, so learners run with the same noise stream
// see the same noise in the same (round, bucket): common random numbers.
RoundsRecord run_rounds(const Problem& problem, Learner& learner, const RoundsOptions& options,
                        Rng& choices, Rng& noise);

}  // namespace stagesim::strategic
