// Mini-batch Adam (models::Adam) training of a MoeModel on the spec §7 objective, with early
// stopping on a validation split: after every epoch the validation objective is computed, the best
// parameters are kept, and training stops after `patience` epochs without improvement (or
// max_epochs).
#pragma once

#include <cstdint>
#include <vector>

#include "environments/generators/labeled_products.hpp"
#include "learners/moe/moe_model.hpp"

namespace stagesim::moe {

struct TrainOptions {
  int batch = 256;
  double learning_rate = 1e-3;
  int max_epochs = 20;
  int patience = 3;
};

struct TrainReport {
  int epochs = 0;      // epochs run
  int best_epoch = 0;  // 1-based epoch whose parameters were kept (0 = the initial ones)
  std::vector<double> train_objective;       // mean over each epoch's batches
  std::vector<double> validation_objective;  // after each epoch
  std::int64_t examples_seen = 0;
  double seconds = 0;  // wall time of the training loop (not the validation passes)
};

// Trains `model` in place; the epoch order is shuffled with `rng`. Throws invalid_argument on bad
// options and runtime_error when the objective stops being finite.
TrainReport train_moe(MoeModel& model, const LabeledProducts& data, const Examples& training,
                      const Examples& validation, const TrainOptions& options, Rng& rng);

// Mean objective over `examples` (in chunks of `batch`).
double mean_objective(const MoeModel& model, const LabeledProducts& data, const Examples& examples,
                      int batch = 1024);

}  // namespace stagesim::moe
