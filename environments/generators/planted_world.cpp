#include "environments/generators/planted_world.hpp"

#include <boost/math/distributions/normal.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <stdexcept>

namespace stagesim::moe {

PlantedWorld generate_planted_world(const PlantedOptions& o) {
  if (o.products <= 0 || o.groups <= 0 || o.items_per_group <= 0 || o.block <= 0 ||
      !(o.positive_rate > 0 && o.positive_rate < 1) || !(o.noise >= 0))
    throw std::invalid_argument("GeneratePlantedWorld: invalid options");
  Rng rng(o.seed);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  const int dim = o.groups * o.block;
  const int items = o.groups * o.items_per_group;

  PlantedWorld w;
  w.data.items = items;
  for (int k = 0; k < o.groups; ++k) {
    std::vector<int> cols;
    for (int j = 0; j < o.block; ++j) cols.push_back(k * o.block + j);
    w.feature_blocks.push_back(cols);
  }
  RowMatrixXd dir(items, o.block);
  for (int a = 0; a < items; ++a) {
    w.group_of_item.push_back(a / o.items_per_group);
    for (int j = 0; j < o.block; ++j) dir(a, j) = normal(rng);
    dir.row(a).normalize();
  }
  const double tau = std::sqrt(1.0 + o.noise * o.noise) *
                     boost::math::quantile(boost::math::normal(), 1.0 - o.positive_rate);

  w.data.features.resize(o.products, dim);
  w.data.labels.resize(static_cast<std::size_t>(o.products));
  Eigen::VectorXd z(dim);
  for (std::int64_t u = 0; u < o.products; ++u) {
    for (int j = 0; j < dim; ++j) z[j] = normal(rng);
    w.data.features.row(u) = z.cast<float>().transpose();
    for (int a = 0; a < items; ++a) {
      const int k = w.group_of_item[static_cast<std::size_t>(a)];
      // Scores use the float-rounded features the learner sees.
      const double score =
          dir.row(a).dot(w.data.features.row(u).segment(k * o.block, o.block).cast<double>()) +
          o.noise * normal(rng);
      if (score > tau) w.data.labels[static_cast<std::size_t>(u)].push_back(a);
    }
  }
  return w;
}

}  // namespace stagesim::moe
