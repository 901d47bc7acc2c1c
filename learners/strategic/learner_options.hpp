#pragma once
// The options every strategic-parameter learner is configured by, shared by the offline job and
// the simulator's fusion ranker (one declaration, one name table), and the factory that builds
// a learner from them.
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/learner.hpp"
#include "sim/options.hpp"

namespace stagesim::strategic {

enum class LearnerKind { pasto, scgd, oracle, ucb, concave_ucb, fixed };

// The one conversion table: "pasto", "scgd", "oracle", "ucb", "concave_ucb", "fixed".
const EnumTable<LearnerKind>& learner_kinds();

struct LearnerOptions {
  LearnerKind learner = LearnerKind::pasto;
  double step = 0.1;            // PASTO γ₀
  double step_decay = 0.0;      // PASTO γ_t = γ₀ t^(−step_decay)
  double explore = 0.1;         // ε of PASTO and S-SCGD
  double scgd_step = 0.5;       // S-SCGD α₀ (α_t = α₀ t^(−3/4))
  double scgd_average = 1.0;    // S-SCGD β₀ (β_t = min(1, β₀ t^(−1/2)))
  double ucb_width = 1.0;       // confidence-box width of ucb / concave_ucb (see LearnerContext)
  int64_t parameter = 0;        // the index the `fixed` learner applies
  std::vector<double> initial;  // p_1 of PASTO / S-SCGD (empty: uniform)
};

// What the factory needs besides the options.
struct LearnerContext {
  int parameters = 0;
  Objective objective;
  // The noise-free U, for `oracle` (the best single parameter); nullptr where it is unknown.
  const Eigen::MatrixXd* mean = nullptr;
  // Per metric, the unit of ucb_width: the observation noise standard deviation in offline
  // problems (known-noise UCB), 1 in the simulator. Empty = ones.
  Eigen::VectorXd width_unit;
};

// std::invalid_argument on options that do not fit the context (initial of the wrong length,
// parameter out of range, oracle without U).
std::unique_ptr<Learner> make_learner(const LearnerOptions& o, const LearnerContext& c);

// (0, 1]: the exploration share must keep every parameter's probability positive.
inline Allowed<double> open_unit() {
  Allowed<double> a = between<double>(0, 1);
  a.min_open = true;
  return a;
}

// Declares the learner keys in a component's option group; Opts derives from LearnerOptions.
template <class Opts>
void add_learner_options(OptionGroup<Opts>& g) {
  using L = LearnerOptions;
  auto m = [](auto L::*p) {
    using T = std::remove_reference_t<decltype(std::declval<L&>().*p)>;
    return static_cast<T Opts::*>(p);
  };
  g.add("learner", m(&L::learner),
        "pasto | scgd (S-SCGD) | oracle (best single parameter on the noise-free U) | ucb "
        "(deterministic UCB) | concave_ucb (Agrawal–Devanur style) | fixed (`parameter`)",
        learner_kinds())
      .add("step", m(&L::step), "PASTO step γ₀ of the exponentiated-gradient update",
           greater_than<double>(0))
      .add("step_decay", m(&L::step_decay), "PASTO step γ_t = γ₀ t^(−step_decay)",
           at_least<double>(0))
      .add("explore", m(&L::explore),
           "exploration ε of PASTO and S-SCGD: sample from (1 − ε) p + ε/K", open_unit())
      .add("scgd_step", m(&L::scgd_step), "S-SCGD α₀ (α_t = α₀ t^(−3/4))", greater_than<double>(0))
      .add("scgd_average", m(&L::scgd_average), "S-SCGD β₀ (β_t = min(1, β₀ t^(−1/2)))",
           greater_than<double>(0))
      .add("ucb_width", m(&L::ucb_width),
           "confidence width of ucb / concave_ucb, in units of the observation noise std "
           "(offline problems) or of the metric (simulator)",
           at_least<double>(0))
      .add("parameter", m(&L::parameter), "index of the parameter the `fixed` learner applies",
           at_least<int64_t>(0))
      .add("initial", m(&L::initial),
           "initial distribution p_1 of PASTO / S-SCGD, one weight per parameter (normalised); "
           "[] = uniform");
}

}  // namespace stagesim::strategic
