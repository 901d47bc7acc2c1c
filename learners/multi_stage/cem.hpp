#pragma once
// Cross-entropy method over a fixed weight vector w ∈ [−1, 1]^n (CEM over fixed fusion weights:
// deterministic given its stream): each iteration draws `population` candidates from
// N(mean, diag(sd²)) clipped to the box, scores each with `score` (higher is better), and
// moves mean and sd to the `elites` best (sd floored at min_sd to keep exploring).
#include <functional>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::multistage {

struct CemOptions {
  int population = 16;
  int elites = 4;
  int iterations = 10;
  double initial_sd = 0.5;
  double min_sd = 0.05;
};

struct CemResult {
  Eigen::RowVectorXd mean;
  std::vector<double> best_score;  // per iteration: the best candidate's score
};

// score(w, iteration, candidate) → higher is better; on_iteration(iteration, mean) after each
// iteration's update (optional).
CemResult run_cem(const Eigen::RowVectorXd& initial, const CemOptions& o, Rng& rng,
                  const std::function<double(const Eigen::RowVectorXd&, int, int)>& score,
                  const std::function<void(int, const Eigen::RowVectorXd&)>& on_iteration = {});

}  // namespace stagesim::multistage
