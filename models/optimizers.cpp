#include "models/optimizers.hpp"

#include <algorithm>
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

Adam::Scaled Adam::begin_step(std::span<RowMatrixXd* const> params,
                              std::span<const RowMatrixXd* const> grads) {
  prepare(params, grads, &m_, "Adam");
  if (v_.empty())
    for (const RowMatrixXd* p : params) v_.push_back(RowMatrixXd::Zero(p->rows(), p->cols()));
  const double c1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double c2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  // Folding the bias corrections into the step size keeps the update one Eigen expression.
  return {options_.learning_rate * std::sqrt(c2) / c1, options_.eps * std::sqrt(c2)};
}

void Adam::update(std::size_t i, Eigen::Index at, Eigen::Index len, const RowMatrixXd& grad,
                  RowMatrixXd& param, Scaled s) {
  const double b1 = options_.beta1, b2 = options_.beta2;
  const auto g = Eigen::Map<const Eigen::ArrayXd>(grad.data() + at, len);
  auto m = Eigen::Map<Eigen::ArrayXd>(m_[i].data() + at, len);
  auto v = Eigen::Map<Eigen::ArrayXd>(v_[i].data() + at, len);
  auto p = Eigen::Map<Eigen::ArrayXd>(param.data() + at, len);
  m = b1 * m + (1.0 - b1) * g;
  v = b2 * v + (1.0 - b2) * g.square();
  p -= s.lr * m / (v.sqrt() + s.eps);
}

void Adam::step(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads) {
  const Scaled s = begin_step(params, grads);
  // Chunk by chunk, the three updates of a chunk while it sits in L1 (the whole-tensor form made
  // three passes over memory: the step is memory-bound on big embedding tables). The same Eigen
  // expressions per element, so the bits are those of the whole-tensor form.
  constexpr Eigen::Index kChunk = 1024;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Eigen::Index n = params[i]->size();
    for (Eigen::Index at = 0; at < n; at += kChunk)
      update(i, at, std::min(kChunk, n - at), *grads[i], *params[i], s);
  }
}

void Adam::step_rows(std::span<RowMatrixXd* const> params,
                     std::span<const RowMatrixXd* const> grads,
                     std::span<const std::vector<int>> rows) {
  if (rows.size() != params.size()) throw std::invalid_argument("Adam: rows/params mismatch");
  const Scaled s = begin_step(params, grads);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Eigen::Index cols = params[i]->cols();
    for (int r : rows[i]) {
      if (r < 0 || r >= params[i]->rows()) throw std::invalid_argument("Adam: row out of range");
      update(i, r * cols, cols, *grads[i], *params[i], s);
    }
  }
}

void Adam::step_rows(ParameterSet& params, const ParameterSet& grads,
                     std::span<const std::vector<int>> rows) {
  const std::vector<RowMatrixXd*> p = params.pointers();
  const std::vector<const RowMatrixXd*> g = grads.pointers();
  step_rows(p, g, rows);
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
