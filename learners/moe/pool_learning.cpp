#include "learners/moe/pool_learning.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace stagesim::moe {

std::vector<std::vector<int>> random_feature_subsets(int experts, int d, int s, Rng& rng) {
  if (s < 1 || s > d) throw std::invalid_argument("random_feature_subsets: need 1 <= s <= d");
  std::vector<std::vector<int>> out;
  for (int n = 0; n < experts; ++n) {
    const auto perm = random_permutation(d, rng);
    std::vector<int> cols(perm.begin(), perm.begin() + s);
    std::sort(cols.begin(), cols.end());
    out.push_back(std::move(cols));
  }
  return out;
}

PoolLearningResult run_pool_learning(const LabeledProducts& data, const PoolLearningPoint& point,
                                     const PoolLearningOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_labeled_products(data);
  const int d = static_cast<int>(data.features.cols());
  if (point.experts < 1 || point.item_dim < 1 || point.per_item < 1)
    throw std::invalid_argument("run_pool_learning: N, d_e, c must be positive");
  if (options.test_users < 1 || options.test_users >= data.products())
    throw std::invalid_argument("run_pool_learning: test_users must leave training products");

  // Independent streams per purpose, so e.g. changing c does not change the test split.
  Rng master(options.seed);
  Rng split_rng(master()), subset_rng(master()), example_rng(master()), pool_rng(master()),
      init_rng(master()), order_rng(master());

  const auto perm = random_permutation(data.products(), split_rng);
  const std::vector<std::int64_t> test(perm.begin(), perm.begin() + options.test_users);
  const std::vector<std::int64_t> train_users(perm.begin() + options.test_users, perm.end());

  MoeConfig config;
  config.features = d;
  config.items = data.items;
  config.item_dim = point.item_dim;
  config.sigma = options.sigma;
  config.threads = options.threads;
  config.subsets = options.subsets.empty()
                       ? random_feature_subsets(point.experts, d, point.subset, subset_rng)
                       : options.subsets;
  if (static_cast<int>(config.subsets.size()) != point.experts)
    throw std::invalid_argument("run_pool_learning: subsets must have one entry per expert");

  const Examples all = sample_examples(data, train_users, point.per_item, example_rng);
  const auto [train, validation] = split_examples(all, options.validation_share, example_rng);

  PoolLearningResult result;
  result.random_assignment = random_pool_assignment(data.items, point.experts, pool_rng);

  // Same initial experts and batch order for both models: the comparison is paired.
  Rng init_moe = init_rng, order_moe = order_rng;
  Rng init_distilled = init_rng, order_distilled = order_rng;
  MoeModel moe(config, init_moe);
  result.moe_train = train_moe(moe, data, train, validation, options.train, order_moe);
  if (options.progress) options.progress();

  MoeConfig random_config = config;
  random_config.fixed_pool_of_item = result.random_assignment;
  MoeModel random(random_config, init_rng);
  result.random_train = train_moe(random, data, train, validation, options.train, order_rng);
  if (options.progress) options.progress();

  const std::size_t n_gate = std::min<std::size_t>(train_users.size(), 10000);
  const RowMatrixXd z_gate = gather_features(data, std::span(train_users).first(n_gate));
  result.learned_assignment = distill_assignment(moe.gate_sums(z_gate));
  result.contribution_assignment = distill_assignment(moe.contribution_sums(z_gate));
  result.learned_pools = pools_from_assignment(result.learned_assignment, point.experts);

  if (options.evaluate_distilled) {
    MoeConfig distilled_config = config;
    distilled_config.fixed_pool_of_item = result.learned_assignment;
    MoeModel distilled(distilled_config, init_distilled);
    train_moe(distilled, data, train, validation, options.train, order_distilled);
    if (options.progress) options.progress();
    result.distilled = evaluate_top_k(distilled, data, test, options.k);
  }
  result.moe = evaluate_top_k(moe, data, test, options.k);
  result.random = evaluate_top_k(random, data, test, options.k);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace stagesim::moe
