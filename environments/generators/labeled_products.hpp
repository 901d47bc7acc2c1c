// Offline data of spec §7: users are products (dense features z_u), items are the kept categories,
// y_ua = 1{a ∈ labels(u)}. Training examples are (user, item, reward) triples with c examples per
// item, the users of each item drawn uniformly (with replacement) from the training products
// [our choice: the spec fixes c per item, not how products are picked].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"
#include "environments/data/dense_matrix.hpp"
#include "environments/data/sparse.hpp"

namespace stagesim::moe {

struct LabeledProducts {
  RowMatrixXf features;                  // products × d
  std::vector<std::vector<int>> labels;  // per product: item ids in [0, items), ascending, unique
  int items = 0;

  std::int64_t products() const { return features.rows(); }
  bool has_label(std::int64_t user, int item) const;
};

struct Examples {
  std::vector<std::int64_t> user;
  std::vector<int> item;
  std::vector<double> reward;

  std::size_t size() const { return user.size(); }
  void push_back(std::int64_t u, int a, double r) {
    user.push_back(u);
    item.push_back(a);
    reward.push_back(r);
  }
};

// From the bandit world's preprocessed data (MultilabelData::features and ::categories.labels,
// environments/multilabel_data.hpp) with `items` kept categories. Only header-only types are
// used, so this library does not link the engine. Checks the result (CheckLabeledProducts).
LabeledProducts from_multilabel(const data::DenseMatrix<float>& features,
                               const data::IdLists& labels, int items);

// Throws invalid_argument when labels are out of range, unsorted, or the sizes disagree.
void check_labeled_products(const LabeledProducts& data);

// `per_item` examples for every item; users drawn uniformly from `users`. Ordered item-major.
Examples sample_examples(const LabeledProducts& data, std::span<const std::int64_t> users,
                        int per_item, Rng& rng);

// Moves a random `share` of `all` (rounded down) into the second result: (train, validation).
std::pair<Examples, Examples> split_examples(const Examples& all, double share, Rng& rng);

// A uniformly random permutation of 0..n−1 (Fisher–Yates with Boost's uniform_int_distribution).
std::vector<std::int64_t> random_permutation(std::int64_t n, Rng& rng);

// Rows `users` of the features, converted to double: one batch's Z.
RowMatrixXd gather_features(const LabeledProducts& data, std::span<const std::int64_t> users);

}  // namespace stagesim::moe
