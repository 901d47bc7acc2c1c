#pragma once
// The KuaiRand-shaped session world (model and parameters: environments/session_world_params.hpp).
// A catalogue of items with embeddings, durations and per-behaviour effects; populations of users
// with latent preferences and observable features; per-request candidate pools; the seven
// KuaiRand behaviours and play time as responses; a satisfaction state per session; return gaps
// between sessions. Stage-specific predictors of the eight objectives (the pipeline's models) are
// the true expectations with a fixed per-(stage, item, objective) logit error.
//
// Randomness: the catalogue from `seed`; a population from (seed, population); every draw about a
// user — its pool, responses, leave and return draws — is a pure function of (seed, purpose,
// population, user, the user's request or session number), so two policies facing the same user
// see the same draws whatever they did for other users (common random numbers).
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/matrix.hpp"
#include "environments/session_world_params.hpp"

namespace stagesim {

constexpr int kObjectives = kBehaviours + 1;  // the seven behaviours, then play time (s)
constexpr int kPlayTime = kBehaviours;

struct SessionUser {
  std::uint64_t key = 0;  // stream coordinate: (population, index)
  int group = 0;
  double personal = 0;               // ρ_u: personal return term
  double initial_satisfaction = 0;   // S_u
  Eigen::VectorXd theta;             // latent preference (dim)
  Eigen::RowVectorXd features;       // observable: one-hot(group) ++ user_features values
};

struct SessionState {
  double satisfaction = 0;
  std::int64_t depth = 0;     // requests in this session so far
  double satisfaction_sum = 0;  // Σ satisfaction after each request (for the mean)
  double last_reward = 0;     // mean per-item behaviour sum of the last request
  double play = 0;            // play seconds this session
  bool ended = false;
};

class KuairandSessionWorld {
 public:
  // prediction_noise: logit error sd of each stage's predictor (one entry per stage).
  KuairandSessionWorld(const SessionWorldParams& p, std::uint64_t seed,
                       std::vector<double> prediction_noise = {0.0});

  const SessionWorldParams& params() const { return p_; }
  int items() const { return static_cast<int>(p_.items); }
  int stages() const { return static_cast<int>(noise_sd_.size()); }
  int feature_dim() const { return static_cast<int>(p_.user_groups + p_.user_features); }
  int item_group(int i) const { return item_group_[i]; }
  double duration(int i) const { return duration_[i]; }
  // Typical size of each objective's prediction over the catalogue (for fusion on one scale).
  const Eigen::RowVectorXd& objective_scale() const { return scale_; }

  // Users `first .. first + count - 1` of population `population` (0 = training; evaluation uses
  // others: fresh users).
  std::vector<SessionUser> make_users(std::uint64_t population, std::int64_t first,
                                      std::int64_t count) const;

  // θ_u · x_i for every item (a GEMV; computed once per user and reused).
  void affinity(const SessionUser& u, Eigen::VectorXd& s) const;

  // The candidate pool of the user's request number `request` (`pool` item ids; pool <= 0 or
  // >= items: the whole catalogue in id order).
  void pool(const SessionUser& u, std::int64_t request, int pool, std::vector<int>& ids) const;

  // Stage `stage`'s predictions of the 8 objectives for `items`, divided by objective_scale():
  // out is items.size() × 8. stage < 0: the true expectations (not scaled).
  void predict(const Eigen::VectorXd& affinity, std::span<const int> items, int stage,
               RowMatrixXd& out) const;

  void start_session(const SessionUser& u, SessionState& s) const;
  // Draws the responses to `served` (the user's request number `request`): out is
  // served.size() × 8 (7 behaviours 0/1, play seconds).
  void respond(const SessionUser& u, const Eigen::VectorXd& affinity, std::int64_t request,
               std::span<const int> served, RowMatrixXd& out) const;
  // The responses of one item shown at slate position `position` (a row of respond()).
  void respond_one(const SessionUser& u, const Eigen::VectorXd& affinity, std::int64_t request,
                   int item, int position, double* out) const;
  // Applies a request's responses to the session; false when the session ends with it.
  bool update(const SessionUser& u, std::int64_t request, const RowMatrixXd& responses,
              SessionState& s) const;
  // The next-day probability after a finished session and the drawn return gap in days
  // (1..max_return_day) for the user's session number `session`.
  double next_day_probability(const SessionUser& u, const SessionState& s) const;
  int return_day(const SessionUser& u, std::int64_t session, const SessionState& s) const;

 private:
  SessionWorldParams p_;
  std::uint64_t seed_;
  std::vector<double> noise_sd_;
  RowMatrixXd x_;           // items × dim
  RowMatrixXd effect_;      // items × 7: e_ib
  std::vector<double> duration_;
  std::vector<int> item_group_;
  std::vector<RowMatrixXd> error_;  // per stage: items × 8 logit errors
  Eigen::RowVectorXd scale_;
  std::uint64_t pool_seed_, response_seed_, leave_seed_, return_seed_;
};

// One exposure of a simulated interaction log (KuaiRand's log columns, in the world's units).
struct SimulatedExposure {
  std::int64_t user = 0;  // index in population 0
  int item = 0;
  int day = 0;      // 0-based day of the session (a session = a user-day, as in KuaiRand)
  int session = 0;  // the user's session number
  int request = 0;  // request within the session
  double behaviours[kBehaviours] = {};
  double play_seconds = 0, duration_seconds = 0;
};

// Users 0..users-1 of population 0 under random exposure (each request shows `slate` items drawn
// from the catalogue without replacement), every session until max_sessions: the log the
// calibration job's recovery test fits. Calls `row` once per exposure, in user/session/request
// order.
void simulate_random_exposure(const KuairandSessionWorld& world, std::int64_t users,
                              const std::function<void(const SimulatedExposure&)>& row);

}  // namespace stagesim
