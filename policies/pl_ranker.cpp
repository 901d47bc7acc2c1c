// Plackett–Luce early-stage ranker (ESR) over a mixture of M two-tower models, trained by policy
// gradient from the final slate's rewards (early-stage-pg spec §3, §5, §6).
//
// Serving samples K candidates (sequential PL or Gumbel top-k, block m from model m); evaluation
// takes the greedy list. The engine batches feedback (`update_every` = the batch size B); each
// batch is one gradient step of the chosen estimator followed by Adagrad. A non-finite gradient
// (the float32 reference's "overflow") skips the step and stops training for good; the stage then
// reports its step in the statistic `overflow_step` (-1 while training).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "learners/pg/adaptive_lr.hpp"
#include "learners/pg/estimators.hpp"
#include "learners/pg/grpo.hpp"
#include "learners/pg/pl_mixture.hpp"
#include "learners/pg/row_softmax.hpp"
#include "learners/pg/user_logits.hpp"
#include "models/optimizers.hpp"
#include "models/parameters.hpp"
#include "sim/enum_table.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

// The estimator as written: top1-pg is CA-PG-SwR restricted to one model (the paper's TOP1-PG).
enum class EstimatorChoice { v_pg, v_pg_swr, ca_pg, ca_pg_swr, top1_pg };
// Learning rate scaling for the late-stage ranker's alignment (Eq. 9).
enum class AdaptiveLr { off, optimal, anti, noisy, uniform };
enum class GrpoShift { automatic, on, off };

const EnumTable<EstimatorChoice> kEstimators{{"v-pg", EstimatorChoice::v_pg},
                                             {"v-pg-swr", EstimatorChoice::v_pg_swr},
                                             {"ca-pg", EstimatorChoice::ca_pg},
                                             {"ca-pg-swr", EstimatorChoice::ca_pg_swr},
                                             {"top1-pg", EstimatorChoice::top1_pg}};
const EnumTable<pg::Precision> kPrecisions{{"double", pg::Precision::kStableDouble},
                                           {"float32_reference", pg::Precision::kFloat32Reference}};
const EnumTable<pg::SamplerKind> kSamplers{{"sequential", pg::SamplerKind::kSequential},
                                           {"gumbel", pg::SamplerKind::kGumbelTopK},
                                           {"gumbel_float32", pg::SamplerKind::kGumbelTopKFloat32}};
const EnumTable<pg::SwrMixtureForm> kSwrMixtures{
    {"reference", pg::SwrMixtureForm::kReferenceSumOfPowers},
    {"inclusion", pg::SwrMixtureForm::kInclusionProbability}};
const EnumTable<AdaptiveLr> kAdaptiveLr{{"off", AdaptiveLr::off},
                                        {"optimal", AdaptiveLr::optimal},
                                        {"anti", AdaptiveLr::anti},
                                        {"noisy", AdaptiveLr::noisy},
                                        {"uniform", AdaptiveLr::uniform}};
const EnumTable<GrpoShift> kGrpoShifts{
    {"auto", GrpoShift::automatic}, {"on", GrpoShift::on}, {"off", GrpoShift::off}};

struct PlRankerOpts {
  int64_t models = 1;
  int64_t dim = 10;
  double temperature = 1.0;
  EstimatorChoice estimator = EstimatorChoice::ca_pg;
  pg::Precision precision = pg::Precision::kStableDouble;
  pg::SamplerKind sampler = pg::SamplerKind::kSequential;
  bool in_place_substitution = true;
  pg::SwrMixtureForm swr_mixture = pg::SwrMixtureForm::kReferenceSumOfPowers;
  double learning_rate = 0;  // 0 = the estimator's default (resolved before it is recorded)
  AdaptiveLr adaptive_lr = AdaptiveLr::off;
  double adaptive_lr_temperature = 1.0;
  int64_t adaptive_lr_samples = 10000;
  int64_t grpo_group = 0;
  GrpoShift grpo_shift = GrpoShift::automatic;  // resolved to on/off before it is recorded
};

pg::Estimator kernel_estimator(EstimatorChoice e) {
  switch (e) {
    case EstimatorChoice::v_pg:
      return pg::Estimator::kVPg;
    case EstimatorChoice::v_pg_swr:
      return pg::Estimator::kVPgSwr;
    case EstimatorChoice::ca_pg:
      return pg::Estimator::kCaPg;
    case EstimatorChoice::ca_pg_swr:
    case EstimatorChoice::top1_pg:
      return pg::Estimator::kCaPgSwr;
  }
  throw std::logic_error("pl_ranker: unknown estimator");
}

bool credit_assigned(EstimatorChoice e) {
  const pg::Estimator k = kernel_estimator(e);
  return k == pg::Estimator::kCaPg || k == pg::Estimator::kCaPgSwr;
}

// Fills in the options whose default depends on others, so the recorded configuration is the one
// that runs (spec §6: lr 1e-2 for the CA variants, 1e-1 for V-PG and V-PG-SwR; the GRPO shift is
// on for the CA variants).
void resolve_defaults(PlRankerOpts& o) {
  const bool ca = credit_assigned(o.estimator);
  if (o.learning_rate == 0) o.learning_rate = ca ? 1e-2 : 1e-1;
  if (o.grpo_shift == GrpoShift::automatic) o.grpo_shift = ca ? GrpoShift::on : GrpoShift::off;
}

struct Resolved {
  pg::EstimatorOptions est;
  pg::SamplerKind sampler;
  double base_lr;
  std::optional<pg::LsrKind> adaptive;
  bool shift;
};

Resolved resolve(const PlRankerOpts& o) {
  Resolved r;
  r.est.estimator = kernel_estimator(o.estimator);
  r.est.precision = o.precision;
  r.est.in_place_substitution = o.in_place_substitution;
  r.est.swr_mixture_form = o.swr_mixture;
  r.sampler = o.sampler;
  r.base_lr = o.learning_rate;
  switch (o.adaptive_lr) {
    case AdaptiveLr::off:
      break;
    case AdaptiveLr::optimal:
      r.adaptive = pg::LsrKind::kOptimal;
      break;
    case AdaptiveLr::anti:
      r.adaptive = pg::LsrKind::kAnti;
      break;
    case AdaptiveLr::noisy:
      r.adaptive = pg::LsrKind::kNoisy;
      break;
    case AdaptiveLr::uniform:
      r.adaptive = pg::LsrKind::kUniform;
      break;
  }
  r.shift = o.grpo_shift == GrpoShift::on;
  return r;
}

class PlRanker final : public Stage {
 public:
  PlRanker(const StageSetup& s, const PlRankerOpts& o, const Resolved& r)
      : opts_(o),
        res_(r),
        users_n_(s.world->tables().q ? static_cast<int>(s.world->tables().q->rows()) : 0),
        policy_(static_cast<int>(o.models), users_n_, s.num_items, static_cast<int>(o.dim),
                *s.init_rng, o.temperature),
        blocks_(pg::slot_block_sizes(s.keep, static_cast<int>(o.models))),
        sampler_(s.num_items),
        adagrad_(r.base_lr) {
    if (r.adaptive) {
      // Eq. 9: lr_base / p̄, p̄ estimated once with the initial ESR (spec §6).
      const World::Tables t = s.world->tables();
      const RowMatrix& scores = t.score ? *t.score : *t.q;
      pg::LsrOptions lsr{*r.adaptive, o.adaptive_lr_temperature};
      p_bar_ = pg::estimate_top_choice_probability(policy_, scores, lsr, s.keep,
                                                   static_cast<int>(o.adaptive_lr_samples),
                                                   *s.init_rng, r.sampler);
      adagrad_ = models::Adagrad(pg::adaptive_learning_rate(r.base_lr, p_bar_, true));
    }
  }

  // The logits of every request until the next update in one batched product (the same bits as
  // one request at a time), kept until the parameters change.
  void prepare(std::span<const Request* const> upcoming) override {
    if (upcoming.empty() || ahead_row(*upcoming[0]) >= 0) return;
    ahead_users_.clear();
    for (const Request* r : upcoming) {
      if (r->user < 0 || r->user >= users_n_) break;  // select refuses it
      ahead_users_.push_back(static_cast<int>(r->user));
    }
    ahead_first_ = upcoming[0]->index;
    ahead_count_ = static_cast<std::int64_t>(ahead_users_.size());
    compute_logits(ahead_users_, ahead_logits_);
  }

  void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    check_request(req, candidates, keep);
    std::vector<RowMatrixXd>* logits = &logits_;
    Eigen::Index row = ahead_row(req);
    if (row >= 0) {
      logits = &ahead_logits_;
    } else {
      row = 0;
      request_logits(req);
    }
    clamp_if_non_finite(*logits, row);
    // The softmax computed for sampling travels with the decision to this request's feedback
    // (parameters only change at learn), so each row's exps are computed once.
    // Consecutive requests of one user (GRPO groups) share one softmax: same row, same bits.
    std::shared_ptr<pg::RowSoftmax> sm;
    if (last_softmax_ && last_softmax_->holds(*logits, row)) {
      sm = last_softmax_;
    } else {
      last_softmax_.reset();
      sm = free_softmax();
      sm->compute(*logits, row);
      last_softmax_ = sm;
    }
    list_.resize(keep);
    sampler_.sample(res_.sampler, *sm, blocks_, rng, list_);
    out.ids.insert(out.ids.end(), list_.begin(), list_.end());
    out.state = std::move(sm);
  }

  void select_eval(const Request& req, std::span<const int> candidates, int keep, Rng&,
                   Decision& out) override {
    check_request(req, candidates, keep);
    request_logits(req);
    clamp_if_non_finite(logits_, 0);
    list_.resize(keep);
    sampler_.greedy(logits_, 0, blocks_, list_);
    out.ids.insert(out.ids.end(), list_.begin(), list_.end());
  }

  void learn(std::span<const Feedback> batch) override {
    if (overflow_step_ >= 0 || batch.empty()) return;  // training stopped at an overflow
    const int B = static_cast<int>(batch.size());
    const int K = static_cast<int>(batch[0].selected.size());
    int L = static_cast<int>(batch[0].served.size());
    for (const Feedback& f : batch) L = std::min<int>(L, static_cast<int>(f.served.size()));
    batch_users_.resize(B);
    candidates_.resize(B, K);
    targets_.resize(B, L);
    rewards_.resize(B, L);
    for (int i = 0; i < B; ++i) {
      const Feedback& f = batch[i];
      batch_users_[i] = static_cast<int>(f.request->user);
      for (int k = 0; k < K; ++k) candidates_(i, k) = f.selected[k];
      for (int l = 0; l < L; ++l) {
        targets_(i, l) = f.served[l];
        rewards_(i, l) = f.rewards[l];
      }
    }
    if (opts_.grpo_group > 0) {
      const int g = static_cast<int>(opts_.grpo_group);
      for (int i = 0; i < B; ++i)
        if (B % g != 0 || batch_users_[i] != batch_users_[i - i % g])
          throw std::runtime_error(
              "grpo_group = " + std::to_string(g) +
              " needs each batch to be groups of one user's requests: set the world's "
              "repeat_user = " +
              std::to_string(g) + " and update_every to a multiple of it");
      pg::grpo_normalize(rewards_, g, res_.shift);
    }
    // The spec's loss per row: Σ_l c_l ℓ_l with c_l = −r_l / (B·L) (no baseline).
    if (!kernel_) kernel_.emplace(res_.est, blocks_, policy_.n_items());
    const int M = policy_.n_models(), n = policy_.n_items();
    grad_logits_.resize(M);
    for (auto& g : grad_logits_) g.resize(B, n);
    grad_rows_.resize(M);
    weights_.resize(L);
    double loss = 0;
    bool finite = true;
    const pg::RowSoftmax* previous_sm = nullptr;  // a GRPO group's requests share one softmax
    for (int i = 0; i < B; ++i) {
      const Feedback& f = batch[i];
      // The softmax this request was sampled from (select); the parameters have not changed.
      // Feedback made by hand (no decision) gets it recomputed.
      const auto* sm =
          f.decision ? static_cast<const pg::RowSoftmax*>(f.decision->state.get()) : nullptr;
      const bool recomputed = sm == nullptr;
      if (recomputed) {
        check_request(*f.request, {}, K);
        request_logits(*f.request);
        clamp_if_non_finite(logits_, 0);
        softmax_.compute(logits_, 0);
        sm = &softmax_;
      }
      for (int l = 0; l < L; ++l) weights_[l] = -rewards_(i, l) / static_cast<double>(B * L);
      for (int m = 0; m < M; ++m) grad_rows_[m] = grad_logits_[m].row(i).data();
      pg::ScoreInputs in{{candidates_.row(i).data(), static_cast<std::size_t>(K)},
                         {targets_.row(i).data(), static_cast<std::size_t>(L)},
                         weights_};
      // Decisions' softmaxes are not recomputed during learn: the same object, the same logits.
      in.softmax_rows = opts_.grpo_group > 0 ? static_cast<int>(opts_.grpo_group) : 1;
      in.same_softmax = !recomputed && sm == previous_sm;
      previous_sm = sm;
      const pg::ScoreResult r = kernel_->row_gradient(*sm, in, grad_rows_);
      loss += r.loss;
      finite = finite && r.finite;
    }
    policy_.backprop(batch_users_, grad_logits_, grads_);
    if (!finite || !grads_.all_finite()) {
      overflow_step_ = static_cast<double>(steps_);
      return;
    }
    adagrad_.step(policy_.parameters(), grads_);
    parameters_changed();
    ++steps_;
    loss_ = loss;
  }

  std::vector<double> stats() const override {
    return {loss_, static_cast<double>(steps_), overflow_step_, adagrad_.learning_rate(),
            mean_inclusion()};
  }

  // The tables, Adagrad's state, the step count and the last batch (the inclusion statistic reads
  // it). The learning rate and p̄ are rebuilt identically by the constructor; the softmaxes of
  // outstanding decisions need not be saved (the system saves only with no feedback pending).
  bool save(StateWriter& w) const override {
    for (int m = 0; m < policy_.n_models(); ++m) {
      w.put(policy_.user_table(m));
      w.put(policy_.item_table(m));
    }
    adagrad_.save(w);
    w.put(steps_);
    w.put(loss_);
    w.put(overflow_step_);
    w.put(blocks_);
    w.put(batch_users_);
    w.put(targets_);
    return true;
  }
  void restore(StateReader& r) override {
    for (int m = 0; m < policy_.n_models(); ++m) {
      r.get_same_shape(policy_.user_table(m));
      r.get_same_shape(policy_.item_table(m));
    }
    adagrad_.restore(r);
    r.get(steps_);
    r.get(loss_);
    r.get(overflow_step_);
    r.get(blocks_);
    r.get(batch_users_);
    r.get(targets_);
    parameters_changed();
  }

 private:
  void check_request(const Request& req, std::span<const int> candidates, int keep) {
    if (!candidates.empty() && static_cast<int>(candidates.size()) != policy_.n_items())
      throw std::runtime_error(
          "pl_ranker ranks the whole item pool; give it input = \"items\" "
          "and no pools");
    if (req.user < 0 || req.user >= users_n_)
      throw std::runtime_error("pl_ranker needs requests with user ids in 0.." +
                               std::to_string(users_n_ - 1));
    if (keep != blocks_total())
      blocks_ = pg::slot_block_sizes(keep, static_cast<int>(opts_.models));
  }
  void parameters_changed() {
    vt_stale_ = true;
    ahead_count_ = 0;
  }
  // Row of `req` in the batched logits, or -1 when they do not hold it.
  Eigen::Index ahead_row(const Request& req) const {
    const std::int64_t k = req.index - ahead_first_;
    if (k < 0 || k >= ahead_count_ || ahead_users_[k] != req.user) return -1;
    return static_cast<Eigen::Index>(k);
  }
  // logits_m = U_m[users] V_mᵀ / τ (pg::user_logits, over a dim-major copy of V_m refreshed after
  // each update).
  void compute_logits(std::span<const int> users, std::vector<RowMatrixXd>& out) {
    if (vt_stale_) {
      vt_.resize(policy_.n_models());
      for (int m = 0; m < policy_.n_models(); ++m) vt_[m] = policy_.item_table(m).transpose();
      vt_stale_ = false;
    }
    out.resize(policy_.n_models());
    const double inv_tau = 1.0 / policy_.temperature();
    for (int m = 0; m < policy_.n_models(); ++m)
      pg::user_logits(policy_.user_table(m), users, vt_[m], inv_tau, out[m]);
  }
  void request_logits(const Request& req) {
    one_user_[0] = static_cast<int>(req.user);
    compute_logits(one_user_, logits_);
  }
  void clamp_if_non_finite(std::vector<RowMatrixXd>& logits, Eigen::Index row) {
    const int n = policy_.n_items();
    for (RowMatrixXd& l : logits) {
      double* out = l.row(row).data();
      if (!models::all_finite({out, static_cast<std::size_t>(n)})) clamp_non_finite(out, n);
    }
  }
  // Scores that overflowed (±inf, or NaN from inf − inf) are an overflow event as the spec
  // defines it: training stops and the step is recorded. The ranker keeps serving from clamped
  // scores (NaN ranks last), so the run goes on and samplers never see a NaN.
  void clamp_non_finite(double* out, int n) {
    if (overflow_step_ < 0) overflow_step_ = static_cast<double>(steps_);
    constexpr double big = std::numeric_limits<double>::max();
    for (int a = 0; a < n; ++a) out[a] = std::isnan(out[a]) ? -big : std::clamp(out[a], -big, big);
  }
  // Mean over the last batch's LSR picks of their (arg-top-K approximate, spec §5) probability of
  // being among the ESR's K candidates under the current policy. Computed only when a checkpoint
  // asks for it.
  double mean_inclusion() const {
    // The approximation needs K other items besides the target.
    if (batch_users_.empty() || policy_.n_items() < blocks_total() + 1)
      return std::numeric_limits<double>::quiet_NaN();
    if (!inclusion_kernel_) {
      pg::EstimatorOptions o = res_.est;
      o.estimator = pg::Estimator::kCaPg;
      o.precision = pg::Precision::kStableDouble;
      inclusion_kernel_.emplace(o, blocks_, policy_.n_items());
    }
    policy_.batch_logits(batch_users_, stat_logits_);
    double sum = 0;
    for (Eigen::Index i = 0; i < targets_.rows(); ++i) {
      stat_softmax_.compute(stat_logits_, i);
      for (Eigen::Index l = 0; l < targets_.cols(); ++l)
        sum += std::exp(inclusion_kernel_->ca_log_inclusion(stat_softmax_, targets_(i, l)));
    }
    return sum / static_cast<double>(targets_.size());
  }
  int blocks_total() const {
    int k = 0;
    for (int b : blocks_) k += b;
    return k;
  }

  PlRankerOpts opts_;
  Resolved res_;
  int users_n_;
  pg::PLMixture policy_;
  std::vector<int> blocks_;
  pg::CandidateSampler sampler_;
  models::Adagrad adagrad_;
  std::vector<RowMatrixXd> logits_, grad_logits_, vt_;
  // Batched logits of requests ahead_first_ .. + ahead_count_ (users ahead_users_), valid until
  // the parameters change.
  std::vector<RowMatrixXd> ahead_logits_;
  std::vector<int> ahead_users_;
  std::int64_t ahead_first_ = 0, ahead_count_ = 0;
  int one_user_[1] = {0};
  pg::RowSoftmax softmax_;  // for feedback that arrives without its decision
  models::ParameterSet grads_;
  bool vt_stale_ = true;
  std::vector<int> list_, batch_users_;
  RowMatrixXi candidates_, targets_;
  RowMatrixXd rewards_;
  double loss_ = 0, overflow_step_ = -1, p_bar_ = 1;
  mutable std::optional<pg::EstimatorKernel> inclusion_kernel_;
  std::optional<pg::EstimatorKernel> kernel_;
  std::vector<double*> grad_rows_;
  std::vector<double> weights_;
  // Softmax buffers for decisions; one is free again when no feedback holds it any more, so the
  // steady state allocates nothing.
  std::shared_ptr<pg::RowSoftmax> free_softmax() {
    for (std::size_t k = 0; k < softmax_pool_.size(); ++k) {
      std::size_t j = (pool_cursor_ + k) % softmax_pool_.size();
      if (softmax_pool_[j].use_count() == 1) {
        pool_cursor_ = j + 1;
        return softmax_pool_[j];
      }
    }
    softmax_pool_.push_back(std::make_shared<pg::RowSoftmax>());
    pool_cursor_ = 0;
    return softmax_pool_.back();
  }
  std::vector<std::shared_ptr<pg::RowSoftmax>> softmax_pool_;
  std::shared_ptr<pg::RowSoftmax> last_softmax_;  // the last decision's (kept out of the pool)
  std::size_t pool_cursor_ = 0;
  mutable std::vector<RowMatrixXd> stat_logits_;
  mutable pg::RowSoftmax stat_softmax_;
  long steps_ = 0;
};

// Two significant digits, for bounds in messages.
std::string rough(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", v);
  return buf;
}

// Checks that need the pipeline and the world: run by `check` for every configuration.
void validate(const PlRankerOpts& o, const StageContext& c) {
  if (!c.whole_pool)
    c.fail("input",
           "must be \"items\" with pools = \"shared\": pl_ranker ranks the whole item pool "
           "(its tables have one row per item)");
  const int K = c.keep;
  if (o.estimator == EstimatorChoice::ca_pg && c.world->items < K + 1)
    c.fail("keep", "= " + std::to_string(K) +
                       " but CA-PG needs at least keep + 1 items (the world has " +
                       std::to_string(c.world->items) +
                       "): its inclusion probability of a pick needs K other items; lower keep or "
                       "use estimator = \"ca-pg-swr\"");
  if (o.adaptive_lr != AdaptiveLr::off && !c.world->has_tables)
    c.fail("adaptive_lr",
           "needs a world with a users × items reward table (tabular, kuairec, "
           "embedding) to estimate p̄; set adaptive_lr = \"off\"");
  if (o.grpo_group > 0) {
    const int64_t g = o.grpo_group;
    const std::string gs = std::to_string(g);
    if (c.world->repeat_user % g != 0)
      c.fail("grpo_group", "= " + gs +
                               " needs each batch to be groups of one user's requests: set the "
                               "world's repeat_user = " +
                               gs + " (it is " + std::to_string(c.world->repeat_user) + ")");
    if (c.update_interval > 0 || c.update_every % g != 0)
      c.fail("grpo_group",
             "= " + gs + " needs batches of whole groups: set update_every to a multiple of " + gs +
                 " and no update_interval (update_every is " + std::to_string(c.update_every) +
                 ")");
    if (!c.feedback_in_order)
      c.fail("grpo_group", "= " + gs +
                               " needs feedback in request order; use feedback.delay = \"none\" "
                               "or \"fixed\"");
  }
  // Overflow by construction: logits are <U[u], V[a]> / temperature with N(0, 1) initial tables,
  // and one Adagrad step moves every parameter by at most the learning rate (|g| / sqrt(G) <= 1;
  // at most K / p̄ <= K times more with adaptive_lr). A bound on |logit| over the whole run above
  // 1e150 means squared gradients can overflow even in double precision; refuse it here rather
  // than meet non-finite scores after hours.
  constexpr double kLimit = 1e150;
  const double d = static_cast<double>(o.dim), root = std::sqrt(d);
  const double norm0 = root + 6.0;  // largest initial row norm, with margin
  const double steps = c.update_interval > 0
                           ? static_cast<double>(c.horizon)
                           : std::ceil(static_cast<double>(c.horizon) / c.update_every);
  const double boost = o.adaptive_lr != AdaptiveLr::off ? std::max(1, K) : 1.0;
  const double start = norm0 * norm0 / o.temperature;
  if (!(start <= kLimit))
    c.fail("temperature", "= " + format_number(o.temperature) +
                              " makes the logits <U[u], V[a]> / temperature overflow (up to " +
                              rough(start) +
                              " at the start, the limit is 1e150); use "
                              "temperature >= " +
                              rough(1.1 * norm0 * norm0 / kLimit));
  const double grow = steps * o.learning_rate * boost * root;
  const double end = (norm0 + grow) * (norm0 + grow) / o.temperature;
  if (!(end <= kLimit)) {
    const double lr_max = (std::sqrt(kLimit * o.temperature) - norm0) / (steps * boost * root);
    c.fail("learning_rate",
           "= " + format_number(o.learning_rate) + " lets the logits grow to " +
               (std::isinf(end) ? std::string("overflow") : rough(end)) + " within the run's " +
               rough(steps) +
               " updates (the limit is 1e150); use learning_rate <= " + rough(0.9 * lr_max));
  }
}

}  // namespace

StageEntry pl_ranker_entry() {
  OptionGroup<PlRankerOpts> g;
  g.add("models", &PlRankerOpts::models,
        "M two-tower models; the K slots are split into M consecutive blocks",
        between<int64_t>(1, 1024))
      .add("dim", &PlRankerOpts::dim, "embedding dimension of the user and item tables",
           between<int64_t>(1, 1 << 20))
      .add("temperature", &PlRankerOpts::temperature, "logits are <U[u], V[a]> / temperature",
           greater_than<double>(0))
      .add(
          "estimator", &PlRankerOpts::estimator,
          "policy gradient: v-pg, v-pg-swr, ca-pg, ca-pg-swr (top1-pg = ca-pg-swr with models = 1)",
          kEstimators)
      .add("precision", &PlRankerOpts::precision,
           "double (stable) or float32_reference (the reference code's float32 log1p forms, "
           "which overflow on large logit gaps; V-PG and CA-PG only)",
           kPrecisions)
      .add("sampler", &PlRankerOpts::sampler,
           "candidate sampling: sequential PL (sum tree), gumbel top-k, or gumbel_float32 (the "
           "reference's float32 noise, for reproducing its overflows)",
           kSamplers)
      .add("in_place_substitution", &PlRankerOpts::in_place_substitution,
           "CA-PG's Ŝ_{-a} as the reference builds it (replace a in place by the (n_m+1)-th)")
      .add("swr_mixture", &PlRankerOpts::swr_mixture,
           "CA-PG-SwR with M > 1: reference (log Σ_m p_m^n_m) or inclusion (log(1 - Π(1-p_m)^n_m))",
           kSwrMixtures)
      .add("learning_rate", &PlRankerOpts::learning_rate,
           "Adagrad learning rate; 0 = 1e-2 for the CA variants, 1e-1 for V-PG(-SwR) (the "
           "resolved configuration records the value used)",
           at_least<double>(0))
      .add("adaptive_lr", &PlRankerOpts::adaptive_lr,
           "scale the learning rate by 1/p̄ (Eq. 9) for this late-stage ranker, or off", kAdaptiveLr)
      .add("adaptive_lr_temperature", &PlRankerOpts::adaptive_lr_temperature,
           "τ of the noisy late-stage ranker assumed by adaptive_lr", greater_than<double>(0))
      .add("adaptive_lr_samples", &PlRankerOpts::adaptive_lr_samples, "Monte-Carlo samples for p̄",
           between<int64_t>(1, 100000000))
      .add("grpo_group", &PlRankerOpts::grpo_group,
           "GRPO: rollouts per user (consecutive requests of one user), 0 = off",
           between<int64_t>(0, 1 << 20))
      .add("grpo_shift", &PlRankerOpts::grpo_shift,
           "subtract each group's minimum so r̃ >= 0: auto (on for the CA variants), on, off",
           kGrpoShifts);
  return make_entry<StageBuild>(
      "stage", "pl_ranker",
      "Plackett–Luce early-stage ranker over M two-tower models, trained by policy gradient "
      "(batch = update_every)",
      g,
      [](PlRankerOpts& o) {
        if (o.estimator == EstimatorChoice::top1_pg && o.models != 1)
          throw KeyError("estimator",
                         "= \"top1-pg\" is CA-PG-SwR with models = 1; use \"ca-pg-swr\" for "
                         "mixtures");
        resolve_defaults(o);
        const Resolved r = resolve(o);
        StageBuild b;
        b.make = [o, r](const StageSetup& s) { return std::make_unique<PlRanker>(s, o, r); };
        // Per request, per model: the logits and the gradient's two products through the tables
        // (6·items·dim flops at the GEMMs' rate), the softmax, the sampler's noise and its top-K
        // and the gradient's assembly (≈ 30 per item), plus the top-K selections and per-slot
        // terms that grow with K; once per batch, Adagrad over every parameter, amortised here
        // assuming batches of at least 16. The constants are flop-equivalents fitted to CPU time
        // with bench/calibrate_cost.sh (Table 1 at K = 10 and 20, eval-heavy and step-heavy runs)
        // and the step benchmark's M = 5 and K = 200 shapes (docs/cluster.md).
        b.cost = [o](double n, double) { return n * o.models * (10.0 * o.dim + 30.0); };
        b.cost_per_kept = [](double n, double) { return n; };
        // An evaluation request: the logits of one user and a greedy top-K, no softmax, no
        // sampling, no gradient.
        b.eval_cost = [o](double n, double) { return n * o.models * (4.0 * o.dim + 20.0); };
        // Tables, Adagrad accumulators, gradients and the transposed item tables (users ~ items),
        // and the pending softmaxes of one batch.
        b.bytes = [o](double n, double) {
          return 8.0 * o.models * (5.0 * 2.0 * n * o.dim + 2.0 * 64.0 * n);
        };
        b.validate = [o](const StageContext& c) { validate(o, c); };
        b.needs_features = false;
        // learn reads the user and the softmax its decision keeps (decision state)
        b.held_features = HeldFeatures::none;
        b.needs_users = true;
        b.lookahead = true;
        b.stats = {"loss", "steps", "overflow_step", "learning_rate", "inclusion"};
        return b;
      },
      structural_stage_keys());
}

}  // namespace stagesim
