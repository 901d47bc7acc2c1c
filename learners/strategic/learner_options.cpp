#include "learners/strategic/learner_options.hpp"

#include <cmath>
#include <stdexcept>

#include "learners/strategic/concave_ucb.hpp"
#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/pasto.hpp"
#include "learners/strategic/scgd.hpp"
#include "learners/strategic/ucb.hpp"

namespace stagesim::strategic {

const EnumTable<LearnerKind>& learner_kinds() {
  static const EnumTable<LearnerKind> table{{"pasto", LearnerKind::pasto},
                                            {"scgd", LearnerKind::scgd},
                                            {"oracle", LearnerKind::oracle},
                                            {"ucb", LearnerKind::ucb},
                                            {"concave_ucb", LearnerKind::concave_ucb},
                                            {"fixed", LearnerKind::fixed}};
  return table;
}

std::unique_ptr<Learner> make_learner(const LearnerOptions& o, const LearnerContext& c) {
  const int K = c.parameters;
  Eigen::VectorXd initial;
  if (!o.initial.empty()) {
    if (static_cast<int>(o.initial.size()) != K)
      throw std::invalid_argument("'initial' has " + std::to_string(o.initial.size()) +
                                  " weights but there are " + std::to_string(K) + " parameters");
    initial = Eigen::Map<const Eigen::VectorXd>(o.initial.data(), K);
    if (!initial.allFinite() || (initial.array() < 0).any() || !(initial.sum() > 0))
      throw std::invalid_argument("'initial' weights must be finite, >= 0 and not all 0");
    initial /= initial.sum();
  }
  const int m = c.objective.metrics();
  Eigen::VectorXd width = c.width_unit.size() ? c.width_unit : Eigen::VectorXd::Ones(m);
  width *= o.ucb_width;
  switch (o.learner) {
    case LearnerKind::pasto:
      if (initial.size() && !(initial.array() > 0).all())
        throw std::invalid_argument("PASTO's 'initial' weights must all be > 0 (log space)");
      return std::make_unique<Pasto>(K, c.objective, PastoOptions{o.step, o.step_decay, o.explore},
                                     initial);
    case LearnerKind::scgd:
      return std::make_unique<Scgd>(K, c.objective,
                                    ScgdOptions{o.scgd_step, o.scgd_average, o.explore}, initial);
    case LearnerKind::oracle:
      if (!c.mean)
        throw std::invalid_argument(
            "learner 'oracle' needs the noise-free U (offline problems only); use 'fixed' with "
            "each parameter as a variant instead");
      return std::make_unique<FixedParameter>(K, best_single_parameter(*c.mean, c.objective));
    case LearnerKind::ucb:
      return std::make_unique<Ucb>(K, c.objective, width);
    case LearnerKind::concave_ucb:
      return std::make_unique<ConcaveUcb>(K, c.objective, width);
    case LearnerKind::fixed:
      if (o.parameter >= K)
        throw std::invalid_argument("'parameter' = " + std::to_string(o.parameter) +
                                    " but there are only " + std::to_string(K) +
                                    " parameters (0.." + std::to_string(K - 1) + ")");
      return std::make_unique<FixedParameter>(K, static_cast<int>(o.parameter));
  }
  throw std::invalid_argument("unknown learner");
}

}  // namespace stagesim::strategic
