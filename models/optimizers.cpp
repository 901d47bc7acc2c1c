#include "models/optimizers.hpp"

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace stagesim::models {

void Optimizer::step(ParameterSet& params, const ParameterSet& grads) {
  const std::vector<RowMatrixXd*> p = params.pointers();
  const std::vector<const RowMatrixXd*> g = grads.pointers();
  step(p, g);
}

void Optimizer::prepare(std::span<RowMatrixXd* const> params,
                        std::span<const RowMatrixXd* const> grads, std::vector<RowMatrixXd>* state,
                        const char* who) {
  const std::string name(who);
  if (params.size() != grads.size()) throw std::invalid_argument(name + ": params/grads mismatch");
  for (std::size_t i = 0; i < params.size(); ++i)
    if (grads[i]->rows() != params[i]->rows() || grads[i]->cols() != params[i]->cols())
      throw std::invalid_argument(name + ": gradient " + std::to_string(i) + " has another shape");
  if (state != nullptr) {
    if (state->empty())
      for (const RowMatrixXd* p : params) state->push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
    if (state->size() != params.size())
      throw std::invalid_argument(name + ": parameter count changed");
    for (std::size_t i = 0; i < params.size(); ++i)
      if (params[i]->rows() != (*state)[i].rows() || params[i]->cols() != (*state)[i].cols())
        throw std::invalid_argument(name + ": tensor shape changed");
  }
  ++steps_;
}

Sgd::Sgd(SgdOptions options) : options_(options) {
  if (!(options.learning_rate > 0) || !(options.momentum >= 0 && options.momentum < 1))
    throw std::invalid_argument("Sgd: learning_rate > 0 and momentum in [0, 1)");
}

void Optimizer::save(StateWriter& w) const {
  w.put(steps_);
  for (const std::vector<RowMatrixXd>* s : const_cast<Optimizer&>(*this).state()) w.put(*s);
}

void Optimizer::restore(StateReader& r) {
  r.get(steps_);
  for (std::vector<RowMatrixXd>* s : state()) r.get(*s);
}

void Sgd::step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads) {
  if (options_.momentum == 0.0) {
    prepare(params, grads, nullptr, "Sgd");
    for (std::size_t i = 0; i < params.size(); ++i)
      params[i]->array() -= options_.learning_rate * grads[i]->array();
    return;
  }
  prepare(params, grads, &velocity_, "Sgd");
  for (std::size_t i = 0; i < params.size(); ++i) {
    velocity_[i].array() = options_.momentum * velocity_[i].array() + grads[i]->array();
    params[i]->array() -= options_.learning_rate * velocity_[i].array();
  }
}

Adam::Adam(AdamOptions options) : options_(options) {}

void Adam::step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads) {
  prepare(params, grads, &m_, "Adam");
  if (v_.empty())
    for (const RowMatrixXd* p : params) v_.push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
  const double c1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double c2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  // Folding the bias corrections into the step size keeps the update one Eigen expression.
  const double lr = options_.learning_rate * std::sqrt(c2) / c1;
  const double eps = options_.eps * std::sqrt(c2);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto g = grads[i]->array();
    m_[i].array() = options_.beta1 * m_[i].array() + (1.0 - options_.beta1) * g;
    v_[i].array() = options_.beta2 * v_[i].array() + (1.0 - options_.beta2) * g.square();
    params[i]->array() -= lr * m_[i].array() / (v_[i].array().sqrt() + eps);
  }
}

Adagrad::Adagrad(double learning_rate, double eps) : learning_rate_(learning_rate), eps_(eps) {}

void Adagrad::step(std::span<RowMatrixXd* const> params,
                   std::span<const RowMatrixXd* const> grads) {
  prepare(params, grads, &sum_sq_, "Adagrad");
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto theta = params[i]->array();
    auto sum_sq = sum_sq_[i].array();
    const auto g = grads[i]->array();
    sum_sq += g.square();
    theta -= learning_rate_ * g / (sum_sq.sqrt() + eps_);
  }
}

namespace {

constexpr std::array<std::pair<OptimizerKind, std::string_view>, 3> kOptimizerNames{{
    {OptimizerKind::kSgd, "sgd"},
    {OptimizerKind::kAdam, "adam"},
    {OptimizerKind::kAdagrad, "adagrad"},
}};

}  // namespace

std::optional<OptimizerKind> optimizer_from_name(std::string_view name) {
  for (const auto& [k, n] : kOptimizerNames)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view optimizer_name(OptimizerKind kind) {
  for (const auto& [k, n] : kOptimizerNames)
    if (k == kind) return n;
  return "?";
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& o) {
  if (!(o.learning_rate > 0)) throw std::invalid_argument("optimizer: learning_rate must be > 0");
  if (!(o.eps >= 0)) throw std::invalid_argument("optimizer: eps must be >= 0");
  switch (o.kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<Sgd>(SgdOptions{o.learning_rate, o.momentum});
    case OptimizerKind::kAdam:
      if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
        throw std::invalid_argument("optimizer: adam betas must be in [0, 1)");
      return std::make_unique<Adam>(AdamOptions{o.learning_rate, o.beta1, o.beta2, o.eps});
    case OptimizerKind::kAdagrad:
      return std::make_unique<Adagrad>(o.learning_rate, o.eps);
  }
  throw std::invalid_argument("optimizer: unknown kind");
}

}  // namespace stagesim::models
