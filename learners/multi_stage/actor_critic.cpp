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
    build(actors_[i], "actor" + std::to_string(i), D, single_agent() ? N * J : J, Activation::kTanh,
          o_.actor_lr, init);
  if (!o_.init_action.empty()) {
    if (static_cast<int>(o_.init_action.size()) != N * J)
      throw std::invalid_argument(
          "ActorCritic: init_action needs one value per stage and objective");
    for (int i = 0; i < n_actors; ++i) {
      Net& n = actors_[i];
      RowMatrixXd& b = n.params[n.params.size() - 1];  // the output layer's bias
      for (Eigen::Index j = 0; j < b.cols(); ++j)
        b(0, j) = std::atanh(std::clamp(o_.init_action[i * b.cols() + j], -0.95, 0.95));
      n.target = n.params;
    }
  }
  critics_.resize(o_.kind == ActorCriticKind::ddpg ? 1 : 2);
  for (std::size_t c = 0; c < critics_.size(); ++c)
    build(critics_[c], "critic" + std::to_string(c), critic_inputs(), 1, Activation::kIdentity,
          o_.critic_lr, init);
}

int ActorCritic::critic_inputs() const {
  const int N = shape_.stages();
  return (single_agent() ? 1 : N) * shape_.observation_dim() + N * shape_.objectives;
}

void ActorCritic::mask_downstream(RowMatrixXd& x) const {
  const int N = shape_.stages(), D = shape_.observation_dim();
  if (single_agent() || o_.critic_downstream_obs || N < 2) return;
  x.middleCols(D, (N - 1) * D).setZero();
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
  std::vector<CascadeTrace> traces;
  rederive_batch({i}, source, traces, {}, true);
  trace = std::move(traces[0]);
}

void ActorCritic::target_actions(int actor, const RowMatrixXd& obs, Rng* rng, RowMatrixXd& a) {
  a = actors_[actor].mlp->forward(actors_[actor].target, obs, scratch_);
  for (Eigen::Index r = 0; r < a.rows(); ++r)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      a(r, j) = std::clamp(a(r, j) + (rng ? smoothing(*rng) : 0.0), -1.0, 1.0);
}

void ActorCritic::gather(const std::vector<std::size_t>& idx, bool next,
                         const RequestSource& source, std::vector<Eigen::RowVectorXd>& contexts,
                         std::vector<std::vector<int>>& pools, std::vector<PredictFn>& predict) {
  contexts.resize(idx.size());
  pools.resize(idx.size());
  predict.resize(idx.size());
  RequestInputs in;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const Transition& t = replay_[idx[k]];
    source(next ? t.next_key : t.key, in);
    // τ¹ is the authority on the context.
    contexts[k] = (next ? t.next_obs[0] : t.obs[0]).head(shape_.context_dim);
    pools[k] = std::move(in.pool);
    predict[k] = std::move(in.predict);
  }
}

void ActorCritic::rederive_batch(const std::vector<std::size_t>& idx, const RequestSource& source,
                                 std::vector<CascadeTrace>& traces, const CascadeOptions& co,
                                 bool replay_noise) {
  std::vector<Eigen::RowVectorXd> contexts;
  std::vector<std::vector<int>> pools;
  std::vector<PredictFn> predict;
  gather(idx, false, source, contexts, pools, predict);
  const int J = shape_.objectives;
  BatchPolicyFn p = [&](int stage, const RowMatrixXd& obs, RowMatrixXd& a) {
    const Eigen::Index B = obs.rows();
    if (replay_noise && stage == 0) {
      a.resize(B, J);
      for (Eigen::Index r = 0; r < B; ++r) a.row(r) = replay_[idx[r]].action.segment(0, J);
      return;
    }
    a = actors_[stage].mlp->forward(actors_[stage].params, obs, scratch_);
    if (replay_noise)
      for (Eigen::Index r = 0; r < B; ++r)
        for (int j = 0; j < J; ++j)
          a(r, j) = std::clamp(a(r, j) + replay_[idx[r]].noise[stage * J + j], -1.0, 1.0);
  };
  run_cascade_batch(shape_, contexts, pools, predict, p, traces, co);
}

ActorCritic::CriticBatch ActorCritic::critic_batch(const std::vector<std::size_t>& idx,
                                                   const RequestSource& source, Rng& rng) {
  const int N = shape_.stages(), D = shape_.observation_dim(), J = shape_.objectives;
  const int n_obs = single_agent() ? 1 : N;
  const Eigen::Index B = static_cast<Eigen::Index>(idx.size());
  CriticBatch b;
  b.x.resize(B, critic_inputs());
  b.y.resize(B);
  std::vector<CascadeTrace> traces;
  if (!single_agent() && o_.cic && o_.cic_critic_current) {
    rederive_batch(idx, source, traces, {}, true);
    for (Eigen::Index r = 0; r < B; ++r)
      for (int i = 0; i < N; ++i) {
        b.x.row(r).segment(i * D, D) = traces[r].obs[i];
        b.x.row(r).segment(N * D + i * J, J) = traces[r].action[i];
      }
  } else {
    for (Eigen::Index r = 0; r < B; ++r) {
      const Transition& t = replay_[idx[r]];
      for (int i = 0; i < n_obs; ++i) b.x.row(r).segment(i * D, D) = t.obs[i];
      b.x.row(r).segment(n_obs * D, N * J) = t.action;
    }
  }
  mask_downstream(b.x);
  std::vector<std::size_t> live;
  for (Eigen::Index r = 0; r < B; ++r) {
    b.y[r] = replay_[idx[r]].reward;
    if (!replay_[idx[r]].done) live.push_back(static_cast<std::size_t>(r));
  }
  if (live.empty()) return b;
  const Eigen::Index L = static_cast<Eigen::Index>(live.size());
  RowMatrixXd xn(L, critic_inputs()), o, a;
  if (!single_agent() && o_.cic) {
    std::vector<std::size_t> next_idx;
    for (std::size_t k : live) next_idx.push_back(idx[k]);
    std::vector<Eigen::RowVectorXd> contexts;
    std::vector<std::vector<int>> pools;
    std::vector<PredictFn> predict;
    gather(next_idx, true, source, contexts, pools, predict);
    BatchPolicyFn p = [&](int stage, const RowMatrixXd& obs, RowMatrixXd& act) {
      target_actions(stage, obs, &rng, act);
    };
    run_cascade_batch(shape_, contexts, pools, predict, p, traces);
    for (Eigen::Index k = 0; k < L; ++k)
      for (int i = 0; i < N; ++i) {
        xn.row(k).segment(i * D, D) = traces[k].obs[i];
        xn.row(k).segment(N * D + i * J, J) = traces[k].action[i];
      }
  } else {
    for (int i = 0; i < n_obs; ++i) {
      o.resize(L, D);
      for (Eigen::Index k = 0; k < L; ++k) o.row(k) = replay_[idx[live[k]]].next_obs[i];
      target_actions(i, o, &rng, a);
      xn.middleCols(i * D, D) = o;
      xn.middleCols(n_obs * D + i * a.cols(), a.cols()) = a;
    }
  }
  mask_downstream(xn);
  Eigen::VectorXd q = critics_[0].mlp->forward(critics_[0].target, xn, scratch_).col(0);
  if (critics_.size() > 1)
    q = q.cwiseMin(critics_[1].mlp->forward(critics_[1].target, xn, scratch_).col(0));
  for (Eigen::Index k = 0; k < L; ++k) b.y[live[k]] += o_.gamma * q[k];
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
  const bool chain = !single_agent() && o_.cic && o_.cic_actor;
  const bool relax = chain && !o_.stop_gradient;
  if (!chain) {
    // Stored observations (single agent: τ¹; CTDE: every τ^i). CTDE has no model of how τ^{i+1}
    // moves with a^i, so it trains as with SG.
    for (Eigen::Index r = 0; r < B; ++r)
      for (int i = 0; i < n_obs; ++i) b.obs[i].row(r) = replay_[idx[r]].obs[i];
    return b;
  }
  CascadeOptions co;
  co.relaxed_jacobian = relax;
  co.temperature = o_.temperature;
  std::vector<CascadeTrace> traces;
  rederive_batch(idx, source, traces, co, false);
  for (int i = 0; i < N; ++i) b.action_ref[i].resize(B, shape_.objectives);
  if (relax) b.jacobian.resize(static_cast<std::size_t>(B));
  for (Eigen::Index r = 0; r < B; ++r) {
    for (int i = 0; i < N; ++i) {
      b.obs[i].row(r) = traces[r].obs[i];
      b.action_ref[i].row(r) = traces[r].action[i];
    }
    if (relax) b.jacobian[r] = traces[r].jacobian;
  }
  return b;
}

double ActorCritic::actor_loss(const ActorBatch& b, std::vector<ParameterSet>* grads) {
  const int N = shape_.stages(), D = shape_.observation_dim(), J = shape_.objectives;
  const int C = shape_.context_dim;
  const int n_act = actors();
  const Eigen::Index B = b.obs[0].rows();
  const bool relax = !b.jacobian.empty();
  std::vector<RowMatrixXd> tau(static_cast<std::size_t>(n_act)),
      act(static_cast<std::size_t>(n_act));
  for (int i = 0; i < n_act; ++i) {
    tau[i] = b.obs[i];
    if (relax && i > 0) {
      // τ̂^i = τ^i + J_{i−1} (a^{i−1} − a_ref^{i−1}) on its mean block.
      for (Eigen::Index r = 0; r < B; ++r)
        tau[i].row(r).segment(C, J) +=
            ((act[i - 1].row(r) - b.action_ref[i - 1].row(r)) * b.jacobian[r][i - 1].transpose());
    }
    act[i] = actors_[i].mlp->forward(actors_[i].params, tau[i], actors_[i].cache);
  }
  RowMatrixXd x(B, critic_inputs());
  for (int i = 0; i < n_act; ++i) x.middleCols(i * D, D) = tau[i];
  const int a0 = n_act * D;
  for (int i = 0; i < n_act; ++i) x.middleCols(a0 + i * act[i].cols(), act[i].cols()) = act[i];
  mask_downstream(x);
  Net& q = critics_[0];
  const RowMatrixXd& qv = q.mlp->forward(q.params, x, q.cache);
  double loss = -qv.mean();
  for (int i = 0; i < n_act; ++i)
    loss += o_.action_l2 * act[i].squaredNorm() / static_cast<double>(B);
  if (!grads) return loss;
  RowMatrixXd dq = RowMatrixXd::Constant(B, 1, -1.0 / static_cast<double>(B)), dx;
  q.mlp->backward(q.params, x, q.cache, dq, q.grads, &dx);  // critic grads: scratch only
  if (!single_agent() && !o_.critic_downstream_obs) dx.middleCols(D, (N - 1) * D).setZero();
  RowMatrixXd dtau_next;  // total ∂L/∂τ̂^{i+1}
  for (int i = n_act - 1; i >= 0; --i) {
    const Eigen::Index w = act[i].cols();
    RowMatrixXd da = dx.middleCols(a0 + i * w, w);
    da += (2.0 * o_.action_l2 / static_cast<double>(B)) * act[i];
    if (relax && i + 1 < n_act)
      for (Eigen::Index r = 0; r < B; ++r)
        da.row(r) += dtau_next.row(r).segment(C, J) * b.jacobian[r][i];
    RowMatrixXd dtau;
    actors_[i].mlp->backward(actors_[i].params, tau[i], actors_[i].cache, da, (*grads)[i],
                             relax ? &dtau : nullptr);
    if (relax) dtau_next = dtau + dx.middleCols(i * D, D);
  }
  return loss;
}

void ActorCritic::update(const RequestSource& source, Rng& rng) {
  if (stored() < o_.batch) return;
  std::vector<std::size_t> idx(static_cast<std::size_t>(o_.batch));
  for (std::size_t& i : idx) i = static_cast<std::size_t>(rng() % replay_.size());
  const CriticBatch cb = critic_batch(idx, source, rng);
  for (std::size_t c = 0; c < critics_.size(); ++c) {
    critic_loss(cb, static_cast<int>(c), &critics_[c].grads);
    if (critics_[c].grads.all_finite())
      critics_[c].opt->step(critics_[c].params, critics_[c].grads);
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
