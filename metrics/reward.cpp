// Cumulative realised reward of the served slates.
#include "sim/registry.hpp"

namespace stagesim {

namespace {
struct NoOpts {};

class RewardMetric final : public Metric {
 public:
  std::vector<SeriesInfo> series() const override {
    return {{"reward", "reward", "cumulative realised reward of the served slates"}};
  }
  void observe(const Trace& t) override {
    for (double r : t.rewards) total_ += r;
  }
  void record(std::span<double> out, Checkpoint&) override { out[0] = total_; }

 private:
  double total_ = 0;
};
}  // namespace

MetricEntry reward_metric_entry() {
  return make_entry<MetricBuild>(
      "metric", "reward", "cumulative realised reward", OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        MetricBuild b;
        b.make = [](const MetricSetup&) { return std::make_unique<RewardMetric>(); };
        return b;
      },
      {});
}

}  // namespace stagesim
