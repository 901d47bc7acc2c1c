#include "learners/pg/trainer.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <stdexcept>

#include "learners/pg/grpo.hpp"

namespace stagesim::pg {

namespace {

std::span<const int> row_span(const RowMatrixXi& m, Eigen::Index i) {
  return {m.row(i).data(), static_cast<std::size_t>(m.cols())};
}

std::span<int> row_span(RowMatrixXi& m, Eigen::Index i) {
  return {m.row(i).data(), static_cast<std::size_t>(m.cols())};
}

void check_tables(const RewardTables& tables, const RowMatrixXd& lsr_scores,
                  const RewardModel& reward, const PLMixture& policy) {
  const auto fits = [&](const RowMatrixXd& t) {
    return t.rows() == policy.n_users() && t.cols() == policy.n_items();
  };
  if (!fits(tables.q) || !fits(lsr_scores) ||
      (reward.noise == RewardNoise::kAdditiveGaussian && !fits(tables.sigma))) {
    throw std::invalid_argument("pg: reward tables / LSR scores do not match users × items");
  }
}

}  // namespace

Trainer::Trainer(PLMixture& policy, const RewardTables& tables, const TrainerOptions& options,
                 const RowMatrixXd* lsr_scores)
    : policy_(policy),
      tables_(tables),
      lsr_scores_(lsr_scores != nullptr ? *lsr_scores : tables.q),
      options_(options),
      block_sizes_(slot_block_sizes(options.n_candidates, policy.n_models())),
      sampler_(policy.n_items()),
      ranker_(options.lsr),
      kernel_(options.estimator, block_sizes_, policy.n_items()),
      adagrad_(options.learning_rate),
      subtract_group_min_(options.grpo_subtract_group_min.value_or(
          options.estimator.estimator == Estimator::kCaPg ||
          options.estimator.estimator == Estimator::kCaPgSwr)) {
  const int group = options_.grpo_group_size;
  if (options_.batch_size <= 0 || options_.n_picks <= 0 ||
      options_.n_picks > options_.n_candidates ||
      (group != 0 && (group < 2 || options_.batch_size % group != 0))) {
    throw std::invalid_argument("Trainer: inconsistent batch / K / L / GRPO sizes");
  }
  check_tables(tables_, lsr_scores_, options_.reward, policy);
  const Eigen::Index batch = options_.batch_size;
  users_.resize(static_cast<std::size_t>(batch));
  candidates_.resize(batch, options_.n_candidates);
  picks_.resize(batch, options_.n_picks);
  rewards_.resize(batch, options_.n_picks);
  weights_.resize(static_cast<std::size_t>(options_.n_picks));
  grad_rows_.resize(static_cast<std::size_t>(policy.n_models()));
}

void Trainer::sample_row(Eigen::Index local, Eigen::Index i, const StepRngs& rngs) {
  const int user = users_[i];
  if (!softmax_.holds(logits_, local)) {
    softmax_.compute(logits_, local);
    softmax_recomputed_ = true;
  }
  sampler_.sample(options_.sampler, softmax_, block_sizes_, rngs.esr, row_span(candidates_, i));
  ranker_.pick(row_span(std::as_const(candidates_), i), lsr_scores_.row(user).data(), true,
               rngs.lsr, row_span(picks_, i));
  for (Eigen::Index l = 0; l < picks_.cols(); ++l) {
    rewards_(i, l) = sample_reward(options_.reward, tables_, user, picks_(i, l), rngs.reward);
  }
}

ScoreResult Trainer::gradient_row(Eigen::Index local, Eigen::Index i, const double* rewards) {
  const double scale = 1.0 / static_cast<double>(options_.batch_size * options_.n_picks);
  for (int l = 0; l < options_.n_picks; ++l) weights_[l] = -rewards[l] * scale;
  // softmax_ holds copies of the row, so the gradient may overwrite the logits in place.
  for (std::size_t m = 0; m < logits_.size(); ++m) grad_rows_[m] = logits_[m].row(local).data();
  ScoreInputs inputs{row_span(std::as_const(candidates_), i), row_span(std::as_const(picks_), i),
                     weights_};
  // A GRPO group's rows share one softmax: per-softmax work of the estimator is done once.
  inputs.softmax_rows = std::max(options_.grpo_group_size, 1);
  inputs.same_softmax = !softmax_recomputed_;
  softmax_recomputed_ = false;
  return kernel_.row_gradient(softmax_, inputs, grad_rows_);
}

StepResult Trainer::step(const StepRngs& rngs) {
  const int batch = options_.batch_size;
  const int group = options_.grpo_group_size;
  boost::random::uniform_int_distribution<int> user_dist(0, policy_.n_users() - 1);
  for (int g0 = 0; g0 < batch; g0 += std::max(group, 1)) {
    std::fill_n(users_.begin() + g0, std::max(group, 1), user_dist(rngs.batch));
  }
  StepResult result;
  bool finite = true;
  const auto add = [&](const ScoreResult& r) {
    result.loss += r.loss;
    finite = finite && r.finite;
  };
  // Rows go through in blocks (whole GRPO groups) so that a block's logits and gradients
  // (block × items per model) stay in cache between the GEMMs and the per-row work.
  const int rows_per_block = group == 0 ? kRowBlock : group * std::max(1, kRowBlock / group);
  for (int b0 = 0; b0 < batch; b0 += rows_per_block) {
    const int n = std::min(rows_per_block, batch - b0);
    const std::span<const int> users(users_.data() + b0, static_cast<std::size_t>(n));
    policy_.batch_logits(users, logits_);
    if (group == 0) {
      for (int r = 0; r < n; ++r) {
        sample_row(r, b0 + r, rngs);
        add(gradient_row(r, b0 + r, rewards_.row(b0 + r).data()));
      }
    } else {
      // The normalisation needs the whole group's rewards: a second pass (and exp) per row.
      for (int r = 0; r < n; ++r) sample_row(r, b0 + r, rngs);
      advantages_ = rewards_.middleRows(b0, n);
      grpo_normalize(advantages_, group, subtract_group_min_);
      for (int r = 0; r < n; ++r) {
        if (!softmax_.holds(logits_, r)) {
          softmax_.compute(logits_, r);
          softmax_recomputed_ = true;
        }
        add(gradient_row(r, b0 + r, advantages_.row(r).data()));
      }
    }
    policy_.backprop(users, logits_, grads_, /*accumulate=*/b0 > 0);
  }
  if (!finite || !std::isfinite(result.loss) || !grads_.all_finite()) {
    result.overflow = true;
    return result;
  }
  adagrad_.step(policy_.parameters(), grads_);
  return result;
}

PolicyValue evaluate_policy(const PLMixture& policy, const RewardTables& tables,
                            const EvaluationOptions& options, Rng& eval_rng,
                            const RowMatrixXd* lsr_scores) {
  constexpr int kChunk = 256;
  if (options.n_users <= 0 || options.n_picks <= 0 || options.n_picks > options.n_candidates) {
    throw std::invalid_argument("evaluate_policy: inconsistent sizes");
  }
  const RowMatrixXd& scores = lsr_scores != nullptr ? *lsr_scores : tables.q;
  check_tables(tables, scores, options.reward, policy);
  const std::vector<int> blocks = slot_block_sizes(options.n_candidates, policy.n_models());
  CandidateSampler sampler(policy.n_items());
  LateStageRanker ranker(options.lsr);
  boost::random::uniform_int_distribution<int> user_dist(0, policy.n_users() - 1);
  std::vector<int> users, candidates(static_cast<std::size_t>(options.n_candidates)),
      picks(static_cast<std::size_t>(options.n_picks));
  std::vector<RowMatrixXd> logits;
  double sum = 0.0, sum_sq = 0.0;
  for (int start = 0; start < options.n_users; start += kChunk) {
    const int n = std::min(kChunk, options.n_users - start);
    users.resize(static_cast<std::size_t>(n));
    for (int& u : users) u = user_dist(eval_rng);
    policy.batch_logits(users, logits);
    for (int i = 0; i < n; ++i) {
      sampler.greedy(logits, i, blocks, candidates);
      ranker.pick(candidates, scores.row(users[i]).data(), false, eval_rng, picks);
      double value = 0.0;
      for (int item : picks)
        value += sample_reward(options.reward, tables, users[i], item, eval_rng);
      value /= options.n_picks;
      sum += value;
      sum_sq += value * value;
    }
  }
  const double n = options.n_users;
  const double mean = sum / n;
  const double var = n > 1 ? std::max(0.0, (sum_sq - n * mean * mean) / (n - 1)) : 0.0;
  return {mean, mean * options.n_picks, std::sqrt(var / n)};
}

}  // namespace stagesim::pg
