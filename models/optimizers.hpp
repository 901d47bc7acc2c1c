// First-order optimisers over ParameterSets (or any list of tensors), minimising: each step moves
// params[i] against grads[i]. State (moments, accumulators) is created, zero, on the first step;
// the number and shapes of the tensors must not change afterwards (invalid_argument). The update
// expressions are fixed (learners' results are bit-identical across versions):
//   SGD:      v ← μv + g, θ ← θ − lr·v   (μ = 0: θ ← θ − lr·g, no state)
//   Adam:     m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr_t·m / (√v + eps_t) with the
//             bias corrections folded into lr_t = lr·√(1−β2^t)/(1−β1^t), eps_t = eps·√(1−β2^t)
//             (Kingma & Ba's θ − lr·m̂/(√v̂ + eps), rearranged)
//             Lazy Adam (Adam::step_rows, as torch.optim.SparseAdam / TF LazyAdam): the same update
//             on the listed rows only (the rows a batch has gradients for); the other rows keep
//             their θ, m and v, where dense Adam would decay m and v and move θ by the decaying
//             momentum. t counts every step.
//   Adagrad:  G ← G + g², θ ← θ − lr·g / (√G + eps)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/state.hpp"
#include "models/parameters.hpp"

namespace stagesim::models {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  virtual void step(std::span<RowMatrixXd* const> params,
                    std::span<const RowMatrixXd* const> grads) = 0;
  // Every tensor of params by the same-index tensor of grads.
  void step(ParameterSet& params, const ParameterSet& grads);

  virtual double learning_rate() const = 0;
  std::int64_t steps() const { return steps_; }
  // The step count and the per-parameter state (moments, accumulators), bit for bit, for task
  // checkpoints; the options are rebuilt by the owner's constructor.
  void save(StateWriter& w) const;
  void restore(StateReader& r);

 protected:
  // Checks counts and shapes (against `state` too, created zero on the first call, unless null)
  // and counts the step.
  void prepare(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads,
               std::vector<RowMatrixXd>* state, const char* who);
  std::int64_t steps_ = 0;

 private:
  // The per-parameter state tensors, in a fixed order (save only reads them).
  virtual std::vector<std::vector<RowMatrixXd>*> state() = 0;
};

struct SgdOptions {
  double learning_rate = 1e-2;
  double momentum = 0.0;  // μ ∈ [0, 1)
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(SgdOptions options = {});
  using Optimizer::step;
  void step(std::span<RowMatrixXd* const> params,
            std::span<const RowMatrixXd* const> grads) override;
  double learning_rate() const override { return options_.learning_rate; }
  const std::vector<RowMatrixXd>& velocity() const { return velocity_; }

 private:
  std::vector<std::vector<RowMatrixXd>*> state() override { return {&velocity_}; }
  SgdOptions options_;
  std::vector<RowMatrixXd> velocity_;
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam final : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});
  using Optimizer::step;
  void step(std::span<RowMatrixXd* const> params,
            std::span<const RowMatrixXd* const> grads) override;
  // Lazy Adam: updates only rows[i] (distinct) of tensor i; grads elsewhere are ignored.
  void step_rows(std::span<RowMatrixXd* const> params, std::span<const RowMatrixXd* const> grads,
                 std::span<const std::vector<int>> rows);
  void step_rows(ParameterSet& params, const ParameterSet& grads,
                 std::span<const std::vector<int>> rows);
  double learning_rate() const override { return options_.learning_rate; }
  const std::vector<RowMatrixXd>& first_moments() const { return m_; }
  const std::vector<RowMatrixXd>& second_moments() const { return v_; }

 private:
  std::vector<std::vector<RowMatrixXd>*> state() override { return {&m_, &v_}; }
  // Step size and epsilon with this step's bias corrections folded in.
  struct Scaled {
    double lr, eps;
  };
  // Counts the step, sizes the moments and returns this step's scaled constants.
  Scaled begin_step(std::span<RowMatrixXd* const> params,
                    std::span<const RowMatrixXd* const> grads);
  // The update of `len` contiguous elements from `at` of tensor i.
  void update(std::size_t i, Eigen::Index at, Eigen::Index len, const RowMatrixXd& grad,
              RowMatrixXd& param, Scaled s);
  AdamOptions options_;
  std::vector<RowMatrixXd> m_, v_;
};

constexpr double kAdagradEps = 1e-10;

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(double learning_rate, double eps = kAdagradEps);
  using Optimizer::step;
  void step(std::span<RowMatrixXd* const> params,
            std::span<const RowMatrixXd* const> grads) override;
  double learning_rate() const override { return learning_rate_; }
  const std::vector<RowMatrixXd>& accumulators() const { return sum_sq_; }

 private:
  std::vector<std::vector<RowMatrixXd>*> state() override { return {&sum_sq_}; }
  double learning_rate_, eps_;
  std::vector<RowMatrixXd> sum_sq_;
};

// An optimiser chosen by configuration.
enum class OptimizerKind { kSgd, kAdam, kAdagrad };
std::optional<OptimizerKind> optimizer_from_name(
    std::string_view name);  // "sgd", "adam", "adagrad"
std::string_view optimizer_name(OptimizerKind kind);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kAdam;
  double learning_rate = 1e-3;
  double momentum = 0.0;                          // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam (Adagrad uses eps too)
};

// invalid_argument on a non-positive learning rate, momentum ∉ [0, 1), β ∉ [0, 1) or eps < 0.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerOptions& options);

}  // namespace stagesim::models
