#include "environments/synthetic_multilabel.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

namespace stagesim {

std::string check_synthetic_multilabel(const SyntheticMultilabelOptions& o) {
  if (o.products < 1 || o.dim < 1 || o.labels < 1) return "products, dim and labels must be >= 1";
  if (o.products > (std::int64_t{1} << 31) - 1) return "at most 2^31 - 1 products";
  if (!(o.signal >= 0 && o.shared >= 0 && o.signal + o.shared <= 1))
    return "signal and shared must be >= 0 with signal + shared <= 1";
  if (!(o.positive_rate > 0 && o.positive_rate < 1)) return "positive_rate must lie in (0, 1)";
  if (!(o.exponent >= 0) || !(o.rank_offset > -1)) return "need exponent >= 0 and rank_offset > -1";
  if (o.first_rank < 1 || o.count < 1) return "first_rank and count must be >= 1";
  if (o.first_rank > o.labels)
    return "labels = " + std::to_string(o.labels) + " leaves nothing to keep from rank " +
           std::to_string(o.first_rank);
  return "";
}

std::vector<double> synthetic_label_frequencies(const SyntheticMultilabelOptions& o) {
  std::vector<double> f(static_cast<std::size_t>(o.labels));
  for (std::size_t r = 0; r < f.size(); ++r)
    f[r] = std::pow(static_cast<double>(r + 1) + o.rank_offset, -o.exponent);
  const std::size_t lo = static_cast<std::size_t>(o.first_rank - 1);
  const std::size_t hi = std::min(f.size(), lo + static_cast<std::size_t>(o.count));
  double kept = 0;
  for (std::size_t r = lo; r < hi; ++r) kept += f[r];
  const double scale = o.positive_rate * static_cast<double>(hi - lo) / kept;
  for (double& x : f) x = std::min(0.99, x * scale);
  return f;
}

RawMultilabel generate_synthetic_multilabel(const SyntheticMultilabelOptions& o) {
  using Rng64 = boost::random::mt19937_64;
  Rng64 rng(o.seed);
  boost::random::normal_distribution<double> n01;
  const auto n = static_cast<Eigen::Index>(o.products);
  const auto d = static_cast<Eigen::Index>(o.dim);
  const auto L = static_cast<Eigen::Index>(o.labels);

  // Draw order (fixed, part of the data set's definition): category ids of the ranks (a random
  // permutation, so original ids are not in rank order), the directions w_c, all features row by
  // row, then per product g_p and e_pc for c = 0..L-1.
  std::vector<std::int32_t> id_of_rank(static_cast<std::size_t>(L));
  for (Eigen::Index i = 0; i < L; ++i) id_of_rank[i] = static_cast<std::int32_t>(i);
  for (Eigen::Index i = L - 1; i > 0; --i) {
    boost::random::uniform_int_distribution<Eigen::Index> pick(0, i);
    std::swap(id_of_rank[i], id_of_rank[pick(rng)]);
  }
  const std::vector<double> freq = synthetic_label_frequencies(o);
  Eigen::VectorXd tau(L);  // by category id
  const boost::math::normal_distribution<double> normal;
  for (Eigen::Index r = 0; r < L; ++r)
    tau[id_of_rank[r]] = boost::math::quantile(boost::math::complement(normal, freq[r]));

  Eigen::MatrixXd w(d, L);  // column c = w_c
  for (Eigen::Index c = 0; c < L; ++c) {
    for (Eigen::Index j = 0; j < d; ++j) w(j, c) = n01(rng);
    w.col(c) /= w.col(c).norm();
  }
  RawMultilabel raw;
  raw.num_labels = o.labels;
  raw.features = data::DenseMatrix<float>(o.products, o.dim);
  for (float& x : raw.features.values) x = static_cast<float>(n01(rng));

  const double a = std::sqrt(o.signal), b = std::sqrt(o.shared),
               e = std::sqrt(std::max(0.0, 1.0 - o.signal - o.shared));
  const Eigen::Index block = 4096;  // bounds the score buffer; does not change any draw
  std::vector<std::int32_t> row;
  for (Eigen::Index p0 = 0; p0 < n; p0 += block) {
    const Eigen::Index m = std::min(block, n - p0);
    const Eigen::MatrixXd x =
        Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            raw.features.values.data() + p0 * d, m, d)
            .cast<double>();
    const Eigen::MatrixXd s = x * w;  // m × L
    for (Eigen::Index i = 0; i < m; ++i) {
      const double g = n01(rng);
      row.clear();
      for (Eigen::Index c = 0; c < L; ++c) {
        const double z = a * s(i, c) + b * g + e * n01(rng);
        if (z > tau[c]) row.push_back(static_cast<std::int32_t>(c));
      }
      raw.labels.push_back(row);
    }
  }
  return raw;
}

}  // namespace stagesim
