#include "environments/generators/labeled_products.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <stdexcept>
#include <string>

namespace stagesim::moe {

bool LabeledProducts::has_label(std::int64_t user, int item) const {
  const auto& l = labels[static_cast<std::size_t>(user)];
  return std::binary_search(l.begin(), l.end(), item);
}

void check_labeled_products(const LabeledProducts& data) {
  if (static_cast<std::int64_t>(data.labels.size()) != data.products())
    throw std::invalid_argument("LabeledProducts: " + std::to_string(data.labels.size()) +
                                " label lists for " + std::to_string(data.products()) +
                                " products");
  if (data.items <= 0) throw std::invalid_argument("LabeledProducts: items must be positive");
  for (const auto& l : data.labels) {
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (l[i] < 0 || l[i] >= data.items)
        throw std::invalid_argument("LabeledProducts: label " + std::to_string(l[i]) +
                                    " outside [0, " + std::to_string(data.items) + ")");
      if (i > 0 && l[i] <= l[i - 1])
        throw std::invalid_argument("LabeledProducts: label lists must be ascending and unique");
    }
  }
}

LabeledProducts from_multilabel(const data::DenseMatrix<float>& features,
                               const data::IdLists& labels, int items) {
  LabeledProducts out;
  out.items = items;
  out.features = features.eigen();
  out.labels.reserve(static_cast<std::size_t>(labels.size()));
  for (std::int64_t u = 0; u < labels.size(); ++u) {
    const auto l = labels[u];
    out.labels.emplace_back(l.begin(), l.end());
  }
  check_labeled_products(out);
  return out;
}

Examples sample_examples(const LabeledProducts& data, std::span<const std::int64_t> users,
                        int per_item, Rng& rng) {
  if (users.empty()) throw std::invalid_argument("SampleExamples: no users");
  Examples out;
  boost::random::uniform_int_distribution<std::size_t> pick(0, users.size() - 1);
  for (int a = 0; a < data.items; ++a) {
    for (int i = 0; i < per_item; ++i) {
      const std::int64_t u = users[pick(rng)];
      out.push_back(u, a, data.has_label(u, a) ? 1.0 : 0.0);
    }
  }
  return out;
}

std::vector<std::int64_t> random_permutation(std::int64_t n, Rng& rng) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    boost::random::uniform_int_distribution<std::int64_t> j(0, i);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j(rng))]);
  }
  return p;
}

std::pair<Examples, Examples> split_examples(const Examples& all, double share, Rng& rng) {
  const auto perm = random_permutation(static_cast<std::int64_t>(all.size()), rng);
  const auto n_val = static_cast<std::size_t>(share * static_cast<double>(all.size()));
  std::pair<Examples, Examples> out;
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const auto k = static_cast<std::size_t>(perm[i]);
    (i < n_val ? out.second : out.first).push_back(all.user[k], all.item[k], all.reward[k]);
  }
  return out;
}

RowMatrixXd gather_features(const LabeledProducts& data, std::span<const std::int64_t> users) {
  RowMatrixXd z(static_cast<Eigen::Index>(users.size()), data.features.cols());
  for (std::size_t b = 0; b < users.size(); ++b)
    z.row(static_cast<Eigen::Index>(b)) = data.features.row(users[b]).cast<double>();
  return z;
}

}  // namespace stagesim::moe
