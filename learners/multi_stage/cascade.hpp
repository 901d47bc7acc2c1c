#pragma once
// A cascade of fused-score stages (stages as agents, spec §2): stage i observes
//   τ^i = (user context, mean and max of each predicted objective over its candidates,
//          its candidate count / the pool size),
// takes an action a^i ∈ [−1, 1]^J (fusion weights) and keeps its top c_i candidates by
// Σ_j a^i_j · pred^i_j (its own predictor's objectives). The selection is deterministic (ties go
// to the earlier candidate), so τ^{i+1} is a function of τ^1's request and a^{1..i}: what the
// cascading information chain (CIC) re-derives during training.
//
// For the gradient through downstream observations (UNEX-RL without stop-gradient) a stage can
// also report ∂(mean part of τ^{i+1})/∂a^i of a relaxed selection: soft membership
// m_k = σ((s_k − θ)/T) around the hard threshold θ (midpoint of the c_i-th and (c_i+1)-th
// scores), T = temperature · sd(s); max and count entries are taken as locally constant.
#include <functional>
#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "sim/decision.hpp"

namespace stagesim::multistage {

// Predictions of stage `stage` for `items`: items.size() × objectives (on a common scale).
using PredictFn = std::function<void(int stage, std::span<const int> items, RowMatrixXd& out)>;
// The action of stage `stage` for observation `obs` (1 × observation_dim), written to `a`.
using PolicyFn =
    std::function<void(int stage, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a)>;

struct CascadeShape {
  std::vector<int> keep;  // c_1..c_N (the last is the slate)
  int context_dim = 0;    // user features + session context
  int objectives = 0;     // J
  int stages() const { return static_cast<int>(keep.size()); }
  int observation_dim() const { return context_dim + 2 * objectives + 1; }
};

// One request through the cascade.
struct CascadeTrace {
  std::vector<Eigen::RowVectorXd> obs;     // τ^i
  std::vector<Eigen::RowVectorXd> action;  // a^i as applied
  // decisions[i]: stage i's Decision (ids kept, best first; payload = a^i; scores when asked)
  std::vector<Decision> decisions;
  // Optional (relaxed): jacobian[i] = ∂ mean-part(τ^{i+1}) / ∂a^i, J × J, for i < N − 1.
  std::vector<RowMatrixXd> jacobian;
  std::span<const int> served() const { return decisions.back().ids; }
};

struct CascadeOptions {
  bool scores = false;             // fill Decision::scores
  bool relaxed_jacobian = false;   // fill CascadeTrace::jacobian (costs one extra prediction)
  double temperature = 0.5;
};

// τ for candidates with predictions `preds` (rows × J): context ++ means ++ maxes ++ count/pool.
void observe(const Eigen::RowVectorXd& context, const RowMatrixXd& preds, double pool,
             Eigen::RowVectorXd& obs);

// Positions of the `keep` highest scores, best first; ties to the lower position.
void top_positions(std::span<const double> scores, int keep, std::vector<int>& out);

// Runs the cascade on `pool` (stage 1's candidates). `policy` chooses each stage's action from
// its observation (e.g. an actor plus stored exploration noise).
void run_cascade(const CascadeShape& shape, const Eigen::RowVectorXd& context,
                 std::span<const int> pool, const PredictFn& predict, const PolicyFn& policy,
                 CascadeTrace& trace, const CascadeOptions& options = {});

// Actions of stage `stage` for a batch of observations (B × observation_dim) into a (B × J).
using BatchPolicyFn = std::function<void(int stage, const RowMatrixXd& obs, RowMatrixXd& a)>;

// The cascade for a batch of requests at once (stage by stage, so a learner's actors see one
// batched forward pass per stage): the same traces as run_cascade request by request.
void run_cascade_batch(const CascadeShape& shape, std::span<const Eigen::RowVectorXd> contexts,
                       std::span<const std::vector<int>> pools, std::span<const PredictFn> predict,
                       const BatchPolicyFn& policy, std::vector<CascadeTrace>& traces,
                       const CascadeOptions& options = {});

}  // namespace stagesim::multistage
