// The cascade of fused-score stages and its learners: worked examples of the selection and the
// observation, the cascading information chain (re-derived downstream observations equal the
// recorded ones while the actors are unchanged, and differ once they moved), finite-difference
// checks of the critic and actor gradients (with and without stop-gradient), TD3's target
// smoothing and delayed updates, CQR and CEM.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <boost/random/normal_distribution.hpp>

#include "environments/kuairand_session.hpp"
#include "learners/multi_stage/actor_critic.hpp"
#include "learners/multi_stage/category_quantile.hpp"
#include "learners/multi_stage/cem.hpp"
#include "models/gradient_check.hpp"

using namespace stagesim;
using namespace stagesim::multistage;

TEST(Cascade, TopPositionsIsStableAndBestFirst) {
  const std::vector<double> s = {0.5, 2.0, -1.0, 2.0, 0.7};
  std::vector<int> out;
  top_positions(s, 3, out);
  EXPECT_EQ(out, (std::vector<int>{1, 3, 4}));  // tie 1 vs 3: the earlier first
  top_positions(s, 10, out);
  EXPECT_EQ(out, (std::vector<int>{1, 3, 4, 0, 2}));
}

TEST(Cascade, ObservationIsContextMeansMaxesAndShare) {
  RowMatrixXd preds(2, 2);
  preds << 1, 4, 3, 2;
  Eigen::RowVectorXd ctx(1), obs;
  ctx << 9;
  observe(ctx, preds, 8, obs);
  Eigen::RowVectorXd want(6);
  want << 9, std::log1p(2.0), std::log1p(3.0), std::log1p(3.0), std::log1p(4.0), 0.25;
  EXPECT_LT((obs - want).cwiseAbs().maxCoeff(), 1e-15);
}

namespace {

// Actor i's analytic gradient of the actor loss on `batch` against finite differences.
models::GradientCheckReport check_actor_gradient(ActorCritic& ac,
                                                 const ActorCritic::ActorBatch& batch, int i) {
  return models::check_gradient(ac.actor_params(i), [&](models::ParameterSet* g) {
    std::vector<models::ParameterSet> all;
    for (int k = 0; k < ac.actors(); ++k) all.push_back(ac.actor_params(k).zeros_like());
    const double l = ac.actor_loss(batch, g ? &all : nullptr);
    if (g) copy_values(*g, all[i]);
    return l;
  });
}

// A small world, three stages, and a replay filled by the behaviour policy.
struct Fixture {
  SessionWorldParams p;
  std::unique_ptr<KuairandSessionWorld> world;
  std::vector<SessionUser> users;
  std::vector<std::vector<RowMatrixXd>> tables;
  CascadeShape shape;
  int pool = 40;
  RequestSource source;

  explicit Fixture(int n_users = 6) {
    p.items = 120;
    p.users = n_users;
    world = std::make_unique<KuairandSessionWorld>(p, 11, std::vector<double>{0.8, 0.4, 0.1});
    users = world->make_users(0, 0, n_users);
    tables.resize(users.size());
    std::vector<int> all(p.items);
    for (int i = 0; i < p.items; ++i) all[i] = i;
    for (std::size_t u = 0; u < users.size(); ++u) {
      Eigen::VectorXd s;
      world->affinity(users[u], s);
      tables[u].resize(3);
      for (int k = 0; k < 3; ++k) world->predict(s, all, k, tables[u][k]);
    }
    shape.keep = {16, 8, 4};
    shape.context_dim = world->feature_dim() + 2;
    shape.objectives = kObjectives;
    source = [this](const RequestKey& k, RequestInputs& in) {
      world->pool(users[k.user], k.request, pool, in.pool);
      in.predict = predictor(k.user);
      in.context = context(k);
    };
  }
  PredictFn predictor(std::int64_t u) const {
    const auto* t = &tables[static_cast<std::size_t>(u)];
    return [t](int stage, std::span<const int> items, RowMatrixXd& out) {
      const RowMatrixXd& tab = (*t)[stage];
      out.resize(static_cast<Eigen::Index>(items.size()), tab.cols());
      for (std::size_t k = 0; k < items.size(); ++k) out.row(k) = tab.row(items[k]);
    };
  }
  Eigen::RowVectorXd context(const RequestKey& k) const {
    Eigen::RowVectorXd c(shape.context_dim);
    c.head(world->feature_dim()) = users[k.user].features;
    c[world->feature_dim()] = static_cast<double>(k.request) / 10.0;
    c[world->feature_dim() + 1] = 0;
    return c;
  }
  // `requests` consecutive requests per user under ac's behaviour policy, linked into transitions.
  void fill(ActorCritic& ac, int requests, Rng& rng) {
    Eigen::RowVectorXd noise;
    PolicyFn behaviour = ac.policy(&noise, &rng);
    for (std::int64_t u = 0; u < static_cast<std::int64_t>(users.size()); ++u) {
      std::vector<CascadeTrace> traces(requests);
      std::vector<Eigen::RowVectorXd> noises(requests);
      for (int r = 0; r < requests; ++r) {
        RequestInputs in;
        source({u, r}, in);
        run_cascade(shape, in.context, in.pool, in.predict, behaviour, traces[r]);
        noises[r] = noise;
      }
      for (int r = 0; r + 1 < requests; ++r) {
        Transition t;
        t.key = {u, r};
        t.next_key = {u, r + 1};
        t.obs = traces[r].obs;
        t.next_obs = traces[r + 1].obs;
        t.action.resize(ac.action_dim());
        for (int i = 0; i < shape.stages(); ++i)
          t.action.segment(i * kObjectives, kObjectives) = traces[r].action[i];
        t.noise = noises[r];
        t.reward = 0.1 * r + traces[r].obs[0][shape.context_dim + kPlayTime];
        t.done = r + 2 == requests;
        ac.store(std::move(t));
      }
    }
  }
};

ActorCriticOptions small(ActorCriticKind kind) {
  ActorCriticOptions o;
  o.kind = kind;
  o.hidden = {8};
  o.batch = 16;
  o.exploration = 0.3;
  o.action_l2 = 0.3;  // its gradient is part of what the FD checks see
  return o;
}

}  // namespace

TEST(Cic, RederivedObservationsEqualRecordedOnesWhileActorsAreUnchanged) {
  Fixture f;
  Rng init(1), rng(2);
  ActorCritic ac(f.shape, small(ActorCriticKind::unex), init);
  f.fill(ac, 6, rng);
  ASSERT_GT(ac.stored(), 20);
  CascadeTrace tr;
  for (std::size_t i = 0; i < static_cast<std::size_t>(ac.stored()); ++i) {
    ac.rederive(i, f.source, tr);
    const Transition& t = ac.transition(i);
    for (int s = 0; s < f.shape.stages(); ++s) {
      ASSERT_EQ(tr.obs[s], t.obs[s]) << "entry " << i << " stage " << s;
      ASSERT_EQ(tr.action[s], t.action.segment(s * kObjectives, kObjectives));
    }
  }
  // After the actors moved, the chain re-derives different downstream observations (the
  // recorded ones are stale): the equality above is not vacuous.
  for (int k = 0; k < 8; ++k) ac.update(f.source, rng);
  ASSERT_GT(ac.actor_updates(), 0);
  int differ = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(ac.stored()); ++i) {
    ac.rederive(i, f.source, tr);
    differ += tr.obs[0] != ac.transition(i).obs[0];  // τ¹ itself never changes
    differ += 100 * (tr.action[2] != ac.transition(i).action.segment(2 * kObjectives, kObjectives));
  }
  EXPECT_EQ(differ % 100, 0);
  EXPECT_GT(differ / 100, 0);
}

TEST(ActorCritic, CriticGradientMatchesFiniteDifferences) {
  for (ActorCriticKind kind : {ActorCriticKind::td3, ActorCriticKind::unex}) {
    Fixture f;
    Rng init(3), rng(4);
    ActorCritic ac(f.shape, small(kind), init);
    f.fill(ac, 5, rng);
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < 12; ++i) idx.push_back(i);
    const auto batch = ac.critic_batch(idx, f.source, rng);
    for (int c = 0; c < 2; ++c) {
      const auto rep = models::check_gradient(ac.critic_params(c), [&](models::ParameterSet* g) {
        return ac.critic_loss(batch, c, g);
      });
      EXPECT_TRUE(rep.passed()) << rep.summary();
    }
  }
}

// −mean Q(τ̂, μ(τ̂)): with SG the τ̂ are fixed; without, τ̂^{i+1} moves with a^i through the
// relaxed selection's Jacobian, and actor 1's gradient picks up the downstream terms.
TEST(ActorCritic, ActorGradientsMatchFiniteDifferencesWithAndWithoutStopGradient) {
  std::vector<models::ParameterSet> sg_grads;
  for (bool sg : {true, false}) {
    Fixture f;
    Rng init(5), rng(6);
    ActorCriticOptions o = small(ActorCriticKind::unex);
    o.stop_gradient = sg;
    ActorCritic ac(f.shape, o, init);
    f.fill(ac, 5, rng);
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < 12; ++i) idx.push_back(i);
    const auto batch = ac.actor_batch(idx, f.source);
    EXPECT_EQ(batch.jacobian.empty(), sg);
    std::vector<models::ParameterSet> grads;
    for (int i = 0; i < ac.actors(); ++i) grads.push_back(ac.actor_params(i).zeros_like());
    ac.actor_loss(batch, &grads);
    for (int i = 0; i < ac.actors(); ++i) {
      const auto rep = check_actor_gradient(ac, batch, i);
      EXPECT_TRUE(rep.passed()) << "actor " << i << " sg " << sg << ": " << rep.summary();
    }
    if (sg) {
      sg_grads = grads;
    } else {
      // The last actor has nothing downstream: the same gradient; the first one differs.
      EXPECT_TRUE((sg_grads[2][0] - grads[2][0]).cwiseAbs().maxCoeff() < 1e-12);
      EXPECT_GT((sg_grads[0][0] - grads[0][0]).cwiseAbs().maxCoeff(), 1e-9);
    }
  }
}

TEST(Td3, TargetSmoothingIsClippedGaussianAndDdpgHasNone) {
  Fixture f(1);
  Rng init(7);
  ActorCriticOptions o = small(ActorCriticKind::td3);
  o.target_noise = 0.2;
  o.noise_clip = 0.25;
  ActorCritic td3(f.shape, o, init);
  RequestInputs in;
  f.source({0, 0}, in);
  Eigen::RowVectorXd obs = Eigen::RowVectorXd::Zero(f.shape.observation_dim());
  Eigen::RowVectorXd clean, noisy;
  td3.target_action(0, obs, nullptr, clean);
  Rng rng(8);
  double sum = 0, sq = 0, n = 0, max_dev = 0;
  for (int k = 0; k < 4000; ++k) {
    td3.target_action(0, obs, &rng, noisy);
    for (Eigen::Index j = 0; j < noisy.size(); ++j) {
      const double e = std::clamp(clean[j] + 0.0, -1.0, 1.0);
      if (std::abs(e) > 0.7) continue;  // away from the box, so only the noise clip acts
      const double d = noisy[j] - e;
      max_dev = std::max(max_dev, std::abs(d));
      sum += d;
      sq += d * d;
      n += 1;
    }
  }
  ASSERT_GT(n, 1000);
  EXPECT_LE(max_dev, 0.25 + 1e-12);
  EXPECT_GT(max_dev, 0.24);  // the clip is reached
  // sd of σZ clipped at ±kσ, k = 1.25: σ·√((2Φ(k) − 1) − 2kφ(k) + k²·2(1 − Φ(k)))
  // = 0.2·√(0.78870 − 0.45662 + 0.33016) = 0.16276 (unclipped it would be 0.2); n ≥ 1000 draws
  // give an SE of the sd below 0.004.
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(sq / n), 0.16276, 0.004);

  ActorCritic ddpg(f.shape, small(ActorCriticKind::ddpg), init);
  ddpg.target_action(0, obs, nullptr, clean);
  ddpg.target_action(0, obs, &rng, noisy);
  EXPECT_EQ(clean, noisy);
}

TEST(Td3, ActorAndTargetsUpdateEveryPolicyDelayCriticUpdates) {
  Fixture f;
  Rng init(9), rng(10);
  ActorCriticOptions o = small(ActorCriticKind::td3);
  o.policy_delay = 3;
  ActorCritic ac(f.shape, o, init);
  f.fill(ac, 5, rng);
  const models::ParameterSet actor0 = ac.actor_params(0), critic0 = ac.critic_params(0),
                             ctarget0 = ac.critic_target(0), atarget0 = ac.actor_target(0);
  auto same = [](const models::ParameterSet& a, const models::ParameterSet& b) {
    for (std::size_t t = 0; t < a.size(); ++t)
      if (a[t] != b[t]) return false;
    return true;
  };
  ac.update(f.source, rng);
  ac.update(f.source, rng);
  EXPECT_EQ(ac.updates(), 2);
  EXPECT_EQ(ac.actor_updates(), 0);
  EXPECT_FALSE(same(critic0, ac.critic_params(0)));
  EXPECT_TRUE(same(actor0, ac.actor_params(0)));
  EXPECT_TRUE(same(ctarget0, ac.critic_target(0)));
  EXPECT_TRUE(same(atarget0, ac.actor_target(0)));
  ac.update(f.source, rng);
  EXPECT_EQ(ac.actor_updates(), 1);
  EXPECT_FALSE(same(actor0, ac.actor_params(0)));
  EXPECT_FALSE(same(ctarget0, ac.critic_target(0)));
  EXPECT_FALSE(same(atarget0, ac.actor_target(0)));

  // DDPG: every critic update is also an actor update.
  ActorCritic dd(f.shape, small(ActorCriticKind::ddpg), init);
  f.fill(dd, 5, rng);
  dd.update(f.source, rng);
  EXPECT_EQ(dd.actor_updates(), 1);
}

TEST(Cqr, QuantileWithinItsCell) {
  CategoryQuantile q(2, 2, 100);
  EXPECT_DOUBLE_EQ(q.quantile(0, 0, 5.0), 0.5);  // empty cell
  for (double v : {1.0, 2.0, 3.0, 4.0}) q.add_and_rescale(0, 1, v);
  EXPECT_DOUBLE_EQ(q.quantile(0, 1, 2.5), 0.5);
  EXPECT_DOUBLE_EQ(q.quantile(0, 1, 4.0), 0.875);  // (3 + ½) / 4
  EXPECT_DOUBLE_EQ(q.quantile(0, 1, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(q.quantile(1, 1, 2.5), 0.5);  // other cells untouched
  // A cell of large rewards and one of small rewards map onto the same [0, 1] scale.
  CategoryQuantile r(1, 2, 1000);
  for (int k = 0; k < 200; ++k) {
    r.add_and_rescale(0, 0, k);
    r.add_and_rescale(0, 1, 1000.0 * k);
  }
  EXPECT_NEAR(r.quantile(0, 0, 100), r.quantile(0, 1, 100000), 1e-12);
  // Past capacity the cell keeps a bounded sample.
  CategoryQuantile s(1, 1, 50);
  for (int k = 0; k < 5000; ++k) s.add_and_rescale(0, 0, k % 100);
  EXPECT_EQ(s.count(0, 0), 5000);
  EXPECT_NEAR(s.quantile(0, 0, 50), 0.5, 0.2);
}

TEST(Cem, FindsTheMaximumOfAConcaveFunctionInTheBox) {
  Eigen::RowVectorXd target(3);
  target << 0.3, -0.6, 1.0;  // the last on the bound
  CemOptions o;
  o.iterations = 30;
  o.population = 20;
  o.elites = 5;
  Rng rng(12);
  int calls = 0;
  const CemResult r =
      run_cem(Eigen::RowVectorXd::Zero(3), o, rng, [&](const Eigen::RowVectorXd& w, int, int) {
        ++calls;
        return -(w - target).squaredNorm();
      });
  EXPECT_EQ(calls, 600);
  EXPECT_LT((r.mean - target).cwiseAbs().maxCoeff(), 0.08);
  EXPECT_GE(r.best_score.back(), r.best_score.front());
}

// With noise-free behaviour, no target smoothing and the targets still equal to the actors (as
// built), the CIC target chain re-derives exactly the stored next observations: CIC's and
// CTDE's TD targets agree.
TEST(Cic, TargetChainEqualsStoredNextObservationsAtTheStart) {
  Fixture f;
  ActorCriticOptions o = small(ActorCriticKind::unex);
  o.exploration = 0;
  o.target_noise = 0;
  Rng i1(21), i2(21), rng(22);
  ActorCritic cic(f.shape, o, i1);
  o.cic = false;
  ActorCritic ctde(f.shape, o, i2);
  f.fill(cic, 5, rng);
  f.fill(ctde, 5, rng);
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < 16; ++i) idx.push_back(i);
  const auto a = cic.critic_batch(idx, f.source, rng);
  const auto b = ctde.critic_batch(idx, f.source, rng);
  // Batched forward passes round differently from the one-row ones of the behaviour policy
  // (another GEMM kernel), so equality holds to rounding, not bit for bit.
  EXPECT_LT((a.x - b.x).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((a.y - b.y).cwiseAbs().maxCoeff(), 1e-9) << a.y.transpose() << "\n" << b.y.transpose();
}

// The relaxed selection's Jacobian (used without SG) against central finite differences of the
// surrogate it differentiates: soft mean q̄(a) = Σ_k m_k q_k / Σ_k m_k, m_k = σ((p_k·a − θ)/T),
// observed as log1p(q̄), with θ (midpoint of last kept and best dropped score) and T (temperature
// · sd of the scores) held at their values at a — the "locally constant" parts. Tolerance from
// the FD error itself, not a guess: the central difference D(h) has truncation error ≈
// |D(h) − D(2h)|/3 (Richardson: the error is ∝ h²) plus rounding ≈ ε·|f|/h, and the check allows
// 10× that. A Jacobian that drops the log1p factor 1/(1 + q̄) (or is off by 1 %) fails it.
TEST(Cascade, RelaxedJacobianMatchesFiniteDifferencesOfTheSoftSelection) {
  Fixture f;
  const double temperature = 0.5;
  CascadeOptions co;
  co.relaxed_jacobian = true;
  co.temperature = temperature;
  Rng rng(31);
  boost::random::normal_distribution<double> n01;
  int checked = 0;
  for (std::int64_t u = 0; u < 3; ++u) {
    RequestInputs in;
    f.source({u, 1}, in);
    Eigen::RowVectorXd a0(kObjectives);
    for (int j = 0; j < kObjectives; ++j) a0[j] = std::tanh(n01(rng));
    PolicyFn policy = [&](int, const Eigen::RowVectorXd&, Eigen::RowVectorXd& a) { a = a0; };
    CascadeTrace tr;
    run_cascade(f.shape, in.context, in.pool, in.predict, policy, tr, co);
    ASSERT_EQ(tr.jacobian.size(), 2u);
    RowMatrixXd P, Q;
    in.predict(0, in.pool, P);  // stage-1 predictions of its candidates (the scores' inputs)
    in.predict(1, in.pool, Q);  // stage-2 predictions of the same candidates (τ²'s means)
    const Eigen::Index n = P.rows();
    const int keep = f.shape.keep[0];
    std::vector<double> s0(static_cast<std::size_t>(n));
    Eigen::Map<Eigen::VectorXd>(s0.data(), n) = P * a0.transpose();
    std::vector<int> pos;
    top_positions(s0, keep, pos);
    std::vector<char> kept(static_cast<std::size_t>(n), 0);
    for (int p : pos) kept[p] = 1;
    double best_dropped = -INFINITY;
    for (Eigen::Index k = 0; k < n; ++k)
      if (!kept[k]) best_dropped = std::max(best_dropped, s0[k]);
    const double theta = 0.5 * (s0[pos.back()] + best_dropped);
    const Eigen::Map<const Eigen::VectorXd> sv(s0.data(), n);
    const double sd = std::sqrt((sv.array() - sv.mean()).square().mean());
    const double T = temperature * sd + 1e-12;
    auto surrogate = [&](const Eigen::RowVectorXd& a) {
      const Eigen::VectorXd s = P * a.transpose();
      Eigen::VectorXd mm(n);
      for (Eigen::Index k = 0; k < n; ++k) mm[k] = 1.0 / (1.0 + std::exp(-(s[k] - theta) / T));
      const Eigen::RowVectorXd qbar = (mm.transpose() * Q) / mm.sum();
      return Eigen::RowVectorXd(qbar.array().log1p());
    };
    const Eigen::RowVectorXd f0 = surrogate(a0);
    const double h = 1e-4, eps = std::numeric_limits<double>::epsilon();
    const RowMatrixXd& jac = tr.jacobian[0];
    ASSERT_EQ(jac.rows(), kObjectives);
    ASSERT_EQ(jac.cols(), kObjectives);
    RowMatrixXd dropped_log1p = jac;
    for (int j = 0; j < kObjectives; ++j) dropped_log1p.row(j) *= std::exp(f0[j]);
    int wrong_fails = 0, wrong_checked = 0;
    for (int l = 0; l < kObjectives; ++l) {
      auto central = [&](double step) {
        Eigen::RowVectorXd ap = a0, am = a0;
        ap[l] += step;
        am[l] -= step;
        return Eigen::RowVectorXd((surrogate(ap) - surrogate(am)) / (2 * step));
      };
      const Eigen::RowVectorXd d1 = central(h), d2 = central(2 * h);
      for (int j = 0; j < kObjectives; ++j) {
        const double allowed =
            10.0 * (std::abs(d1[j] - d2[j]) / 3.0 + 4.0 * eps * std::abs(f0[j]) / h) + 1e-13;
        EXPECT_LE(std::abs(jac(j, l) - d1[j]), allowed)
            << "user " << u << " d obs[" << j << "] / d a[" << l << "]: analytic " << jac(j, l)
            << " numeric " << d1[j];
        ++checked;
        if (std::abs(d1[j]) > 1e3 * allowed) {
          ++wrong_checked;
          wrong_fails += std::abs(dropped_log1p(j, l) - d1[j]) > allowed;
          wrong_fails += std::abs(1.01 * jac(j, l) - d1[j]) > allowed;
        }
      }
    }
    // The check can fail: the wrong Jacobians fail wherever the gradient is well above the FD
    // error.
    ASSERT_GT(wrong_checked, 5);
    EXPECT_EQ(wrong_fails, 2 * wrong_checked);
  }
  EXPECT_EQ(checked, 3 * kObjectives * kObjectives);
}

// Hand-computed TD targets and actor loss. Target critics set to constants (every weight 0, the
// output bias c_k: ReLU hidden units are 0, so Q'_k ≡ c_k) make the target y = r + γ·min(c_0,
// c_1) for TD3 and UNEX-RL (twin critics, min), r + γ·c_0 for DDPG (one critic), and y = r at
// a user's last request (done); the critic's action inputs are the stored actions (CTDE, single
// agent) and the critic's own constant makes the actor loss −c + λ·mean Σ_i ‖μ^i(τ^i)‖².
TEST(ActorCritic, TdTargetAndActorLossMatchHandComputedValues) {
  struct Case {
    ActorCriticKind kind;
    bool cic;
  };
  for (const Case cs : {Case{ActorCriticKind::ddpg, false}, Case{ActorCriticKind::td3, false},
                        Case{ActorCriticKind::unex, false}, Case{ActorCriticKind::unex, true}}) {
    Fixture f;
    Rng init(41), rng(42);
    ActorCriticOptions o = small(cs.kind);
    o.cic = cs.cic;
    o.gamma = 0.7;
    ActorCritic ac(f.shape, o, init);
    f.fill(ac, 4, rng);
    const int n_critics = cs.kind == ActorCriticKind::ddpg ? 1 : 2;
    const double c[2] = {1.25, -0.5};
    auto set_constant = [](models::ParameterSet& q, double v) {
      for (auto& t : q) t.setZero();
      RowMatrixXd& bias = q[q.size() - 1];
      ASSERT_EQ(bias.size(), 1);
      bias(0, 0) = v;
    };
    for (int k = 0; k < n_critics; ++k) set_constant(ac.critic_target(k), c[k]);
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < static_cast<std::size_t>(ac.stored()); ++i) idx.push_back(i);
    const auto b = ac.critic_batch(idx, f.source, rng);
    const double next_q = n_critics == 1 ? c[0] : std::min(c[0], c[1]);
    int done = 0;
    const int D = f.shape.observation_dim(), N = f.shape.stages();
    const int n_obs = cs.kind == ActorCriticKind::unex ? N : 1;
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const Transition& t = ac.transition(idx[r]);
      done += t.done;
      EXPECT_DOUBLE_EQ(b.y[static_cast<Eigen::Index>(r)], t.reward + (t.done ? 0.0 : 0.7 * next_q))
          << "entry " << r;
      // Actions unchanged since the replay was filled: CIC re-derives the stored ones too.
      EXPECT_LT(
          (b.x.row(static_cast<Eigen::Index>(r)).segment(n_obs * D, N * kObjectives) - t.action)
              .cwiseAbs()
              .maxCoeff(),
          1e-12);
    }
    EXPECT_GT(done, 0);
    // Actor loss with a constant critic: only the action penalty moves it.
    set_constant(ac.critic_params(0), 2.0);
    const auto ab = ac.actor_batch(idx, f.source);
    PolicyFn mu = ac.policy(nullptr, nullptr);
    double penalty = 0;
    for (std::size_t r = 0; r < idx.size(); ++r) {
      Eigen::RowVectorXd a;
      for (int i = 0; i < N; ++i) {
        mu(i,
           ab.obs[static_cast<std::size_t>(cs.kind == ActorCriticKind::unex ? i : 0)].row(
               static_cast<Eigen::Index>(r)),
           a);
        penalty += a.squaredNorm();
      }
    }
    EXPECT_NEAR(ac.actor_loss(ab, nullptr), -2.0 + o.action_l2 * penalty / idx.size(), 1e-12);
  }
}

// critic_downstream_obs = false (diagnosis): τ^{2..N} are zeros in the critic's inputs, so the
// actor gradient without SG flows only through the downstream actions a^{i+1}(τ̂^{i+1}); the
// finite differences of the loss agree, and the critic's TD inputs hold the zeros.
TEST(ActorCritic, ActorGradientMatchesFiniteDifferencesWithoutDownstreamCriticInputs) {
  Fixture f;
  Rng init(51), rng(52);
  ActorCriticOptions o = small(ActorCriticKind::unex);
  o.stop_gradient = false;
  o.critic_downstream_obs = false;
  ActorCritic ac(f.shape, o, init);
  f.fill(ac, 5, rng);
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < 12; ++i) idx.push_back(i);
  const auto cb = ac.critic_batch(idx, f.source, rng);
  const int D = f.shape.observation_dim();
  EXPECT_EQ(cb.x.middleCols(D, 2 * D).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GT(cb.x.leftCols(D).cwiseAbs().maxCoeff(), 0.0);
  const auto batch = ac.actor_batch(idx, f.source);
  ASSERT_FALSE(batch.jacobian.empty());
  double first_grad = 0;
  for (int i = 0; i < ac.actors(); ++i) {
    const auto rep = check_actor_gradient(ac, batch, i);
    EXPECT_TRUE(rep.passed()) << "actor " << i << ": " << rep.summary();
    if (i == 0) first_grad = rep.analytic_abs_sum[0];
  }
  EXPECT_GT(first_grad, 0.0);
}

// The target networks after an actor step: θ' ← τ·θ + (1 − τ)·θ' for every actor and critic, with
// θ the freshly updated parameters (hand-computed from the values before and after the step).
TEST(Td3, TargetsArePolyakMixturesOfTheUpdatedNetworks) {
  for (ActorCriticKind kind : {ActorCriticKind::td3, ActorCriticKind::unex}) {
    Fixture f;
    Rng init(61), rng(62);
    ActorCriticOptions o = small(kind);
    o.policy_delay = 1;
    o.tau = 0.3;
    ActorCritic ac(f.shape, o, init);
    f.fill(ac, 5, rng);
    std::vector<models::ParameterSet> before;
    for (int i = 0; i < ac.actors(); ++i) before.push_back(ac.actor_target(i));
    for (int c = 0; c < 2; ++c) before.push_back(ac.critic_target(c));
    ac.update(f.source, rng);
    ASSERT_EQ(ac.actor_updates(), 1);
    for (int k = 0; k < ac.actors() + 2; ++k) {
      const bool actor = k < ac.actors();
      const int n = actor ? k : k - ac.actors();
      const models::ParameterSet& now = actor ? ac.actor_params(n) : ac.critic_params(n);
      const models::ParameterSet& target = actor ? ac.actor_target(n) : ac.critic_target(n);
      for (std::size_t t = 0; t < now.size(); ++t) {
        const RowMatrixXd want = 0.3 * now[t] + 0.7 * before[static_cast<std::size_t>(k)][t];
        EXPECT_LT((target[t] - want).cwiseAbs().maxCoeff(), 1e-15)
            << "net " << k << " tensor " << t;
      }
      // …and not vacuous: the network moved in this step.
      double moved = 0;
      for (std::size_t t = 0; t < now.size(); ++t)
        moved += (now[t] - before[static_cast<std::size_t>(k)][t]).cwiseAbs().sum();
      EXPECT_GT(moved, 0.0) << "net " << k;
    }
  }
}

// init_action sets each actor's output bias to atanh(w) (clipped to ±0.95), in params and target,
// (an actor with zero output weights would act w exactly); the wrong size is an error.
TEST(ActorCritic, InitActionSetsTheOutputBiases) {
  Fixture f;
  for (ActorCriticKind kind : {ActorCriticKind::td3, ActorCriticKind::unex}) {
    ActorCriticOptions o = small(kind);
    const int N = f.shape.stages(), J = f.shape.objectives;
    for (int k = 0; k < N * J; ++k) o.init_action.push_back(k % J == J - 1 ? 1.0 : 0.1 * (k % 3));
    Rng init(71);
    ActorCritic ac(f.shape, o, init);
    for (int i = 0; i < ac.actors(); ++i) {
      models::ParameterSet& ps = ac.actor_params(i);
      const RowMatrixXd& b = ps[ps.size() - 1];
      ASSERT_EQ(b.cols(), ac.single_agent() ? N * J : J);
      for (Eigen::Index j = 0; j < b.cols(); ++j) {
        const double w = o.init_action[static_cast<std::size_t>(i * b.cols() + j)];
        EXPECT_NEAR(std::tanh(b(0, j)), std::min(w, 0.95), 1e-12);
      }
      EXPECT_TRUE(ac.actor_target(i)[ps.size() - 1].isApprox(b));
    }
    o.init_action.pop_back();
    Rng init2(71);
    EXPECT_THROW(ActorCritic(f.shape, o, init2), std::invalid_argument);
  }
}
