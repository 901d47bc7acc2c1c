#include "learners/strategic/concave_ucb.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::strategic {

ConcaveUcb::ConcaveUcb(int parameters, Objective objective, Eigen::VectorXd width)
    : objective_(std::move(objective)), width_(std::move(width)) {
  const int m = objective_.metrics();
  if (parameters < 1)
    throw std::invalid_argument("the concave bandit needs at least one parameter");
  if (width_.size() != m || !width_.allFinite() || (width_.array() < 0).any())
    throw std::invalid_argument("the concave bandit needs one finite width >= 0 per metric");
  sums_ = Eigen::MatrixXd::Zero(m, parameters);
  counts_.assign(static_cast<std::size_t>(parameters), 0.0);
  total_sum_ = Eigen::VectorXd::Zero(m);
  d_.resize(m);
  deployed_ = Eigen::VectorXd::Constant(parameters, 1.0 / parameters);
  current_ = Eigen::VectorXd::Zero(parameters);
}

void ConcaveUcb::choose(Rng&, std::span<int> arms) {
  planned_ = counts_;
  planned_sum_ = total_sum_;
  double n = total_;
  const int K = static_cast<int>(counts_.size());
  for (int& a : arms) {
    int pick = -1;
    for (int k = 0; k < K; ++k)
      if (counts_[static_cast<std::size_t>(k)] == 0 &&
          (pick < 0 ||
           planned_[static_cast<std::size_t>(k)] < planned_[static_cast<std::size_t>(pick)]))
        pick = k;
    if (pick < 0) {
      objective_.ascent(planned_sum_ / n, d_);
      const double log_n = std::log(std::max(n, 2.0));
      const double spread = d_.cwiseAbs().dot(width_);
      double best = 0;
      for (int k = 0; k < K; ++k) {
        const double c = counts_[static_cast<std::size_t>(k)];
        const double s = d_.dot(sums_.col(k)) / c +
                         spread * std::sqrt(2.0 * log_n / planned_[static_cast<std::size_t>(k)]);
        if (pick < 0 || s > best) {
          best = s;
          pick = k;
        }
      }
    }
    a = pick;
    const double c = counts_[static_cast<std::size_t>(pick)];
    // A planned pull of a never-observed parameter adds nothing to z̄ (no estimate yet).
    if (c > 0) {
      planned_sum_ += sums_.col(pick) / c;
      n += 1;
    }
    planned_[static_cast<std::size_t>(pick)] += 1;
  }
}

void ConcaveUcb::update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) {
  if (arms.empty()) return;
  if (!obs.allFinite()) throw std::domain_error("concave bandit: non-finite observation");
  ++t_;
  current_.setZero();
  for (std::size_t q = 0; q < arms.size(); ++q) {
    const int k = arms[q];
    sums_.col(k) += obs.col(static_cast<Eigen::Index>(q));
    total_sum_ += obs.col(static_cast<Eigen::Index>(q));
    counts_[static_cast<std::size_t>(k)] += 1;
    current_[k] += 1.0 / static_cast<double>(arms.size());
  }
  total_ += static_cast<double>(arms.size());
  for (std::size_t k = 0; k < counts_.size(); ++k)
    deployed_[static_cast<Eigen::Index>(k)] = counts_[k] / total_;
}

}  // namespace stagesim::strategic
