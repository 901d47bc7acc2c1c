#include "learners/multi_stage/actor_critic.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <boost/random/normal_distribution.hpp>

namespace stagesim::multistage {

using models::Activation;
using models::Mlp;
using models::MlpSpec;
using models::ParameterSet;

ActorCritic::ActorCritic(const CascadeShape& shape, const ActorCriticOptions& options, Rng& init)
    : shape_(shape), o_(options) {
  if (shape.stages() < 1 || shape.objectives < 1)
    throw std::invalid_argument("ActorCritic: a cascade needs stages and objectives");
  const int N = shape.stages(), J = shape.objectives, D = shape.observation_dim();
  if (o_.kind == ActorCriticKind::ddpg) o_.policy_delay = 1;
  const int n_actors = single_agent() ? 1 : N;
  actors_.resize(static_cast<std::size_t>(n_actors));
  for (int i = 0; i < n_actors; ++i)
    build(actors_[i], "actor" + std::to_string(i), D, single_agent() ? N * J : J,
          Activation::kTanh, o_.actor_lr, init);
  critics_.resize(o_.kind == ActorCriticKind::ddpg ? 1 : 2);
  for (std::size_t c = 0; c < critics_.size(); ++c)
    build(critics_[c], "critic" + std::to_string(c), critic_inputs(), 1, Activation::kIdentity,
          o_.critic_lr, init);
}

int ActorCritic::critic_inputs() const {
  const int N = shape_.stages();
  return (single_agent() ? 1 : N) * shape_.observation_dim() + N * shape_.objectives;
}

void ActorCritic::build(Net& n, const std::string& name, int inputs, int outputs, Activation out,
                        double lr, Rng& init) {
  MlpSpec s;
  s.inputs = inputs;
  for (int h : o_.hidden) {
    s.widths.push_back(h);
    s.activations.push_back(Activation::kRelu);
  }
  s.widths.push_back(outputs);
  s.activations.push_back(out);
  n.mlp = std::make_unique<Mlp>(n.params, name, s);
  n.mlp->init(n.params, init);
  n.target = n.params;
  n.grads = n.params.zeros_like();
  models::OptimizerOptions oo;
  oo.learning_rate = lr;
  n.opt = models::make_optimizer(oo);
}

void ActorCritic::actor_forward(int i, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a) {
  const RowMatrixXd x = obs;
  a = actors_[i].mlp->forward(actors_[i].params, x, scratch_).row(0);
}

double ActorCritic::smoothing(Rng& rng) const {
  if (o_.kind == ActorCriticKind::ddpg || o_.target_noise <= 0) return 0.0;
  boost::random::normal_distribution<double> n(0.0, o_.target_noise);
  return std::clamp(n(rng), -o_.noise_clip, o_.noise_clip);
}

void ActorCritic::target_action(int actor, const Eigen::RowVectorXd& obs, Rng* rng,
                                Eigen::RowVectorXd& a) {
  const RowMatrixXd x = obs;
  a = actors_[actor].mlp->forward(actors_[actor].target, x, scratch_).row(0);
  for (Eigen::Index j = 0; j < a.size(); ++j)
    a[j] = std::clamp(a[j] + (rng ? smoothing(*rng) : 0.0), -1.0, 1.0);
}

PolicyFn ActorCritic::policy(Eigen::RowVectorXd* noise, Rng* rng) {
  const int J = shape_.objectives;
  if (noise) *noise = Eigen::RowVectorXd::Zero(action_dim());
  return [this, noise, rng, J](int stage, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a) {
    boost::random::normal_distribution<double> n01;
    auto perturb = [&](Eigen::RowVectorXd& v, int first) {
      for (Eigen::Index j = 0; j < v.size(); ++j) {
        const double e = (noise && rng) ? o_.exploration * n01(*rng) : 0.0;
        if (noise) (*noise)[first + j] = e;
        v[j] = std::clamp(v[j] + e, -1.0, 1.0);
      }
    };
    if (single_agent()) {
      if (stage == 0) {
        actor_forward(0, obs, single_action_);
        perturb(single_action_, 0);
      }
      a = single_action_.segment(stage * J, J);
    } else {
      actor_forward(stage, obs, a);
      perturb(a, stage * J);
    }
  };
}

void ActorCritic::store(Transition t) {
  if (static_cast<std::int64_t>(replay_.size()) < o_.replay) {
    replay_.push_back(std::move(t));
  } else {
    replay_[next_slot_] = std::move(t);
    next_slot_ = (next_slot_ + 1) % replay_.size();
  }
}

void ActorCritic::rederive(std::size_t i, const RequestSource& source, CascadeTrace& trace) {
  const Transition& t = replay_[i];
  RequestInputs in;
  source(t.key, in);
  in.context = t.obs[0].head(shape_.context_dim);  // τ¹ is the authority on the context
  const int J = shape_.objectives;
  PolicyFn p = [&](int stage, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a) {
    if (stage == 0) {
      a = t.action.segment(0, J);
      return;
    }
    actor_forward(stage, obs, a);
    for (Eigen::Index j = 0; j < a.size(); ++j)
      a[j] = std::clamp(a[j] + t.noise[stage * J + j], -1.0, 1.0);
  };
  run_cascade(shape_, in.context, in.pool, in.predict, p, trace);
}

ActorCritic::CriticBatch ActorCritic::critic_batch(const std::vector<std::size_t>& idx,
                                                   const RequestSource& source, Rng& rng) {
  const int N = shape_.stages(), D = shape_.observation_dim(), J = shape_.objectives;
  const int n_obs = single_agent() ? 1 : N;
  const Eigen::Index B = static_cast<Eigen::Index>(idx.size());
  CriticBatch b;
  b.x.resize(B, critic_inputs());
  b.y.resize(B);
  RowMatrixXd xn(B, critic_inputs());
  std::vector<Eigen::Index> live;
  CascadeTrace trace;
  Eigen::RowVectorXd a;
  for (Eigen::Index r = 0; r < B; ++r) {
    const Transition& t = replay_[idx[r]];
    if (!single_agent() && o_.cic) {
      rederive(idx[r], source, trace);
      for (int i = 0; i < N; ++i) {
        b.x.row(r).segment(i * D, D) = trace.obs[i];
        b.x.row(r).segment(N * D + i * J, J) = trace.action[i];
      }
    } else {
      for (int i = 0; i < n_obs; ++i) b.x.row(r).segment(i * D, D) = t.obs[i];
      b.x.row(r).segment(n_obs * D, N * J) = t.action;
    }
    b.y[r] = t.reward;
    if (t.done) continue;
    const Eigen::Index k = static_cast<Eigen::Index>(live.size());
    live.push_back(r);
    if (single_agent()) {
      xn.row(k).segment(0, D) = t.next_obs[0];
      target_action(0, t.next_obs[0], &rng, a);
      xn.row(k).segment(D, N * J) = a;
    } else if (!o_.cic) {
      for (int i = 0; i < N; ++i) {
        xn.row(k).segment(i * D, D) = t.next_obs[i];
        target_action(i, t.next_obs[i], &rng, a);
        xn.row(k).segment(N * D + i * J, J) = a;
      }
    } else {
      RequestInputs in;
      source(t.next_key, in);
      in.context = t.next_obs[0].head(shape_.context_dim);
      PolicyFn p = [&](int stage, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& act) {
        target_action(stage, obs, &rng, act);
      };
      run_cascade(shape_, in.context, in.pool, in.predict, p, trace);
      for (int i = 0; i < N; ++i) {
        xn.row(k).segment(i * D, D) = trace.obs[i];
        xn.row(k).segment(N * D + i * J, J) = trace.action[i];
      }
    }
  }
  if (!live.empty()) {
    const RowMatrixXd x = xn.topRows(static_cast<Eigen::Index>(live.size()));
    Eigen::VectorXd q = critics_[0].mlp->forward(critics_[0].target, x, scratch_).col(0);
    if (critics_.size() > 1)
      q = q.cwiseMin(critics_[1].mlp->forward(critics_[1].target, x, scratch_).col(0));
    for (std::size_t k = 0; k < live.size(); ++k) b.y[live[k]] += o_.gamma * q[k];
  }
  return b;
}

double ActorCritic::critic_loss(const CriticBatch& b, int c, ParameterSet* grad) {
  Net& n = critics_[static_cast<std::size_t>(c)];
  const RowMatrixXd& q = n.mlp->forward(n.params, b.x, n.cache);
  const Eigen::Index B = b.x.rows();
  RowMatrixXd dq(B, 1);
  double loss = 0;
  for (Eigen::Index r = 0; r < B; ++r) {
    const double e = q(r, 0) - b.y[r];
    loss += e * e;
    dq(r, 0) = 2.0 * e / static_cast<double>(B);
  }
  if (grad) n.mlp->backward(n.params, b.x, n.cache, dq, *grad, nullptr);
  return loss / static_cast<double>(B);
}

ActorCritic::ActorBatch ActorCritic::actor_batch(const std::vector<std::size_t>& idx,
                                                 const RequestSource& source) {
  const int N = shape_.stages(), D = shape_.observation_dim();
  const int n_obs = single_agent() ? 1 : N;
  const Eigen::Index B = static_cast<Eigen::Index>(idx.size());
  ActorBatch b;
  b.obs.assign(static_cast<std::size_t>(n_obs), RowMatrixXd(B, D));
  b.action_ref.assign(static_cast<std::size_t>(n_obs), RowMatrixXd());
  const bool chain = !single_agent() && o_.cic;
  const bool relax = chain && !o_.stop_gradient;
  if (relax) b.jacobian.resize(static_cast<std::size_t>(B));
  if (chain)
    for (int i = 0; i < N; ++i) b.action_ref[i].resize(B, shape_.objectives);
  CascadeTrace trace;
  CascadeOptions co;
  co.relaxed_jacobian = relax;
  co.temperature = o_.temperature;
  for (Eigen::Index r = 0; r < B; ++r) {
    const Transition& t = replay_[idx[r]];
    if (!chain) {
      for (int i = 0; i < n_obs; ++i) b.obs[i].row(r) = t.obs[i];
      continue;
    }
    RequestInputs in;
    source(t.key, in);
    in.context = t.obs[0].head(shape_.context_dim);
    PolicyFn p = [&](int stage, const Eigen::RowVectorXd& obs, Eigen::RowVectorXd& a) {
      actor_forward(stage, obs, a);
    };
    run_cascade(shape_, in.context, in.pool, in.predict, p, trace, co);
    for (int i = 0; i < N; ++i) {
      b.obs[i].row(r) = trace.obs[i];
      b.action_ref[i].row(r) = trace.action[i];
    }
    if (relax) b.jacobian[r] = trace.jacobian;
  }
  // CTDE without SG has no model of the downstream observations: SG in effect (documented).
  return b;
}

double ActorCritic::actor_loss(const ActorBatch& b, std::vector<ParameterSet>* grads) {
  const int N = shape_.stages(), D = shape_.observation_dim(), J = shape_.objectives;
  const int C = shape_.context_dim;
  const int n_act = actors();
  const Eigen::Index B = b.obs[0].rows();
  const bool relax = !b.jacobian.empty();
  std::vector<RowMatrixXd> tau(static_cast<std::size_t>(n_act)), act(static_cast<std::size_t>(n_act));
  for (int i = 0; i < n_act; ++i) {
    tau[i] = b.obs[i];
    if (relax && i > 0) {
      // τ̂^i = τ^i + J_{i−1} (a^{i−1} − a_ref^{i−1}) on its mean block.
      for (Eigen::Index r = 0; r < B; ++r)
        tau[i].row(r).segment(C, J) +=
            ((act[i - 1].row(r) - b.action_ref[i - 1].row(r)) *
             b.jacobian[r][i - 1].transpose());
    }
    act[i] = actors_[i].mlp->forward(actors_[i].params, tau[i], actors_[i].cache);
  }
  RowMatrixXd x(B, critic_inputs());
  for (int i = 0; i < n_act; ++i) x.middleCols(i * D, D) = tau[i];
  const int a0 = n_act * D;
  for (int i = 0; i < n_act; ++i) x.middleCols(a0 + i * act[i].cols(), act[i].cols()) = act[i];
  Net& q = critics_[0];
  const RowMatrixXd& qv = q.mlp->forward(q.params, x, q.cache);
  const double loss = -qv.mean();
  if (!grads) return loss;
  RowMatrixXd dq = RowMatrixXd::Constant(B, 1, -1.0 / static_cast<double>(B)), dx;
  q.mlp->backward(q.params, x, q.cache, dq, q.grads, &dx);  // critic grads: scratch only
  RowMatrixXd dtau_next;  // total ∂L/∂τ̂^{i+1}
  for (int i = n_act - 1; i >= 0; --i) {
    const Eigen::Index w = act[i].cols();
    RowMatrixXd da = dx.middleCols(a0 + i * w, w);
    if (relax && i + 1 < n_act)
      for (Eigen::Index r = 0; r < B; ++r)
        da.row(r) += dtau_next.row(r).segment(C, J) * b.jacobian[r][i];
    RowMatrixXd dtau;
    actors_[i].mlp->backward(actors_[i].params, tau[i], actors_[i].cache, da, (*grads)[i],
                             relax ? &dtau : nullptr);
    if (relax) dtau_next = dtau + dx.middleCols(i * D, D);
  }
  (void)N;
  return loss;
}

void ActorCritic::update(const RequestSource& source, Rng& rng) {
  if (stored() < o_.batch) return;
  std::vector<std::size_t> idx(static_cast<std::size_t>(o_.batch));
  for (std::size_t& i : idx) i = static_cast<std::size_t>(rng() % replay_.size());
  const CriticBatch cb = critic_batch(idx, source, rng);
  for (std::size_t c = 0; c < critics_.size(); ++c) {
    critic_loss(cb, static_cast<int>(c), &critics_[c].grads);
    if (critics_[c].grads.all_finite()) critics_[c].opt->step(critics_[c].params, critics_[c].grads);
  }
  ++updates_;
  if (updates_ % o_.policy_delay != 0) return;
  const ActorBatch ab = actor_batch(idx, source);
  std::vector<ParameterSet> g;
  for (Net& a : actors_) g.push_back(a.params.zeros_like());
  actor_loss(ab, &g);
  for (std::size_t i = 0; i < actors_.size(); ++i)
    if (g[i].all_finite()) actors_[i].opt->step(actors_[i].params, g[i]);
  for (Net& a : actors_) models::polyak_update(a.target, a.params, o_.tau);
  for (Net& c : critics_) models::polyak_update(c.target, c.params, o_.tau);
  ++actor_updates_;
}

}  // namespace stagesim::multistage
