#include "learners/strategic/scgd.hpp"

#include <cmath>
#include <stdexcept>

namespace stagesim::strategic {

Scgd::Scgd(int parameters, Objective objective, ScgdOptions options, const Eigen::VectorXd& initial)
    : objective_(std::move(objective)), o_(options) {
  if (parameters < 1) throw std::invalid_argument("S-SCGD needs at least one parameter");
  if (!(o_.explore > 0 && o_.explore <= 1))
    throw std::invalid_argument("S-SCGD's exploration ε must be in (0, 1]");
  if (!(o_.step > 0) || !(o_.average > 0) || !std::isfinite(o_.step) || !std::isfinite(o_.average))
    throw std::invalid_argument("S-SCGD's α₀ and β₀ must be finite and > 0");
  const int m = objective_.metrics();
  p_ = initial.size() ? initial : Eigen::VectorXd::Constant(parameters, 1.0 / parameters);
  if (p_.size() != parameters || (p_.array() < 0).any() || std::abs(p_.sum() - 1) > 1e-9)
    throw std::invalid_argument("S-SCGD's initial distribution must be on the simplex");
  sampled_from_.resize(parameters);
  sum_ = Eigen::VectorXd::Zero(parameters);
  average_ = p_;
  y_ = Eigen::VectorXd::Zero(m);
  uhat_p_.resize(m);
  d_.resize(m);
  g_.resize(parameters);
}

void Scgd::choose(Rng& rng, std::span<int> arms) {
  smooth(p_, o_.explore, sampled_from_);
  sampler_.set(sampled_from_);
  for (int& a : arms) a = sampler_.draw(rng);
}

void Scgd::update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) {
  if (arms.empty()) return;
  if (!obs.allFinite()) throw std::domain_error("S-SCGD: non-finite observation");
  ++t_;
  const double t = static_cast<double>(t_);
  const double w = 1.0 / static_cast<double>(arms.size());
  // Û_t p_t, using only the sampled columns of Û_t.
  uhat_p_.setZero();
  for (std::size_t q = 0; q < arms.size(); ++q) {
    const int k = arms[q];
    uhat_p_ += (w * p_[k] / sampled_from_[k]) * obs.col(static_cast<Eigen::Index>(q));
  }
  const double beta = std::min(1.0, o_.average / std::sqrt(t));
  y_ = (1.0 - beta) * y_ + beta * uhat_p_;
  objective_.ascent(y_, d_);
  g_.setZero();
  for (std::size_t q = 0; q < arms.size(); ++q) {
    const int k = arms[q];
    g_[k] += (w / sampled_from_[k]) * obs.col(static_cast<Eigen::Index>(q)).dot(d_);
  }
  sum_ += p_;
  average_ = sum_ / t;
  p_ += (o_.step * std::pow(t, -0.75)) * g_;
  project_onto_simplex(p_);
}

}  // namespace stagesim::strategic
