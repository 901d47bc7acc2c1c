#include "environments/generators/embedding_world.hpp"

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <stdexcept>

namespace stagesim::pg {

namespace {

RowMatrixXd unit_rows_uniform(int rows, int cols, Rng& rng) {
  boost::random::uniform_real_distribution<double> coordinate(-1.0, 1.0);
  RowMatrixXd x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = coordinate(rng);
  x.rowwise().normalize();
  return x;
}

RowMatrixXd standard_normal(int rows, int cols, Rng& rng) {
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  RowMatrixXd x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  return x;
}

double softplus(double x) {
  return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

}  // namespace

EmbeddingWorld make_embedding_world(std::uint64_t seed, const EmbeddingWorldOptions& options) {
  if (options.n_users <= 0 || options.n_items <= 0 || options.dim <= 0) {
    throw std::invalid_argument("make_embedding_world: sizes must be positive");
  }
  Rng rng(seed);
  EmbeddingWorld world;
  world.users = unit_rows_uniform(options.n_users, options.dim, rng);
  if (options.items_equal_users) {
    Rng same_stream(seed);
    world.items = unit_rows_uniform(options.n_items, options.dim, same_stream);
  } else {
    world.items = unit_rows_uniform(options.n_items, options.dim, rng);
  }
  world.projection = standard_normal(options.dim, options.dim, rng);
  world.projection.rowwise().normalize();
  world.noise_weights = standard_normal(options.dim, options.dim, rng);

  // Each users × items table is computed into its final storage and transformed in place, so the
  // set-up peak is the steady state (q and σ), not twice it.
  RowMatrixXd& q = world.tables.q;
  q.resize(options.n_users, options.n_items);
  q.noalias() = options.reward_scaler * (world.users * world.projection) * world.items.transpose();
  q = q.unaryExpr([](double x) { return softplus(x) + 1.0; });
  RowMatrixXd& sigma = world.tables.sigma;
  sigma.resize(options.n_users, options.n_items);
  sigma.noalias() = (world.users * world.noise_weights) * world.items.transpose();
  sigma = sigma.unaryExpr([](double x) { return 1.0 / (1.0 + std::exp(-(x + 1.0))); });
  return world;
}

}  // namespace stagesim::pg
