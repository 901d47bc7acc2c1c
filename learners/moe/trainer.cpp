#include "learners/moe/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "models/optimizers.hpp"

namespace stagesim::moe {

namespace {

struct Batch {
  std::vector<std::int64_t> users;
  std::vector<int> items;
  std::vector<double> rewards;
};

Batch gather(const Examples& ex, const std::vector<std::int64_t>& order, std::size_t begin,
             std::size_t end) {
  Batch b;
  for (std::size_t i = begin; i < end; ++i) {
    const auto k = static_cast<std::size_t>(order[i]);
    b.users.push_back(ex.user[k]);
    b.items.push_back(ex.item[k]);
    b.rewards.push_back(ex.reward[k]);
  }
  return b;
}

}  // namespace

double mean_objective(const MoeModel& model, const LabeledProducts& data, const Examples& examples,
                      int batch) {
  if (examples.size() == 0) return 0.0;
  std::vector<std::int64_t> order(examples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  double total = 0.0;
  for (std::size_t begin = 0; begin < order.size(); begin += static_cast<std::size_t>(batch)) {
    const std::size_t end = std::min(order.size(), begin + static_cast<std::size_t>(batch));
    const Batch b = gather(examples, order, begin, end);
    total += model.objective(gather_features(data, b.users), b.items, b.rewards) *
             static_cast<double>(end - begin);
  }
  return total / static_cast<double>(examples.size());
}

TrainReport train_moe(MoeModel& model, const LabeledProducts& data, const Examples& training,
                      const Examples& validation, const TrainOptions& options, Rng& rng) {
  if (options.batch < 1 || options.max_epochs < 0 || options.patience < 1 ||
      !(options.learning_rate > 0))
    throw std::invalid_argument("train_moe: batch, patience >= 1, max_epochs >= 0, lr > 0");
  if (training.size() == 0) throw std::invalid_argument("train_moe: no training examples");
  TrainReport report;
  models::Adam adam(models::AdamOptions{.learning_rate = options.learning_rate});
  const std::size_t trained = model.trained_tensors();
  models::ParameterSet grad = model.params().zeros_like();
  models::ParameterSet best = model.params();
  double best_val = validation.size() ? mean_objective(model, data, validation)
                                      : -std::numeric_limits<double>::infinity();
  int since_best = 0;
  double seconds = 0.0;

  for (int epoch = 1; epoch <= options.max_epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const auto order = random_permutation(static_cast<std::int64_t>(training.size()), rng);
    double epoch_total = 0.0;
    std::size_t batches = 0;
    for (std::size_t begin = 0; begin < order.size();
         begin += static_cast<std::size_t>(options.batch)) {
      const std::size_t end =
          std::min(order.size(), begin + static_cast<std::size_t>(options.batch));
      const Batch b = gather(training, order, begin, end);
      const double obj = model.objective(gather_features(data, b.users), b.items, b.rewards, &grad);
      if (!std::isfinite(obj)) throw std::runtime_error("train_moe: objective is not finite");
      epoch_total += obj;
      ++batches;
      // Adam minimises: step along the negated gradient of the objective we maximise.
      auto grads = grad.pointers(0, trained);
      for (RowMatrixXd* g : grads) *g = -*g;
      adam.step(model.params().pointers(0, trained),
                std::vector<const RowMatrixXd*>(grads.begin(), grads.end()));
      report.examples_seen += static_cast<std::int64_t>(end - begin);
    }
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.epochs = epoch;
    report.train_objective.push_back(epoch_total / static_cast<double>(batches));
    if (validation.size() == 0) {
      report.best_epoch = epoch;
      continue;
    }
    const double val = mean_objective(model, data, validation);
    report.validation_objective.push_back(val);
    if (val > best_val) {
      best_val = val;
      best = model.params();
      report.best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= options.patience) {
      break;
    }
  }
  if (validation.size() != 0) model.params() = best;
  report.seconds = seconds;
  return report;
}

}  // namespace stagesim::moe
