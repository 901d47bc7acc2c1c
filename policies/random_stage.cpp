// Uniformly random stage: passes on `keep` distinct candidates drawn uniformly (the baseline every
// figure needs). It learns nothing.
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {
namespace {

class RandomStage final : public Stage {
 public:
  void select(const Request&, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    pos_.clear();
    uniform_sample(static_cast<int>(candidates.size()), keep, rng, pos_, scratch_);
    for (int p : pos_) out.ids.push_back(candidates[p]);
  }
  void learn(std::span<const Feedback>) override {}
  bool save(StateWriter&) const override { return true; }  // nothing learned

 private:
  std::vector<int> pos_, scratch_;
};

struct NoOpts {};

}  // namespace

StageEntry random_stage_entry() {
  return make_entry<StageBuild>(
      "stage", "random", "uniformly random choice among the candidates", OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        StageBuild b;
        b.make = [](const StageSetup&) { return std::make_unique<RandomStage>(); };
        b.cost = [](double n, double) { return n; };
        b.needs_features = false;
        b.held_features = HeldFeatures::none;  // learns nothing
        return b;
      },
      structural_stage_keys());
}

}  // namespace stagesim
