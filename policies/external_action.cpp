// A stage whose action comes from outside the simulator: an agent driving the pipeline through
// the step interface (sim/stepper.hpp, stagesim.Env in Python) sets a weight vector a over the
// features the stage sees, and the stage passes on the `keep` candidates with the highest x·a
// (the action form of multi-stage RL, where each stage's action is a scoring vector). The action
// stays in force until the agent sets another; it travels as the decision's payload, so feedback
// and the stage log see what was applied. Without an action (a plain `stagesim run`) it passes
// on uniformly random candidates.
#include <cmath>

#include "policies/feature_view.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {
namespace {

class ExternalAction final : public Stage {
 public:
  explicit ExternalAction(const StageSetup& s)
      : view_(s.world_dim, s.features), report_scores_(s.report_scores) {}

  void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    const int n = static_cast<int>(candidates.size());
    pos_.clear();
    if (action_.empty()) {
      uniform_sample(n, keep, rng, pos_, scratch_);
    } else {
      std::vector<double>& scores = report_scores_ ? out.scores : scores_;
      scores.resize(n);
      const int m = view_.dim();
      const double* x = view_.rows(req, candidates);
      for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int j = 0; j < m; ++j) s += x[static_cast<std::size_t>(i) * m + j] * action_[j];
        scores[i] = s;
      }
      top_k(scores, keep, rng, pos_);
      out.payload = action_;
    }
    for (int p : pos_) out.ids.push_back(candidates[p]);
  }
  void learn(std::span<const Feedback>) override {}

  std::size_t action_size() const override { return static_cast<std::size_t>(view_.dim()); }
  void set_action(std::span<const double> a) override {
    if (a.size() != action_size())
      throw ConfigError("the action has " + std::to_string(a.size()) +
                        " values; this stage scores " + std::to_string(action_size()) +
                        " features, so it needs that many weights");
    for (double v : a)
      if (!std::isfinite(v)) throw ConfigError("the action has a non-finite weight");
    action_.assign(a.begin(), a.end());
  }

 private:
  FeatureView view_;
  bool report_scores_;
  std::vector<double> action_, scores_;
  std::vector<int> pos_, scratch_;
};

struct NoOpts {};

}  // namespace

StageEntry external_action_entry() {
  return make_entry<StageBuild>(
      "stage", "external",
      "scores candidates by x·a with the action a set from outside (stagesim.Env.step); random "
      "order until an action is set",
      OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        StageBuild b;
        b.make = [](const StageSetup& s) { return std::make_unique<ExternalAction>(s); };
        b.cost = [](double n, double m) { return 2 * n * m; };
        b.held_features = HeldFeatures::none;  // learns nothing
        return b;
      },
      structural_stage_keys());
}

}  // namespace stagesim
