// Fusion ranker with probabilistic strategic parameters (spec §3 C): scores each candidate by
// fusing its predicted metrics (the world's features) with a parameter vector β_k,
//   linear  Σ_j β_kj · pred_j        power  Π_j pred_j^{β_kj}  (ranked by Σ_j β_kj log pred_j),
// where k is chosen per request by a strategic-parameter learner (learners/strategic/): traffic
// is cut into rounds of `round_requests` requests and each round into `buckets` buckets (a
// random split of requests or of users, redrawn every round); bucket q applies the parameter
// the learner chose for it, and at the end of the round the buckets' average metric vectors
// (mean over served positions, per request, averaged over the bucket) drive the learner's
// update. After `learn_requests` requests (0 = never) learning stops and every request samples
// its parameter from the learner's deployed distribution (PASTO's averaged iterate).
// The sampled index, bucket and round travel in Decision::payload and come back in the feedback.
// The deterministic competitors are the same stage with learner = "fixed" (one variant per β_k,
// on the same requests: common random numbers) or "ucb".
#include <cmath>
#include <limits>

#include "learners/strategic/learner_options.hpp"
#include "learners/strategic/simplex.hpp"
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {
namespace {

using strategic::Learner;

enum class Fusion { linear, power };
enum class Split { requests, users };

const EnumTable<Fusion> kFusions{{"linear", Fusion::linear}, {"power", Fusion::power}};
const EnumTable<Split> kSplits{{"requests", Split::requests}, {"users", Split::users}};

struct FusionRankerOpts : strategic::LearnerOptions {
  std::vector<std::vector<double>> parameters = {{1, 0},  {1, 5},  {1, 10}, {1, 20},
                                                 {1, 40}, {1, 80}, {1, 160}};
  Fusion fusion = Fusion::linear;
  int64_t buckets = 10;
  int64_t round_requests = 1000;
  Split split = Split::requests;
  strategic::ObjectiveForm form = strategic::ObjectiveForm::soft;
  std::vector<double> thresholds = {0.03};
  double lambda = 1e4;
  int64_t learn_requests = 0;
};

// The metrics' statistics, named by index because the world's objective names are not known
// when the stage is parsed (metric j = the world's objective j, primary first).
std::vector<std::string> stat_names(int m) {
  std::vector<std::string> v = {"objective", "objective_deployed", "violation_deployed",
                                "rounds",    "late_feedback",      "top_parameter",
                                "top_share"};
  for (int j = 0; j < m; ++j) v.push_back("mean_" + std::to_string(j));
  for (int j = 0; j < m; ++j) v.push_back("deployed_mean_" + std::to_string(j));
  return v;
}

// The feature columns an instance fuses (StageSetup::features; empty = all of the world's).
std::vector<int> all_columns(const StageSetup& s) {
  std::vector<int> c = s.features;
  if (c.empty())
    for (int j = 0; j < s.world_dim; ++j) c.push_back(j);
  return c;
}

class FusionRanker final : public Stage {
 public:
  FusionRanker(const StageSetup& s, const FusionRankerOpts& o, strategic::Objective objective,
               RowMatrix beta, Fusion fusion, Split split)
      : o_(o),
        objective_(std::move(objective)),
        beta_(std::move(beta)),
        fusion_(fusion),
        split_(split),
        features_(all_columns(s)),
        report_scores_(s.report_scores),
        m_(objective_.metrics()),
        arms_(static_cast<std::size_t>(o.buckets)),
        bucket_sum_(Eigen::MatrixXd::Zero(m_, o.buckets)),
        bucket_count_(static_cast<std::size_t>(o.buckets), 0),
        total_(Eigen::VectorXd::Zero(m_)),
        deployed_total_(Eigen::VectorXd::Zero(m_)),
        metric_(m_) {
    split_seed_ = (*s.init_rng)();
    strategic::LearnerContext c;
    c.parameters = static_cast<int>(beta_.rows());
    c.objective = objective_;
    learner_ = strategic::make_learner(o, c);
  }

  void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    const std::int64_t round = req.index / o_.round_requests;
    const bool deploying = o_.learn_requests > 0 && req.index >= o_.learn_requests;
    int k = 0, bucket = -1;
    if (deploying) {
      if (!frozen_) {
        close_round();  // the last learning round's feedback, as far as it has arrived
        deploy_sampler_.set(learner_->deployed());
        frozen_ = true;
      }
      k = deploy_sampler_.draw(rng);
    } else {
      if (round != round_) start_round(round, rng);
      bucket = bucket_of(req, round);
      k = arms_[static_cast<std::size_t>(bucket)];
    }
    rank(req, candidates, keep, k, rng, out);
    out.payload = {static_cast<double>(k), static_cast<double>(bucket),
                   static_cast<double>(deploying ? -1 : round)};
  }

  void select_eval(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                   Decision& out) override {
    strategic::IndexSampler s;
    s.set(learner_->deployed());
    rank(req, candidates, keep, s.draw(rng), rng, out);
  }

  void learn(std::span<const Feedback> batch) override {
    for (const Feedback& f : batch) {
      if (static_cast<int>(f.objectives.size()) != m_)
        throw ConfigError(
            "stage type 'fusion_ranker': its objective has " + std::to_string(m_) +
            " metrics (thresholds + 1) but the world has " + std::to_string(f.objectives.size()) +
            " objectives (" +
            join_words(std::vector<std::string>(f.objectives.begin(), f.objectives.end())) +
            "); give one threshold per guardrail objective");
      const std::size_t L = f.served.size();
      if (L == 0) continue;
      metric_.setZero();
      for (std::size_t l = 0; l < L; ++l)
        for (int j = 0; j < m_; ++j) metric_[j] += f.outcomes[l * m_ + j];
      metric_ /= static_cast<double>(L);
      total_ += metric_;
      ++requests_;
      if (o_.learn_requests > 0 && f.request->index >= o_.learn_requests) {
        deployed_total_ += metric_;
        ++deployed_requests_;
      }
      const std::vector<double>& pl = f.decision->payload;
      const int bucket = static_cast<int>(pl[1]);
      if (bucket < 0) continue;
      if (static_cast<std::int64_t>(pl[2]) != round_ || closed_) {
        ++late_;
        continue;
      }
      bucket_sum_.col(bucket) += metric_;
      ++bucket_count_[static_cast<std::size_t>(bucket)];
    }
  }

  std::vector<double> stats() const override {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> v;
    const Eigen::VectorXd all =
        requests_ ? Eigen::VectorXd(total_ / requests_) : Eigen::VectorXd::Constant(m_, nan);
    const Eigen::VectorXd dep = deployed_requests_
                                    ? Eigen::VectorXd(deployed_total_ / deployed_requests_)
                                    : Eigen::VectorXd::Constant(m_, nan);
    v.push_back(requests_ ? objective_.value(all) : nan);
    v.push_back(deployed_requests_ ? objective_.value(dep) : nan);
    v.push_back(deployed_requests_ ? objective_.violation(dep) : nan);
    v.push_back(static_cast<double>(learner_->rounds()));
    v.push_back(static_cast<double>(late_));
    Eigen::Index top = 0;
    const double share = learner_->deployed().maxCoeff(&top);
    v.push_back(static_cast<double>(top));
    v.push_back(share);
    for (int j = 0; j < m_; ++j) v.push_back(all[j]);
    for (int j = 0; j < m_; ++j) v.push_back(dep[j]);
    return v;
  }

 private:
  int bucket_of(const Request& req, std::int64_t round) const {
    const double u = split_ == Split::users && req.user >= 0
                         ? counter_uniform(split_seed_, static_cast<std::uint64_t>(req.user),
                                           static_cast<std::uint64_t>(round))
                         : counter_uniform(split_seed_, static_cast<std::uint64_t>(req.index));
    return std::min(static_cast<int>(u * static_cast<double>(o_.buckets)),
                    static_cast<int>(o_.buckets) - 1);
  }

  // Feeds the finished round's bucket averages to the learner (buckets without feedback are left
  // out), then plans the next round.
  void start_round(std::int64_t round, Rng& rng) {
    close_round();
    round_ = round;
    closed_ = false;
    learner_->choose(rng, arms_);
  }

  void close_round() {
    if (round_ < 0 || closed_) return;
    closed_ = true;
    used_.clear();
    int q2 = 0;
    obs_.resize(m_, o_.buckets);
    for (int q = 0; q < static_cast<int>(o_.buckets); ++q) {
      const std::int64_t n = bucket_count_[static_cast<std::size_t>(q)];
      if (n == 0) continue;
      obs_.col(q2++) = bucket_sum_.col(q) / static_cast<double>(n);
      used_.push_back(arms_[static_cast<std::size_t>(q)]);
    }
    learner_->update(used_, obs_.leftCols(q2));
    bucket_sum_.setZero();
    std::fill(bucket_count_.begin(), bucket_count_.end(), 0);
  }

  void rank(const Request& req, std::span<const int> candidates, int keep, int k, Rng& rng,
            Decision& out) {
    const int n = static_cast<int>(candidates.size());
    std::vector<double>& scores = report_scores_ ? out.scores : scores_;
    scores.resize(n);
    const double* b = beta_.row(k).data();
    const int d = static_cast<int>(features_.size());
    for (int c = 0; c < n; ++c) {
      const double* x = req.features.row(candidates[c]).data();
      double s = 0;
      if (fusion_ == Fusion::linear) {
        for (int j = 0; j < d; ++j) s += b[j] * x[features_[j]];
      } else {
        for (int j = 0; j < d; ++j) {
          const double p = x[features_[j]];
          // pred^β with β = 0 is 1 whatever pred is; a non-positive prediction ranks last.
          if (b[j] != 0) s += p > 0 ? b[j] * std::log(p) : -std::numeric_limits<double>::infinity();
        }
      }
      scores[c] = s;
    }
    pos_.clear();
    top_k(scores, keep, rng, pos_);
    for (int p : pos_) out.ids.push_back(candidates[p]);
  }

  FusionRankerOpts o_;
  strategic::Objective objective_;
  RowMatrix beta_;  // K × features, row-major: β_k contiguous
  Fusion fusion_;
  Split split_;
  std::vector<int> features_;
  bool report_scores_;
  int m_;
  std::unique_ptr<Learner> learner_;
  std::uint64_t split_seed_ = 0;
  std::int64_t round_ = -1;
  bool closed_ = false, frozen_ = false;
  std::vector<int> arms_, used_;
  Eigen::MatrixXd bucket_sum_, obs_;
  std::vector<std::int64_t> bucket_count_;
  Eigen::VectorXd total_, deployed_total_, metric_;
  std::int64_t requests_ = 0, deployed_requests_ = 0, late_ = 0;
  strategic::IndexSampler deploy_sampler_;
  std::vector<double> scores_;
  std::vector<int> pos_;
};

}  // namespace

StageEntry fusion_ranker_entry() {
  using O = FusionRankerOpts;
  OptionGroup<O> g;
  g.add("parameters", &O::parameters,
        "candidate parameter vectors β_1..β_K, one weight per feature the stage sees (the "
        "world's predicted metrics)")
      .add("fusion", &O::fusion, "linear: Σ β_j pred_j; power: Π pred_j^β_j", kFusions)
      .add("buckets", &O::buckets, "Q: buckets per round, each applies one sampled parameter",
           at_least<int64_t>(1))
      .add("round_requests", &O::round_requests,
           "requests per round (a multiple of update_every, or feedback arrives late and is "
           "dropped)",
           at_least<int64_t>(1))
      .add("split", &O::split,
           "what buckets split, redrawn every round: requests, or users (all of a user's "
           "requests in a round share a bucket)",
           kSplits)
      .add("form", &O::form, "objective form: primary | hard | soft (guardrails)",
           strategic::objective_forms())
      .add("thresholds", &O::thresholds,
           "guardrail thresholds c_j, one per world objective after the primary one")
      .add("lambda", &O::lambda, "soft-guardrail weight λ", at_least<double>(0))
      .add("learn_requests", &O::learn_requests,
           "stop learning after this many requests and sample every request's parameter from "
           "the deployed distribution (0 = learn throughout)",
           at_least<int64_t>(0));
  strategic::add_learner_options(g);
  StageEntry e = make_entry<StageBuild>(
      "stage", "fusion_ranker",
      "ranks by fused predicted metrics with strategic parameters sampled per request from a "
      "learned distribution (PASTO and baselines)",
      g,
      [](const O& o) {
        if (o.parameters.empty())
          throw ConfigError(
              "key 'parameters' of stage type 'fusion_ranker' needs at least one "
              "parameter vector, e.g. [[1.0, 0.0], [1.0, 20.0]]");
        const std::size_t d = o.parameters[0].size();
        RowMatrix beta(static_cast<Eigen::Index>(o.parameters.size()),
                       static_cast<Eigen::Index>(d));
        for (std::size_t k = 0; k < o.parameters.size(); ++k) {
          if (o.parameters[k].size() != d || d == 0)
            throw ConfigError("key 'parameters' of stage type 'fusion_ranker': vector " +
                              std::to_string(k) + " has " + std::to_string(o.parameters[k].size()) +
                              " weights, vector 0 has " + std::to_string(d) +
                              "; give every vector one weight per feature");
          for (std::size_t j = 0; j < d; ++j) {
            if (!std::isfinite(o.parameters[k][j]))
              throw ConfigError(
                  "key 'parameters' of stage type 'fusion_ranker': weights must be "
                  "finite");
            beta(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(j)) = o.parameters[k][j];
          }
        }
        strategic::Objective obj;
        obj.form = o.form;
        obj.thresholds = Eigen::Map<const Eigen::VectorXd>(
            o.thresholds.data(), static_cast<Eigen::Index>(o.thresholds.size()));
        obj.lambda = o.lambda;
        try {
          obj.validate(static_cast<int>(o.thresholds.size()) + 1);
          strategic::LearnerContext c;
          c.parameters = static_cast<int>(beta.rows());
          c.objective = obj;
          (void)strategic::make_learner(o, c);  // check-time errors for misfit learner options
        } catch (const std::invalid_argument& err) {
          throw ConfigError(std::string("stage type 'fusion_ranker': ") + err.what());
        }
        const Fusion fusion = o.fusion;
        const Split split = o.split;
        StageBuild b;
        b.make = [o, obj, beta, fusion, split](const StageSetup& s) {
          const std::size_t seen =
              s.features.empty() ? static_cast<std::size_t>(s.world_dim) : s.features.size();
          if (static_cast<Eigen::Index>(seen) != beta.cols())
            throw ConfigError("stage type 'fusion_ranker': each parameter vector has " +
                              std::to_string(beta.cols()) + " weights but the stage sees " +
                              std::to_string(seen) + " features; give one weight per feature");
          return std::make_unique<FusionRanker>(s, o, obj, beta, fusion, split);
        };
        // The world's shape is known at check time: one weight per feature each replica sees,
        // one threshold per guardrail objective of the world.
        b.validate = [d = static_cast<int>(beta.cols()), m = obj.metrics()](const StageContext& c) {
          for (int seen : c.features_seen)
            if (seen != d)
              c.fail("parameters", "has " + std::to_string(d) +
                                       " weights per vector but the stage sees " +
                                       std::to_string(seen) +
                                       " features; give one weight per feature (or set features)");
          const auto& objs = c.world->objectives;
          if (static_cast<int>(objs.size()) != m)
            c.fail("thresholds",
                   "gives " + std::to_string(m - 1) + " guardrail(s) but the world has " +
                       std::to_string(objs.size()) + " objectives (" + join_words(objs) +
                       "); give one threshold per objective after " + "the primary one");
        };
        b.cost = [](double n, double m) { return 2 * n * m; };
        b.held_features = HeldFeatures::none;  // learns from outcomes, the index and its payload
        b.stats = stat_names(obj.metrics());
        return b;
      },
      structural_stage_keys());
  return e;
}

}  // namespace stagesim
