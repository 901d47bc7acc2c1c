// Policy value: the pipeline served greedily (Stage::select_eval) to fresh requests at every
// checkpoint, rewards sampled with noise (early-stage-pg spec §7). The evaluation requests of a
// checkpoint are the same for every system on the same world and replication.
//
// Once a stage reports an overflow (statistic "overflow_step" >= 0: a non-finite gradient stopped
// its training), two views are recorded: `policy_value` keeps the last good value ("frozen"),
// `policy_value_missing` is NaN from then on.
#include <cmath>
#include <limits>

#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct PolicyValueOpts {
  int64_t requests = 10000;
};

class PolicyValueMetric final : public Metric {
 public:
  PolicyValueMetric(const PolicyValueOpts& o, const MetricSetup& s)
      : n_(static_cast<int>(o.requests)) {
    for (std::size_t e = 0; e < s.stage_stats.size(); ++e)
      for (std::size_t k = 0; k < s.stage_stats[e].second.size(); ++k)
        if (s.stage_stats[e].second[k] == "overflow_step") overflow_stats_.emplace_back(e, k);
  }
  std::vector<SeriesInfo> series() const override {
    return {{"policy_value", "reward",
             "mean over evaluation requests of the mean reward over slate positions (greedy "
             "pipeline, sampled rewards); after a training overflow the last good value"},
            {"policy_value_sum", "reward", "as policy_value but the sum over slate positions"},
            {"policy_value_missing", "reward", "policy_value, but NaN after a training overflow"}};
  }
  void observe(const Trace&) override {}
  void record(std::span<double> out, Checkpoint& at) override {
    bool overflowed = false;
    for (auto [e, k] : overflow_stats_) overflowed = overflowed || at.stage_stat(e, k) >= 0;
    if (!overflowed) {
      Rng rng = at.world_key().stream("evaluation", at.index());
      last_ = at.evaluate(n_, rng);
    }
    out[0] = last_.mean_over_positions;
    out[1] = last_.sum_over_positions;
    out[2] = overflowed ? std::numeric_limits<double>::quiet_NaN() : last_.mean_over_positions;
  }
  bool save(StateWriter& w) const override {  // the value kept for after an overflow
    w.put(last_);
    return true;
  }
  void restore(StateReader& r) override { r.get(last_); }

 private:
  int n_;
  std::vector<std::pair<std::size_t, std::size_t>> overflow_stats_;
  PolicyValue last_;
};

}  // namespace

MetricEntry policy_value_metric_entry() {
  OptionGroup<PolicyValueOpts> g;
  g.add("requests", &PolicyValueOpts::requests,
        "evaluation requests (e.g. users) served at every checkpoint", at_least<int64_t>(1));
  return make_entry<MetricBuild>(
      "metric", "policy_value", "value of the greedy pipeline on fresh requests at checkpoints", g,
      [](const PolicyValueOpts& o) {
        MetricBuild b;
        b.make = [o](const MetricSetup& s) { return std::make_unique<PolicyValueMetric>(o, s); };
        b.needs_sampled_requests = true;
        // Every checkpoint serves `requests` fresh requests through the whole pipeline.
        b.cost_per_checkpoint = [o](double per_request) {
          return static_cast<double>(o.requests) * per_request;
        };
        return b;
      },
      {});
}

}  // namespace stagesim
