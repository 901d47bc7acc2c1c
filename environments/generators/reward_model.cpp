#include "environments/generators/reward_model.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <functional>
#include <vector>

namespace stagesim::pg {

double sample_reward(const RewardModel& model, const RewardTables& tables, int user, int item,
                     Rng& rng) {
  const double q = tables.q(user, item);
  switch (model.noise) {
    case RewardNoise::kAdditiveGaussian:
      return boost::random::normal_distribution<double>(q, tables.sigma(user, item))(rng);
    case RewardNoise::kMultiplicativeGaussian:
      return q * (1.0 + boost::random::normal_distribution<double>(0.0, model.relative_sd)(rng));
    case RewardNoise::kBernoulli:
      return boost::random::bernoulli_distribution<double>(std::clamp(q, 0.0, 1.0))(rng) ? 1.0
                                                                                         : 0.0;
    case RewardNoise::kNone:
      return q;
  }
  return q;
}

RewardTableStats reward_table_stats(const RowMatrixXd& q, int n_picks) {
  RewardTableStats stats;
  std::vector<double> row(static_cast<std::size_t>(q.cols()));
  for (Eigen::Index u = 0; u < q.rows(); ++u) {
    std::copy(q.row(u).data(), q.row(u).data() + q.cols(), row.begin());
    std::sort(row.begin(), row.end(), std::greater<>());
    double best = 0.0, worst = 0.0;
    for (int l = 0; l < n_picks; ++l) {
      best += row[static_cast<std::size_t>(l)];
      worst += row[row.size() - 1 - static_cast<std::size_t>(l)];
    }
    stats.best += best / n_picks;
    stats.worst += worst / n_picks;
  }
  stats.best /= static_cast<double>(q.rows());
  stats.worst /= static_cast<double>(q.rows());
  stats.random = q.mean();
  return stats;
}

}  // namespace stagesim::pg
