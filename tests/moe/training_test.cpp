// The optimiser and the training loop: Adam's first step, and early stopping keeping the best
// parameters seen on the validation split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "models/optimizers.hpp"
#include "environments/generators/planted_world.hpp"
#include "learners/moe/trainer.hpp"

namespace stagesim::moe {
namespace {

TEST(MoeAdam, FirstStepMovesEachEntryByLearningRate) {
  // Bias correction makes the first Adam step lr · g / (|g| + eps) ≈ lr · sign(g).
  RowMatrixXd theta(1, 3), g(1, 3);
  theta << 1.0, 2.0, 3.0;
  g << 0.5, -4.0, 1e-3;
  models::Adam adam(models::AdamOptions{.learning_rate = 0.1});
  std::vector<RowMatrixXd*> params{&theta};
  std::vector<const RowMatrixXd*> grads{&g};
  adam.step(params, grads);
  EXPECT_NEAR(theta(0, 0), 0.9, 1e-6);
  EXPECT_NEAR(theta(0, 1), 2.1, 1e-6);
  EXPECT_NEAR(theta(0, 2), 2.9, 1e-4);
  EXPECT_EQ(adam.steps(), 1);
  RowMatrixXd wrong(2, 2);
  std::vector<const RowMatrixXd*> bad{&wrong};
  EXPECT_THROW(adam.step(params, bad), std::invalid_argument);
}

TEST(MoeTrainer, EarlyStoppingKeepsTheBestValidationParameters) {
  PlantedOptions po;
  po.products = 3000;
  const PlantedWorld w = generate_planted_world(po);
  Rng rng(4);
  std::vector<std::int64_t> users(3000);
  for (std::size_t i = 0; i < users.size(); ++i) users[i] = static_cast<std::int64_t>(i);
  // Few examples and a large step: the validation objective peaks and then wobbles.
  const auto [train, val] = split_examples(sample_examples(w.data, users, 60, rng), 0.3, rng);
  MoeConfig c;
  c.features = 20;
  c.items = 20;
  c.item_dim = 5;
  c.subsets = w.feature_blocks;
  MoeModel model(c, rng);
  TrainOptions o;
  o.learning_rate = 5e-2;
  o.max_epochs = 30;
  o.patience = 2;
  const TrainReport r = train_moe(model, w.data, train, val, o, rng);
  ASSERT_EQ(static_cast<int>(r.validation_objective.size()), r.epochs);
  ASSERT_GE(r.best_epoch, 1);
  const double best =
      *std::max_element(r.validation_objective.begin(), r.validation_objective.end());
  EXPECT_EQ(r.validation_objective[static_cast<std::size_t>(r.best_epoch - 1)], best);
  EXPECT_DOUBLE_EQ(mean_objective(model, w.data, val), best);  // the kept parameters
  EXPECT_LE(r.epochs, r.best_epoch + o.patience);
  EXPECT_EQ(r.examples_seen, static_cast<std::int64_t>(train.size()) * r.epochs);
}

TEST(MoeTrainer, SameSeedSameResult) {
  PlantedOptions po;
  po.products = 2000;
  const PlantedWorld w = generate_planted_world(po);
  std::vector<std::int64_t> users(2000);
  for (std::size_t i = 0; i < users.size(); ++i) users[i] = static_cast<std::int64_t>(i);
  auto run = [&] {
    Rng rng(11);
    const Examples ex = sample_examples(w.data, users, 50, rng);
    MoeConfig c;
    c.features = 20;
    c.items = 20;
    c.item_dim = 3;
    c.subsets = w.feature_blocks;
    MoeModel model(c, rng);
    TrainOptions o;
    o.max_epochs = 3;
    train_moe(model, w.data, ex, Examples{}, o, rng);
    return model.params()[model.h_index()];
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace stagesim::moe
