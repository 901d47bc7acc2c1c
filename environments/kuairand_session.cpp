#include "environments/kuairand_session.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>

#include "sim/random.hpp"

namespace stagesim {
namespace {

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// A standard normal from two counter uniforms (Box–Muller): keyed, not sequential.
double counter_normal(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  const double u1 = counter_uniform(seed, a, b, 2 * c);
  const double u2 = counter_uniform(seed, a, b, 2 * c + 1);
  return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(6.283185307179586 * u2);
}

// E[σ(μ + σ_n ε)] ≈ σ(μ / √(1 + π σ_n² / 8)) (the probit approximation).
double expected_sigmoid(double mu, double sd) {
  return sigmoid(mu / std::sqrt(1.0 + 0.39269908169872414 * sd * sd));
}

}  // namespace

KuairandSessionWorld::KuairandSessionWorld(const SessionWorldParams& p, std::uint64_t seed,
                                           std::vector<double> prediction_noise)
    : p_(p), seed_(seed), noise_sd_(std::move(prediction_noise)) {
  if (noise_sd_.empty()) noise_sd_ = {0.0};
  const int n = items(), d = static_cast<int>(p.dim);
  Rng rng(hash_combine(seed, hash_text("catalogue")));
  boost::random::normal_distribution<double> n01;
  RowMatrixXd centre(p.item_groups, d);
  for (Eigen::Index g = 0; g < centre.rows(); ++g)
    for (int j = 0; j < d; ++j) centre(g, j) = n01(rng);
  x_.resize(n, d);
  effect_.resize(n, kBehaviours);
  duration_.resize(n);
  item_group_.resize(n);
  const double inv = 1.0 / std::sqrt(static_cast<double>(d));
  for (int i = 0; i < n; ++i) {
    item_group_[i] = static_cast<int>(rng() % static_cast<std::uint64_t>(p.item_groups));
    for (int j = 0; j < d; ++j)
      x_(i, j) = inv * (centre(item_group_[i], j) + p.item_spread * n01(rng));
    for (int b = 0; b < kBehaviours; ++b) effect_(i, b) = p.item_effect_sd * n01(rng);
    duration_[i] = std::exp(p.duration_log_mean + p.duration_log_sd * n01(rng));
  }
  error_.resize(noise_sd_.size());
  for (std::size_t k = 0; k < noise_sd_.size(); ++k) {
    Rng er(hash_combine(seed, hash_text("prediction_error") + k));
    error_[k].resize(n, kObjectives);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < kObjectives; ++j) error_[k](i, j) = noise_sd_[k] * n01(er);
  }
  // Scale: each objective's mean true expectation over the catalogue at zero affinity.
  scale_ = Eigen::RowVectorXd::Zero(kObjectives);
  for (int i = 0; i < n; ++i) {
    for (int b = 0; b < kBehaviours; ++b) scale_[b] += sigmoid(p.logit_offset[b] + effect_(i, b));
    scale_[kPlayTime] += duration_[i] * expected_sigmoid(p.play_offset, p.play_noise);
  }
  scale_ /= static_cast<double>(n);
  for (int j = 0; j < kObjectives; ++j) scale_[j] = std::max(scale_[j], 1e-12);
  pool_seed_ = hash_combine(seed, hash_text("pool"));
  response_seed_ = hash_combine(seed, hash_text("responses"));
  leave_seed_ = hash_combine(seed, hash_text("leaves"));
  return_seed_ = hash_combine(seed, hash_text("returns"));
}

std::vector<SessionUser> KuairandSessionWorld::make_users(std::uint64_t population,
                                                          std::int64_t first,
                                                          std::int64_t count) const {
  std::vector<SessionUser> users(static_cast<std::size_t>(count));
  const int d = static_cast<int>(p_.dim), G = static_cast<int>(p_.user_groups),
            F = static_cast<int>(p_.user_features);
  // The features' projection is a property of the world (shared by every population).
  Rng proj_rng(hash_combine(seed_, hash_text("feature_projection")));
  boost::random::normal_distribution<double> n01;
  RowMatrixXd proj(F, d);
  for (int f = 0; f < F; ++f)
    for (int j = 0; j < d; ++j) proj(f, j) = n01(proj_rng) / std::sqrt(static_cast<double>(d));
  std::vector<double> cum(static_cast<std::size_t>(G));
  for (int g = 0; g < G; ++g)
    cum[g] =
        (g ? cum[g - 1] : 0.0) + (p_.user_group_shares.empty() ? 1.0 / G : p_.user_group_shares[g]);
  for (std::int64_t k = 0; k < count; ++k) {
    SessionUser& u = users[static_cast<std::size_t>(k)];
    u.key = hash_combine(population + 1, static_cast<std::uint64_t>(first + k));
    Rng rng(hash_combine(hash_combine(seed_, hash_text("user")), u.key));
    const double g01 = boost::random::uniform_01<double>()(rng);
    u.group = G - 1;
    for (int g = 0; g < G; ++g)
      if (g01 < cum[g]) {
        u.group = g;
        break;
      }
    u.theta.resize(d);
    for (int j = 0; j < d; ++j) u.theta[j] = n01(rng);
    u.personal =
        (p_.group_return.empty() ? 0.0 : p_.group_return[u.group]) + p_.personal_sd * n01(rng);
    const double sd = p_.satisfaction_sd;
    u.initial_satisfaction = p_.initial_satisfaction * std::exp(sd * n01(rng) - 0.5 * sd * sd);
    u.features = Eigen::RowVectorXd::Zero(G + F);
    u.features[u.group] = 1.0;
    for (int f = 0; f < F; ++f)
      u.features[G + f] = proj.row(f).dot(u.theta) + p_.feature_noise * n01(rng);
  }
  return users;
}

void KuairandSessionWorld::affinity(const SessionUser& u, Eigen::VectorXd& s) const {
  s.noalias() = x_ * u.theta;
}

void KuairandSessionWorld::pool(const SessionUser& u, std::int64_t request, int pool,
                                std::vector<int>& ids) const {
  const int n = items();
  ids.resize(static_cast<std::size_t>(n));
  std::iota(ids.begin(), ids.end(), 0);
  if (pool <= 0 || pool >= n) return;
  // Partial Fisher–Yates with a stream keyed by (user, request): the same pool whenever asked.
  Rng rng(hash_combine(hash_combine(pool_seed_, u.key), static_cast<std::uint64_t>(request)));
  for (int i = 0; i < pool; ++i) {
    const int j = i + static_cast<int>(rng() % static_cast<std::uint64_t>(n - i));
    std::swap(ids[i], ids[j]);
  }
  ids.resize(static_cast<std::size_t>(pool));
}

void KuairandSessionWorld::predict(const Eigen::VectorXd& affinity, std::span<const int> items,
                                   int stage, RowMatrixXd& out) const {
  const int n = static_cast<int>(items.size());
  out.resize(n, kObjectives);
  const double play_shrink =
      1.0 / std::sqrt(1.0 + 0.39269908169872414 * p_.play_noise * p_.play_noise);
  const bool truth = stage < 0;
  const RowMatrixXd* err = truth ? nullptr : &error_[static_cast<std::size_t>(stage)];
  for (int k = 0; k < n; ++k) {
    const int i = items[k];
    const double s = affinity[i];
    double* o = out.row(k).data();
    for (int b = 0; b < kBehaviours; ++b) {
      double z = p_.logit_offset[b] + p_.affinity[b] * s + effect_(i, b);
      if (err) z += (*err)(i, b);
      o[b] = sigmoid(z);
    }
    double z = (p_.play_offset + p_.play_affinity * s) * play_shrink;
    if (err) z += (*err)(i, kPlayTime);
    o[kPlayTime] = duration_[i] * sigmoid(z);
    if (!truth)
      for (int j = 0; j < kObjectives; ++j) o[j] /= scale_[j];
  }
}

void KuairandSessionWorld::start_session(const SessionUser& u, SessionState& s) const {
  s = SessionState{};
  s.satisfaction = u.initial_satisfaction;
}

void KuairandSessionWorld::respond(const SessionUser& u, const Eigen::VectorXd& affinity,
                                   std::int64_t request, std::span<const int> served,
                                   RowMatrixXd& out) const {
  const int L = static_cast<int>(served.size());
  out.resize(L, kObjectives);
  for (int l = 0; l < L; ++l) respond_one(u, affinity, request, served[l], l, out.row(l).data());
}

void KuairandSessionWorld::respond_one(const SessionUser& u, const Eigen::VectorXd& affinity,
                                       std::int64_t request, int i, int l, double* out) const {
  const std::uint64_t r = static_cast<std::uint64_t>(request);
  const double s = affinity[i];
  for (int b = 0; b < kBehaviours; ++b) {
    const double p = sigmoid(p_.logit_offset[b] + p_.affinity[b] * s + effect_(i, b));
    out[b] = counter_uniform(response_seed_, u.key, r, static_cast<std::uint64_t>(l) * 16 + b) < p
                 ? 1.0
                 : 0.0;
  }
  const double eps = counter_normal(response_seed_ + 1, u.key, r, static_cast<std::uint64_t>(l));
  out[kPlayTime] =
      duration_[i] * sigmoid(p_.play_offset + p_.play_affinity * s + p_.play_noise * eps);
}

bool KuairandSessionWorld::update(const SessionUser& u, std::int64_t request,
                                  const RowMatrixXd& responses, SessionState& s) const {
  double gain = 0, behaviours = 0;
  const bool by_group = !p_.group_satisfaction_gain.empty();
  const double* g = by_group ? p_.group_satisfaction_gain.data() + 8 * u.group : nullptr;
  const double per_minute = (by_group ? g[kBehaviours] : p_.play_gain) - p_.fatigue_per_minute;
  for (Eigen::Index l = 0; l < responses.rows(); ++l) {
    for (int b = 0; b < kBehaviours; ++b) {
      gain += (by_group ? g[b] : p_.satisfaction_gain[b]) * responses(l, b);
      behaviours += (b == kBehaviours - 1 ? -1.0 : 1.0) * responses(l, b);
    }
    gain += per_minute * responses(l, kPlayTime) / 60.0;
    s.play += responses(l, kPlayTime);
  }
  s.satisfaction += gain - p_.fatigue;
  s.satisfaction_sum += s.satisfaction;
  s.last_reward = responses.rows() ? behaviours / static_cast<double>(responses.rows()) : 0.0;
  ++s.depth;
  const bool leaves =
      counter_uniform(leave_seed_, u.key, static_cast<std::uint64_t>(request)) < p_.leave_hazard;
  s.ended = s.satisfaction <= 0 || leaves || s.depth >= p_.max_requests;
  return !s.ended;
}

double KuairandSessionWorld::next_day_probability(const SessionUser& u,
                                                  const SessionState& s) const {
  const double signal = p_.return_signal == ReturnSignal::mean_satisfaction
                            ? (s.depth ? s.satisfaction_sum / static_cast<double>(s.depth) : 0.0)
                            : s.last_reward;
  return std::clamp(p_.return_bias + u.personal + p_.kappa * signal, 0.001, 0.999);
}

int KuairandSessionWorld::return_day(const SessionUser& u, std::int64_t session,
                                     const SessionState& s) const {
  const double P = next_day_probability(u, s);
  const int D = static_cast<int>(p_.max_return_day);
  // Inverse CDF of the geometric truncated to 1..D: F(d) = (1 − (1−P)^d) / (1 − (1−P)^D).
  const double v = counter_uniform(return_seed_, u.key, static_cast<std::uint64_t>(session));
  const double total = 1.0 - std::pow(1.0 - P, D);
  const double d = std::ceil(std::log1p(-v * total) / std::log1p(-P));
  return std::clamp(static_cast<int>(d), 1, D);
}

void simulate_random_exposure(const KuairandSessionWorld& world, std::int64_t users,
                              const std::function<void(const SimulatedExposure&)>& row) {
  const SessionWorldParams& p = world.params();
  const int L = static_cast<int>(std::min<int64_t>(p.slate, p.items));
  std::vector<int> ids;
  Eigen::VectorXd s;
  RowMatrixXd resp;
  const std::vector<SessionUser> all = world.make_users(0, 0, users);
  for (std::int64_t k = 0; k < users; ++k) {
    const SessionUser& u = all[static_cast<std::size_t>(k)];
    world.affinity(u, s);
    std::int64_t request = 0;
    int day = 0;
    for (int session = 0; session < p.max_sessions; ++session) {
      SessionState st;
      world.start_session(u, st);
      bool more = true;
      for (int r = 0; more; ++r, ++request) {
        world.pool(u, request, L, ids);  // a random slate: the pool of size L
        world.respond(u, s, request, ids, resp);
        for (int l = 0; l < L; ++l) {
          SimulatedExposure e;
          e.user = k;
          e.item = ids[l];
          e.day = day;
          e.session = session;
          e.request = r;
          for (int b = 0; b < kBehaviours; ++b) e.behaviours[b] = resp(l, b);
          e.play_seconds = resp(l, kPlayTime);
          e.duration_seconds = world.duration(ids[l]);
          row(e);
        }
        more = world.update(u, request, resp, st);
      }
      day += world.return_day(u, session, st);
    }
  }
}

}  // namespace stagesim
