// The statistics stages report about themselves (training loss, mean inclusion probability,
// overflow step, ...), recorded at every checkpoint as `<stage>_<statistic>`, averaged over the
// replicas of a stage entry.
#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct NoOpts {};

class StageStatsMetric final : public Metric {
 public:
  explicit StageStatsMetric(const MetricSetup& s) {
    for (std::size_t e = 0; e < s.stage_stats.size(); ++e)
      for (std::size_t k = 0; k < s.stage_stats[e].second.size(); ++k) {
        names_.push_back(s.stage_stats[e].first + "_" + s.stage_stats[e].second[k]);
        which_.emplace_back(e, k);
      }
  }
  std::vector<SeriesInfo> series() const override {
    std::vector<SeriesInfo> v;
    for (const std::string& n : names_)
      v.push_back({n, "", "statistic reported by the stage (see `stagesim list`)"});
    return v;
  }
  void observe(const Trace&) override {}
  void record(std::span<double> out, Checkpoint& at) override {
    for (std::size_t i = 0; i < which_.size(); ++i)
      out[i] = at.stage_stat(which_[i].first, which_[i].second);
  }
  bool save(StateWriter&) const override { return true; }  // reads the stages, keeps nothing

 private:
  std::vector<std::string> names_;
  std::vector<std::pair<std::size_t, std::size_t>> which_;
};

}  // namespace

MetricEntry stage_stats_metric_entry() {
  return make_entry<MetricBuild>(
      "metric", "stage_stats", "statistics the stages report (e.g. training loss, overflow step)",
      OptionGroup<NoOpts>{},
      [](const NoOpts&) {
        MetricBuild b;
        b.make = [](const MetricSetup& s) { return std::make_unique<StageStatsMetric>(s); };
        return b;
      },
      {});
}

}  // namespace stagesim
