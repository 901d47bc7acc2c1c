#include "learners/strategic/pasto.hpp"

#include <cmath>
#include <stdexcept>

#include "learners/strategic/importance_estimate.hpp"

namespace stagesim::strategic {

Pasto::Pasto(int parameters, Objective objective, PastoOptions options,
             const Eigen::VectorXd& initial)
    : objective_(std::move(objective)), o_(options) {
  if (parameters < 1) throw std::invalid_argument("PASTO needs at least one parameter");
  if (!(o_.explore > 0 && o_.explore <= 1))
    throw std::invalid_argument("PASTO's exploration ε must be in (0, 1]");
  if (!(o_.step > 0) || !std::isfinite(o_.step) || !(o_.step_decay >= 0))
    throw std::invalid_argument("PASTO's step γ₀ must be > 0 and its decay >= 0");
  const int m = objective_.metrics();
  p_ = initial.size() ? initial : Eigen::VectorXd::Constant(parameters, 1.0 / parameters);
  if (p_.size() != parameters || !(p_.array() > 0).all() || std::abs(p_.sum() - 1) > 1e-9)
    throw std::invalid_argument("PASTO's initial distribution must be positive and sum to 1");
  logp_ = p_.array().log();
  normalise_log_weights(logp_, p_);
  sampled_from_.resize(parameters);
  sum_ = Eigen::VectorXd::Zero(parameters);
  average_ = p_;
  v_ = Eigen::MatrixXd::Zero(m, parameters);
  z_.resize(m);
  d_.resize(m);
  g_.resize(parameters);
}

void Pasto::choose(Rng& rng, std::span<int> arms) {
  smooth(p_, o_.explore, sampled_from_);
  sampler_.set(sampled_from_);
  for (int& a : arms) a = sampler_.draw(rng);
}

void Pasto::update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) {
  if (arms.empty()) return;
  if (!obs.allFinite()) throw std::domain_error("PASTO: non-finite observation");
  add_importance_estimate(arms, obs, sampled_from_, 1.0, v_);
  ++t_;
  const double inv_t = 1.0 / static_cast<double>(t_);
  z_.noalias() = v_ * p_;
  z_ *= inv_t;
  objective_.ascent(z_, d_);
  g_.noalias() = v_.transpose() * d_;
  const double step = o_.step * std::pow(static_cast<double>(t_), -o_.step_decay) * inv_t;
  sum_ += p_;
  average_ = sum_ * inv_t;
  logp_ += step * g_;
  normalise_log_weights(logp_, p_);
}

Eigen::MatrixXd Pasto::history_average() const {
  return t_ ? Eigen::MatrixXd(v_ / static_cast<double>(t_)) : Eigen::MatrixXd(v_);
}

}  // namespace stagesim::strategic
