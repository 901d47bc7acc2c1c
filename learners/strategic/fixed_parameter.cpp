#include "learners/strategic/fixed_parameter.hpp"

#include <stdexcept>
#include <string>

namespace stagesim::strategic {

FixedParameter::FixedParameter(int parameters, int index) : index_(index) {
  if (index < 0 || index >= parameters)
    throw std::invalid_argument("parameter index " + std::to_string(index) + " is outside 0.." +
                                std::to_string(parameters - 1));
  one_hot_ = Eigen::VectorXd::Zero(parameters);
  one_hot_[index] = 1;
}

void FixedParameter::choose(Rng&, std::span<int> arms) {
  for (int& a : arms) a = index_;
}

void FixedParameter::update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>&) {
  if (!arms.empty()) ++t_;
}

int best_single_parameter(const Eigen::MatrixXd& mean, const Objective& objective) {
  int best = 0;
  ObjectiveRank r = objective.rank(mean.col(0));
  for (Eigen::Index k = 1; k < mean.cols(); ++k) {
    const ObjectiveRank c = objective.rank(mean.col(k));
    if (c > r) {
      r = c;
      best = static_cast<int>(k);
    }
  }
  return best;
}

}  // namespace stagesim::strategic
