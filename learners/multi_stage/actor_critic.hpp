#pragma once
// Deterministic actor–critic learners for a cascade of fused-score stages (spec §3), on the shared
// models module (Mlp, Adam, Polyak targets):
//   DDPG / TD3, single agent: one actor μ(τ¹) sets every stage's weights (N·J outputs), critic
//     Q(τ¹, a). TD3 = twin critics (min in the target), target-policy smoothing
//     ã = clip(μ'(τ') + clip(N(0, σ̃²), −c, c), −1, 1) and actor/target updates every
//     `policy_delay` critic updates; DDPG = one critic, no smoothing, delay 1.
//   UNEX-RL: one actor per stage μ^i(τ^i), one global twin critic Q^g(τ^{1..N}, a^{1..N}) with
//     target networks (TD3's machinery). Replay holds (τ¹, a^{1..N}, exploration noise ε^{1..N},
//     stored τ^{2..N}, r, τ¹′, stored τ′^{2..N}). Downstream observations come either from the
//     replay (UNEX-RL-CTDE) or from the cascading information chain (CIC): the request of τ¹ is
//     re-run through the stage selections — stage 1 with its stored action, stage i ≥ 2 with
//     clip(μ^i(τ^i) + ε^i) under the current actors and the stored noise [our choice: with
//     unchanged actors this reproduces the recorded observations and actions exactly, and the
//     critic keeps learning about the actions that earned r]; targets run the target actors
//     the same way from τ¹′. Actor updates re-derive the chain with the current actors.
//   SG (stop gradient): actor i's gradient flows only through Q^g's a^i input. Without SG it
//     also flows through downstream observations and actions: ∂τ^{i+1}/∂a^i from the cascade's
//     relaxed selection (learners/multi_stage/cascade.hpp), chained backwards through
//     a^{i+1} = μ^{i+1}(τ^{i+1}).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "learners/multi_stage/cascade.hpp"
#include "models/mlp.hpp"
#include "models/optimizers.hpp"

namespace stagesim::multistage {

enum class ActorCriticKind { ddpg, td3, unex };

struct ActorCriticOptions {
  ActorCriticKind kind = ActorCriticKind::unex;
  bool cic = true;            // UNEX-RL: re-derive downstream observations (false: CTDE)
  bool stop_gradient = true;  // UNEX-RL: SG
  // CIC, critic inputs: re-derive a^{2..N} under the current actors (+ stored noise), or keep the
  // stored actions (then the chain reproduces the stored observations; CIC acts on the targets
  // and the actor updates only).
  bool cic_critic_current = true;
  // CIC, actor updates: re-derive the chain under the current actors (true) or use the stored
  // observations (false; CIC then acts on the TD targets only) — for diagnosis.
  bool cic_actor = true;
  // UNEX-RL: the global critic's inputs hold τ^{2..N} (true, the spec's Q^g(τ^{1..N}, a^{1..N}))
  // or zeros in their place (false: Q^g(τ¹, a^{1..N}), so ∂Q/∂a^i is a^i's whole effect, also the
  // part that passes through the downstream candidate sets) — for diagnosis.
  bool critic_downstream_obs = true;
  std::vector<int> hidden = {32, 32};
  double actor_lr = 1e-3;
  double critic_lr = 1e-3;
  double gamma = 0.9;
  double tau = 0.01;  // Polyak rate of the targets
  int batch = 64;
  int policy_delay = 2;       // TD3 / UNEX-RL (DDPG: 1)
  double target_noise = 0.2;  // σ̃ (TD3 / UNEX-RL)
  double noise_clip = 0.5;    // c
  double exploration = 0.2;   // behaviour noise sd
  std::int64_t replay = 50000;
  double temperature = 0.5;  // relaxed selection (without SG)
  // λ of the actors' penalty λ·mean‖a‖²: a fused score ranks by the direction of a only, so the
  // critic's extrapolation along ‖a‖ would otherwise drive the tanh outputs into saturation.
  double action_l2 = 0.0;
  // Initial actions: the actors' output biases start at atanh(init_action) (N·J values,
  // stage-major; empty = 0), so the untrained policy is a chosen fusion (CEM's starting point)
  // rather than an almost random ranking.
  std::vector<double> init_action;
};

// Where a stored request's stage-1 inputs come from (the job regenerates them from the world).
struct RequestKey {
  std::int64_t user = -1;  // index in the training population
  std::int64_t request = 0;
};
struct RequestInputs {
  Eigen::RowVectorXd context;  // the learner takes it from the stored τ¹ (its first block)
  std::vector<int> pool;
  PredictFn predict;
};
using RequestSource = std::function<void(const RequestKey&, RequestInputs&)>;

struct Transition {
  RequestKey key, next_key;
  std::vector<Eigen::RowVectorXd> obs,
      next_obs;                      // τ^{1..N} as recorded (next: at the next request)
  Eigen::RowVectorXd action, noise;  // N·J, as applied / the exploration noise
  double reward = 0;
  bool done = false;
};

class ActorCritic {
 public:
  ActorCritic(const CascadeShape& shape, const ActorCriticOptions& options, Rng& init);

  const ActorCriticOptions& options() const { return o_; }
  bool single_agent() const { return o_.kind != ActorCriticKind::unex; }
  int actors() const { return static_cast<int>(actors_.size()); }
  int action_dim() const { return shape_.stages() * shape_.objectives; }

  // The behaviour policy for run_cascade: the actors' actions plus N(0, exploration²) noise when
  // `noise` is not null (the drawn noise is written there: N·J values), clipped to [−1, 1].
  PolicyFn policy(Eigen::RowVectorXd* noise, Rng* rng);

  void store(Transition t);
  std::int64_t stored() const { return static_cast<std::int64_t>(replay_.size()); }
  // One critic update (and every policy_delay-th an actor + target update) from a sampled batch.
  void update(const RequestSource& source, Rng& rng);
  std::int64_t updates() const { return updates_; }
  std::int64_t actor_updates() const { return actor_updates_; }

  // --- pieces exposed for tests -----------------------------------------------------------
  struct CriticBatch {
    RowMatrixXd x;  // B × critic inputs (observations, then actions)
    Eigen::VectorXd y;
  };
  // The TD target and critic inputs of replay entries `idx` (CIC re-derivation included).
  CriticBatch critic_batch(const std::vector<std::size_t>& idx, const RequestSource& source,
                           Rng& rng);
  // mean (Q_c(x) − y)² and (when grad) its gradient for critic c ∈ {0, 1}.
  double critic_loss(const CriticBatch& b, int c, models::ParameterSet* grad);
  struct ActorBatch {
    std::vector<RowMatrixXd> obs;  // per actor, B × its observation (at the current actions)
    std::vector<RowMatrixXd> action_ref;  // per actor, the actions obs were derived with
    // per sample, per stage i < N−1: ∂ mean-part(τ^{i+1}) / ∂a^i (empty with SG or single agent)
    std::vector<std::vector<RowMatrixXd>> jacobian;
  };
  ActorBatch actor_batch(const std::vector<std::size_t>& idx, const RequestSource& source);
  // −mean Q_0(τ̂, μ(τ̂)) + action_l2 · mean Σ_i ‖μ^i(τ̂^i)‖², where τ̂^{i+1} = τ^{i+1} + J_i (μ^i(τ̂^i)
  // − a_ref^i) on its mean part (equal to τ at the current actors, so its gradient is the chain
  // rule through downstream observations); with SG the τ̂ are the stored τ. grads: one ParameterSet
  // per actor.
  double actor_loss(const ActorBatch& b, std::vector<models::ParameterSet>* grads);

  models::ParameterSet& actor_params(int i) { return actors_[i].params; }
  models::ParameterSet& critic_params(int c) { return critics_[c].params; }
  models::ParameterSet& critic_target(int c) { return critics_[c].target; }
  models::ParameterSet& actor_target(int i) { return actors_[i].target; }
  const Transition& transition(std::size_t i) const { return replay_[i]; }
  // Re-derives τ^{1..N} and a^{1..N} of replay entry i under the current actors (CIC).
  void rederive(std::size_t i, const RequestSource& source, CascadeTrace& trace);
  // The target action of one actor with smoothing noise (TD3): exposed for the smoothing test.
  void target_action(int actor, const Eigen::RowVectorXd& obs, Rng* rng, Eigen::RowVectorXd& a);

 private:
  struct Net {
    models::ParameterSet params, target, grads;
    std::unique_ptr<models::Mlp> mlp;
    std::unique_ptr<models::Optimizer> opt;
    models::Mlp::Cache cache;
  };
  void build(Net& n, const std::string& name, int inputs, int outputs, models::Activation out,
             double lr, Rng& init);
  void actor_forward(int i, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a);
  void target_actions(int actor, const RowMatrixXd& obs, Rng* rng, RowMatrixXd& a);
  void gather(const std::vector<std::size_t>& idx, bool next, const RequestSource& source,
              std::vector<Eigen::RowVectorXd>& contexts, std::vector<std::vector<int>>& pools,
              std::vector<PredictFn>& predict);
  // CIC for replay entries idx: stage 1 takes the stored action and stage i ≥ 2 the current
  // actor plus the stored noise (replay_noise), or every stage the current actors (not).
  void rederive_batch(const std::vector<std::size_t>& idx, const RequestSource& source,
                      std::vector<CascadeTrace>& traces, const CascadeOptions& co,
                      bool replay_noise);
  double smoothing(Rng& rng) const;
  int critic_inputs() const;
  // Zeros the τ^{2..N} blocks of critic inputs x when critic_downstream_obs is off.
  void mask_downstream(RowMatrixXd& x) const;

  CascadeShape shape_;
  ActorCriticOptions o_;
  std::vector<Net> actors_, critics_;
  std::vector<Transition> replay_;
  std::size_t next_slot_ = 0;
  std::int64_t updates_ = 0, actor_updates_ = 0;
  Eigen::RowVectorXd single_action_;  // single agent: the full action of the current request
  models::Mlp::Cache scratch_;
};

}  // namespace stagesim::multistage
