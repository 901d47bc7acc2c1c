#include <gtest/gtest.h>

#include <Eigen/Core>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <vector>

#include "learners/pg/adaptive_lr.hpp"
#include "environments/generators/embedding_world.hpp"
#include "learners/pg/grpo.hpp"
#include "learners/pg/lsr.hpp"
#include "environments/generators/reward_model.hpp"
#include "learners/pg/trainer.hpp"

namespace stagesim::pg {
namespace {

// The Adagrad formula and the finiteness check moved to tests/models/optimizers_test.cpp.

TEST(Grpo, NormalisesPerGroupAndPosition) {
  RowMatrixXd r(4, 2);
  r << 1, 5,  //
      3, 5,   // group 0, position 1: all equal → 0
      10, 0,  //
      14, 2;
  RowMatrixXd plain = r;
  grpo_normalize(plain, 2, false);
  const double sd = std::sqrt(2.0);  // unbiased sd of {1, 3}
  EXPECT_DOUBLE_EQ(plain(0, 0), -1.0 / sd);
  EXPECT_DOUBLE_EQ(plain(1, 0), 1.0 / sd);
  EXPECT_EQ(plain(0, 1), 0.0);
  EXPECT_EQ(plain(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(plain(3, 0), 2.0 / std::sqrt(8.0));
  RowMatrixXd shifted = r;
  grpo_normalize(shifted, 2, true);
  EXPECT_GE(shifted.minCoeff(), 0.0);
  EXPECT_DOUBLE_EQ(shifted(1, 0), 2.0 / sd);
  EXPECT_EQ(shifted(0, 0), 0.0);
  EXPECT_THROW(grpo_normalize(r, 3, false), std::invalid_argument);
}

TEST(LateStageRanker, Kinds) {
  const std::vector<int> candidates{4, 1, 3, 0};
  const double f[] = {0.5, 2.0, 9.0, 1.0, 3.0};
  Rng rng(1);
  std::vector<int> out(2);
  LateStageRanker optimal({LsrKind::kOptimal});
  optimal.pick(candidates, f, true, rng, out);
  EXPECT_EQ(out, (std::vector<int>{4, 1}));
  LateStageRanker anti({LsrKind::kAnti});
  anti.pick(candidates, f, true, rng, out);
  EXPECT_EQ(out, (std::vector<int>{0, 3}));
  LateStageRanker noisy({LsrKind::kNoisy, 1.0});
  noisy.pick(candidates, f, false, rng, out);  // evaluation: optimal
  EXPECT_EQ(out, (std::vector<int>{4, 1}));
  // Training: the first pick is PL over f/τ; check its top-choice frequency.
  const double p_top = noisy.top_choice_probability(candidates, f);
  EXPECT_NEAR(p_top,
              std::exp(3.0) / (std::exp(3.0) + std::exp(2.0) + std::exp(1.0) + std::exp(0.5)),
              1e-15);
  int top = 0;
  for (int i = 0; i < 40000; ++i) {
    noisy.pick(candidates, f, true, rng, out);
    top += out[0] == 4;
  }
  EXPECT_NEAR(top / 40000.0, p_top, 5 * std::sqrt(p_top * (1 - p_top) / 40000));
  LateStageRanker uniform({LsrKind::kUniform});
  EXPECT_DOUBLE_EQ(uniform.top_choice_probability(candidates, f), 0.25);
  std::vector<int> counts(5, 0), one(1);
  for (int i = 0; i < 40000; ++i) {
    uniform.pick(candidates, f, false, rng, one);
    ++counts[one[0]];
  }
  for (int c : candidates) EXPECT_NEAR(counts[c], 10000, 5 * 86.6);  // binomial sd
}

TEST(RewardModel, NoiseKinds) {
  RewardTables t{RowMatrixXd::Constant(1, 1, 3.0), RowMatrixXd::Constant(1, 1, 0.5)};
  Rng rng(2);
  constexpr int n = 20000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double r = sample_reward({RewardNoise::kAdditiveGaussian}, t, 0, 0, rng);
    sum += r;
    sum_sq += r * r;
  }
  EXPECT_NEAR(sum / n, 3.0, 5 * 0.5 / std::sqrt(n));
  EXPECT_NEAR(std::sqrt(sum_sq / n - (sum / n) * (sum / n)), 0.5, 0.02);
  sum = 0;
  for (int i = 0; i < n; ++i)
    sum += sample_reward({RewardNoise::kMultiplicativeGaussian, 0.3}, t, 0, 0, rng);
  EXPECT_NEAR(sum / n, 3.0, 5 * 0.9 / std::sqrt(n));
  RewardTables p{RowMatrixXd::Constant(1, 1, 0.2), {}};
  sum = 0;
  for (int i = 0; i < n; ++i) sum += sample_reward({RewardNoise::kBernoulli}, p, 0, 0, rng);
  EXPECT_NEAR(sum / n, 0.2, 5 * 0.4 / std::sqrt(n));
  EXPECT_EQ(sample_reward({RewardNoise::kNone}, t, 0, 0, rng), 3.0);
}

// Small world shared by the trainer tests (so they stay fast).
EmbeddingWorld small_world() {
  EmbeddingWorldOptions o;
  o.n_users = 50;
  o.n_items = 60;
  return make_embedding_world(1, o);
}

TEST(AdaptiveLearningRate, TopChoiceProbabilityPerLsr) {
  const EmbeddingWorld world = small_world();
  Rng init(3);
  const PLMixture policy(1, 50, 60, 10, init);
  Rng rng(4);
  EXPECT_EQ(
      estimate_top_choice_probability(policy, world.tables.q, {LsrKind::kOptimal}, 10, 500, rng),
      1.0);
  EXPECT_NEAR(
      estimate_top_choice_probability(policy, world.tables.q, {LsrKind::kUniform}, 10, 500, rng),
      0.1, 1e-12);
  const double noisy =
      estimate_top_choice_probability(policy, world.tables.q, {LsrKind::kNoisy}, 10, 2000, rng);
  EXPECT_GT(noisy, 0.1);
  EXPECT_LT(noisy, 1.0);
  EXPECT_DOUBLE_EQ(adaptive_learning_rate(1e-2, 0.1), 0.1);
  EXPECT_NEAR(adaptive_learning_rate(1e-2, 0.6, true), 2e-2, 1e-15);  // 1.67e-2 → 2e-2
  EXPECT_THROW(adaptive_learning_rate(1e-2, 0.0), std::invalid_argument);
}

struct Streams {
  Rng batch{11}, esr{12}, lsr{13}, reward{14};
  StepRngs refs() { return {batch, esr, lsr, reward}; }
};

std::vector<RowMatrixXd> snapshot(PLMixture& policy) {
  std::vector<RowMatrixXd> copy;
  for (const RowMatrixXd& p : policy.parameters()) copy.push_back(p);
  return copy;
}

bool same_parameters(PLMixture& policy, const std::vector<RowMatrixXd>& copy) {
  const models::ParameterSet& params = policy.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!(params[i] == copy[i])) return false;
  }
  return true;
}

// Towers built so that item 0 beats every other item by 100 nats for every user: the float32
// reference V-PG overflows on the first step, which must leave every parameter untouched.
TEST(Trainer, OverflowSkipsTheUpdate) {
  const EmbeddingWorld world = small_world();
  for (Precision precision : {Precision::kFloat32Reference, Precision::kStableDouble}) {
    Rng init(5);
    PLMixture policy(1, 50, 60, 10, init);
    policy.user_table(0).setZero();
    policy.user_table(0).col(0).setConstant(10.0);
    policy.item_table(0).col(0).setZero();
    policy.item_table(0)(0, 0) = 10.0;
    TrainerOptions options;
    options.n_candidates = 4;
    options.batch_size = 16;
    options.estimator = {Estimator::kVPg, precision};
    options.learning_rate = 0.1;
    Trainer trainer(policy, world.tables, options);
    const std::vector<RowMatrixXd> before = snapshot(policy);
    Streams s;
    const StepResult r = trainer.step(s.refs());
    if (precision == Precision::kFloat32Reference) {
      EXPECT_TRUE(r.overflow);
      EXPECT_TRUE(same_parameters(policy, before));
    } else {
      EXPECT_FALSE(r.overflow);
      EXPECT_FALSE(same_parameters(policy, before));
    }
  }
}

TEST(Trainer, DeterministicGivenStreams) {
  const EmbeddingWorld world = small_world();
  std::vector<RowMatrixXd> first;
  for (int run = 0; run < 2; ++run) {
    Rng init(6);
    PLMixture policy(2, 50, 60, 10, init);
    TrainerOptions options;
    options.n_candidates = 5;
    options.n_picks = 2;
    options.batch_size = 32;
    options.estimator = {Estimator::kCaPg, Precision::kStableDouble};
    options.lsr = {LsrKind::kNoisy};
    Trainer trainer(policy, world.tables, options);
    Streams s;
    for (int i = 0; i < 20; ++i) ASSERT_FALSE(trainer.step(s.refs()).overflow);
    if (run == 0) {
      first = snapshot(policy);
    } else {
      EXPECT_TRUE(same_parameters(policy, first));
    }
  }
}

TEST(Trainer, GrpoGroupsRolloutsOfOneUser) {
  const EmbeddingWorld world = small_world();
  Rng init(7);
  PLMixture policy(5, 50, 60, 10, init);
  TrainerOptions options;
  options.n_candidates = 20;
  options.grpo_group_size = 8;
  options.estimator = {Estimator::kCaPgSwr, Precision::kStableDouble};
  Trainer trainer(policy, world.tables, options);
  Streams s;
  EXPECT_FALSE(trainer.step(s.refs()).overflow);
  for (int i = 0; i < 128; ++i) EXPECT_EQ(trainer.users()[i], trainer.users()[i / 8 * 8]);
  EXPECT_NE(trainer.users()[0], trainer.users()[8]);  // 16 groups drawn independently
}

// The trainer's fused, blocked step must compute exactly the batch API's gradient for the batch
// it drew (up to the summation order of the blocked GEMMs): with and without GRPO, with a batch
// that leaves a partial last block.
TEST(Trainer, GradientEqualsBatchEstimator) {
  const EmbeddingWorld world = small_world();
  for (int group : {0, 8}) {
    Rng init(8);
    PLMixture policy(2, 50, 60, 10, init);
    const PLMixture before = policy;
    TrainerOptions options;
    options.n_candidates = 5;
    options.n_picks = 2;
    options.batch_size = group == 0 ? 70 : 64;
    options.grpo_group_size = group;
    options.estimator = {Estimator::kCaPg, Precision::kStableDouble};
    Trainer trainer(policy, world.tables, options);
    Streams s;
    ASSERT_FALSE(trainer.step(s.refs()).overflow);

    std::vector<RowMatrixXd> logits, grad_logits;
    models::ParameterSet grads;
    before.batch_logits(trainer.users(), logits);
    RowMatrixXd rewards = trainer.rewards();
    if (group != 0) grpo_normalize(rewards, group, true);
    const ScoreResult r =
        estimator_gradient(options.estimator, slot_block_sizes(5, 2), logits, trainer.candidates(),
                           trainer.picks(), rewards, grad_logits);
    ASSERT_TRUE(r.finite);
    before.backprop(trainer.users(), grad_logits, grads);
    ASSERT_EQ(grads.size(), trainer.gradients().size());
    for (std::size_t p = 0; p < grads.size(); ++p) {
      const double scale = grads[p].cwiseAbs().maxCoeff();
      EXPECT_LE((grads[p] - trainer.gradients()[p]).cwiseAbs().maxCoeff(), 1e-12 * scale)
          << "group " << group << " tensor " << p;
    }
  }
}

// Spec §7 protocol in miniature: K = 10, M = 1, optimal LSR, 3000 steps of batch 128 on the
// default world, 3 replications; values on 10 000 users with sampled rewards. CA-PG and TOP1
// reach ≈ 6.8–6.9 from ≈ 5.8 (improvement ≈ 1.0 against an SE of ≈ 0.03 for one difference), so
// "mean improvement > 3 SE" has a wide margin; the SE combines the between-replication spread
// with the evaluation noise.
TEST(Trainer, ShortRunImprovesPolicyValue) {
  Eigen::setNbThreads(1);  // one core per run, as in the experiments (and no oversubscription)
  const EmbeddingWorld world = make_embedding_world(0);
  for (Estimator e : {Estimator::kCaPg, Estimator::kCaPgSwr}) {
    constexpr int kReps = 3;
    double sum = 0.0, sum_sq = 0.0, eval_var = 0.0;
    for (int rep = 0; rep < kReps; ++rep) {
      Rng init(100 + rep);
      PLMixture policy(1, 1000, 1000, 10, init);
      TrainerOptions options;
      options.estimator = {e, Precision::kStableDouble};
      options.learning_rate = 1e-2;
      Trainer trainer(policy, world.tables, options);
      Rng eval(500 + rep);
      const PolicyValue v0 = evaluate_policy(policy, world.tables, {}, eval);
      Rng batch(1 + rep), esr(20 + rep), lsr(40 + rep), reward(60 + rep);
      for (int step = 0; step < 3000; ++step) {
        ASSERT_FALSE(trainer.step({batch, esr, lsr, reward}).overflow);
      }
      const PolicyValue v1 = evaluate_policy(policy, world.tables, {}, eval);
      const double gain = v1.mean_over_positions - v0.mean_over_positions;
      sum += gain;
      sum_sq += gain * gain;
      eval_var += v0.standard_error * v0.standard_error + v1.standard_error * v1.standard_error;
    }
    const double mean = sum / kReps;
    const double between = (sum_sq - kReps * mean * mean) / (kReps - 1);
    const double se = std::sqrt((between + eval_var / kReps) / kReps);
    EXPECT_GT(mean, 3 * se) << estimator_name(e) << ": gain " << mean << " se " << se;
    EXPECT_GT(mean, 0.5) << estimator_name(e);
  }
}

}  // namespace
}  // namespace stagesim::pg
