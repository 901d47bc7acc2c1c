// Late-stage ranker (LSR): picks `keep` of the candidates by the world's ranking scores — the
// expected rewards, or the world's own score table where it has one (the embedding world's
// logits f). optimal: top by score; anti: bottom; noisy: top of score/τ + Gumbel noise while
// serving, optimal at evaluation; uniform: uniformly with replacement (duplicates collapse in the
// served slate). It does not learn. (early-stage-pg spec §4)
#include "learners/pg/lsr.hpp"
#include "sim/enum_table.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

const EnumTable<pg::LsrKind> kModes{{"optimal", pg::LsrKind::kOptimal},
                                    {"anti", pg::LsrKind::kAnti},
                                    {"noisy", pg::LsrKind::kNoisy},
                                    {"uniform", pg::LsrKind::kUniform}};

struct LateRankerOpts {
  pg::LsrKind mode = pg::LsrKind::kOptimal;
  double noisy_temperature = 1.0;
};

class LateRanker final : public Stage {
 public:
  LateRanker(const StageSetup& s, const LateRankerOpts& o)
      : lsr_(pg::LsrOptions{o.mode, o.noisy_temperature}),
        score_(s.world ? s.world->tables().score : nullptr) {}

  void select(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
              Decision& out) override {
    pick(req, candidates, keep, rng, out, true);
  }
  void select_eval(const Request& req, std::span<const int> candidates, int keep, Rng& rng,
                   Decision& out) override {
    pick(req, candidates, keep, rng, out, false);
  }
  void learn(std::span<const Feedback>) override {}
  bool save(StateWriter&) const override { return true; }  // a fixed ranker: nothing learned

 private:
  void pick(const Request& req, std::span<const int> candidates, int keep, Rng& rng, Decision& out,
            bool training) {
    const double* f = score_ && req.user >= 0 ? score_->row(req.user).data() : req.mean.data();
    picks_.resize(keep);
    lsr_.pick(candidates, f, training, rng, picks_);
    out.ids.insert(out.ids.end(), picks_.begin(), picks_.end());
  }

  pg::LateStageRanker lsr_;
  const RowMatrix* score_;
  std::vector<int> picks_;
};

}  // namespace

StageEntry late_ranker_entry() {
  OptionGroup<LateRankerOpts> g;
  g.add("mode", &LateRankerOpts::mode,
        "optimal (top by score), anti (bottom), noisy (Gumbel-perturbed while serving), uniform",
        kModes)
      .add("noisy_temperature", &LateRankerOpts::noisy_temperature,
           "τ of the noisy mode: picks follow Plackett–Luce over score/τ", greater_than<double>(0));
  return make_entry<StageBuild>(
      "stage", "late_ranker",
      "fixed late-stage ranker over the world's scores (optimal, anti, noisy, uniform)", g,
      [](const LateRankerOpts& o) {
        StageBuild b;
        b.make = [o](const StageSetup& s) { return std::make_unique<LateRanker>(s, o); };
        b.cost = [](double n, double) { return 4 * n; };
        b.needs_features = false;
        b.held_features = HeldFeatures::none;  // learns nothing
        return b;
      },
      structural_stage_keys());
}

}  // namespace stagesim
