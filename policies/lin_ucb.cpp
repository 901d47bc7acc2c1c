// LinUCB (U) and Greedy (G) stages: ridge regression on the stage's feature view; U adds the
// optimism bonus alpha·sqrt(zᵀ Σ z), G is the same learner with alpha = 0.
#include "policies/feature_view.hpp"
#include "policies/ridge.hpp"
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {
namespace {

struct LinUcbOpts {
  double alpha = 0.1;
  double lambda = 1.0;
};

class LinUcb final : public Stage {
 public:
  LinUcb(const StageSetup& s, double alpha, double lambda)
      : view_(s.world_dim, s.features),
        ridge_(view_.dim(), lambda),
        alpha_(alpha),
        report_scores_(s.report_scores) {}

  void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    const int n = static_cast<int>(candidates.size());
    // Scores go straight into the decision when someone (a stage log) asks for them.
    std::vector<double>& scores = report_scores_ ? out.scores : scores_;
    scores.resize(n);
    ridge_.score(view_.rows(req, candidates), n, alpha_, scores.data());
    pos_.clear();
    top_k(scores, keep, rng, pos_);
    for (int p : pos_) out.ids.push_back(candidates[p]);
  }

  void learn(std::span<const Feedback> batch) override {
    for (const Feedback& f : batch)
      for (size_t l = 0; l < f.served.size(); ++l)
        if (f.weights[l] != 0)
          ridge_.update(view_.row(*f.request, f.served[l]), f.rewards[l], f.weights[l]);
  }
  bool save(StateWriter& w) const override {
    ridge_.save(w);
    return true;
  }
  void restore(StateReader& r) override { ridge_.restore(r); }

 private:
  FeatureView view_;
  Ridge ridge_;
  double alpha_;
  bool report_scores_;
  std::vector<double> scores_;
  std::vector<int> pos_;
};

StageBuild ridge_build(double alpha, double lambda) {
  StageBuild b;
  b.make = [alpha, lambda](const StageSetup& s) {
    return std::make_unique<LinUcb>(s, alpha, lambda);
  };
  // Per request: scores (n·m, plus n·m² for the bonus) and one Sherman–Morrison update (3m²).
  b.cost = [alpha](double n, double m) {
    return 2 * n * m + (alpha != 0 ? 2 * n * m * m : 0) + 6 * m * m;
  };
  b.held_features = HeldFeatures::served;  // learn reads the served items' rows
  return b;
}

}  // namespace

StageEntry lin_ucb_entry() {
  OptionGroup<LinUcbOpts> g;
  g.add("alpha", &LinUcbOpts::alpha, "weight of the optimism bonus sqrt(zᵀ Σ z)",
        at_least<double>(0))
      .add("lambda", &LinUcbOpts::lambda, "ridge regularisation λ (Σ starts as I/λ)",
           greater_than<double>(0));
  return make_entry<StageBuild>(
      "stage", "linucb", "LinUCB: ridge regression plus an upper-confidence bonus (U)", g,
      [](const LinUcbOpts& o) { return ridge_build(o.alpha, o.lambda); }, structural_stage_keys());
}

StageEntry greedy_entry() {
  struct GreedyOpts {
    double lambda = 1.0;
  };
  OptionGroup<GreedyOpts> g;
  g.add("lambda", &GreedyOpts::lambda, "ridge regularisation λ (Σ starts as I/λ)",
        greater_than<double>(0));
  return make_entry<StageBuild>(
      "stage", "greedy", "Greedy: ridge regression, pick the highest predicted reward (G)", g,
      [](const GreedyOpts& o) { return ridge_build(0.0, o.lambda); }, structural_stage_keys());
}

}  // namespace stagesim
