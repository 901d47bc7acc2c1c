#include "learners/multi_stage/cem.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <boost/random/normal_distribution.hpp>

namespace stagesim::multistage {

CemResult run_cem(const Eigen::RowVectorXd& initial, const CemOptions& o, Rng& rng,
                  const std::function<double(const Eigen::RowVectorXd&, int, int)>& score,
                  const std::function<void(int, const Eigen::RowVectorXd&)>& on_iteration) {
  if (o.population < 1 || o.elites < 1 || o.elites > o.population)
    throw std::invalid_argument("run_cem: need 1 <= elites <= population");
  CemResult res;
  Eigen::RowVectorXd mean = initial.cwiseMax(-1.0).cwiseMin(1.0);
  Eigen::RowVectorXd sd = Eigen::RowVectorXd::Constant(initial.size(), o.initial_sd);
  boost::random::normal_distribution<double> n01;
  RowMatrixXd cand(o.population, initial.size());
  std::vector<double> s(static_cast<std::size_t>(o.population));
  std::vector<int> order(static_cast<std::size_t>(o.population));
  for (int it = 0; it < o.iterations; ++it) {
    for (int k = 0; k < o.population; ++k) {
      for (Eigen::Index j = 0; j < cand.cols(); ++j)
        cand(k, j) = std::clamp(mean[j] + sd[j] * n01(rng), -1.0, 1.0);
      if (k == 0) cand.row(0) = mean;  // the current mean competes too
      s[k] = score(cand.row(k), it, k);
    }
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[a] > s[b]; });
    res.best_score.push_back(s[order[0]]);
    Eigen::RowVectorXd m = Eigen::RowVectorXd::Zero(cand.cols()), v = m;
    for (int e = 0; e < o.elites; ++e) m += cand.row(order[e]);
    m /= o.elites;
    for (int e = 0; e < o.elites; ++e) v += (cand.row(order[e]) - m).array().square().matrix();
    v /= o.elites;
    mean = m;
    sd = v.cwiseSqrt().cwiseMax(o.min_sd);
    if (on_iteration) on_iteration(it, mean);
  }
  res.mean = mean;
  return res;
}

}  // namespace stagesim::multistage
