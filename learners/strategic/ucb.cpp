#include "learners/strategic/ucb.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::strategic {

Ucb::Ucb(int parameters, Objective objective, Eigen::VectorXd width)
    : objective_(std::move(objective)), width_(std::move(width)) {
  const int m = objective_.metrics();
  if (parameters < 1) throw std::invalid_argument("UCB needs at least one parameter");
  if (width_.size() != m || !width_.allFinite() || (width_.array() < 0).any())
    throw std::invalid_argument("UCB needs one finite confidence width >= 0 per metric");
  sums_ = Eigen::MatrixXd::Zero(m, parameters);
  counts_.assign(static_cast<std::size_t>(parameters), 0.0);
  deployed_ = Eigen::VectorXd::Zero(parameters);
  deployed_[0] = 1;
  current_ = Eigen::VectorXd::Zero(parameters);
  optimistic_.resize(m);
}

void Ucb::choose(Rng&, std::span<int> arms) {
  planned_ = counts_;
  double n = total_;
  const int K = static_cast<int>(counts_.size());
  for (int& a : arms) {
    // Parameters never observed first, spread evenly over this round's buckets.
    int pick = -1;
    for (int k = 0; k < K; ++k)
      if (counts_[static_cast<std::size_t>(k)] == 0 &&
          (pick < 0 ||
           planned_[static_cast<std::size_t>(k)] < planned_[static_cast<std::size_t>(pick)]))
        pick = k;
    if (pick < 0) {
      const double log_n = std::log(std::max(n, 2.0));
      ObjectiveRank best;
      for (int k = 0; k < K; ++k) {
        const double c = planned_[static_cast<std::size_t>(k)];
        const double bonus = std::sqrt(2.0 * log_n / c);
        // The mean uses real observations only; planned pulls only narrow the bonus.
        optimistic_ = sums_.col(k) / counts_[static_cast<std::size_t>(k)] + bonus * width_;
        const ObjectiveRank r = objective_.rank(optimistic_);
        if (pick < 0 || r > best) {
          best = r;
          pick = k;
        }
      }
    }
    a = pick;
    planned_[static_cast<std::size_t>(pick)] += 1;
    n += 1;
  }
}

void Ucb::update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) {
  if (arms.empty()) return;
  if (!obs.allFinite()) throw std::domain_error("UCB: non-finite observation");
  ++t_;
  current_.setZero();
  for (std::size_t q = 0; q < arms.size(); ++q) {
    const int k = arms[q];
    sums_.col(k) += obs.col(static_cast<Eigen::Index>(q));
    counts_[static_cast<std::size_t>(k)] += 1;
    current_[k] += 1.0 / static_cast<double>(arms.size());
  }
  total_ += static_cast<double>(arms.size());
  int most = 0;
  for (std::size_t k = 1; k < counts_.size(); ++k)
    if (counts_[k] > counts_[static_cast<std::size_t>(most)]) most = static_cast<int>(k);
  deployed_.setZero();
  deployed_[most] = 1;
}

}  // namespace stagesim::strategic
