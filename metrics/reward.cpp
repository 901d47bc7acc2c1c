// Cumulative realised outcome of the served slates: the world's primary objective ("reward"), or
// any objective it declares by name, or all of them.
#include <algorithm>

#include "sim/registry.hpp"

namespace stagesim {

namespace {
struct RewardOpts {
  std::string objective;  // "" = the primary objective; a name; or "all"
};

class RewardMetric final : public Metric {
 public:
  RewardMetric(const RewardOpts& o, const MetricSetup& s) : m_(s.objectives.size()) {
    const auto& objs = s.objectives;
    if (o.objective == "all") {
      for (std::size_t j = 0; j < m_; ++j) columns_.push_back(j);
    } else if (o.objective.empty()) {
      columns_.push_back(0);
    } else {
      auto it = std::find(objs.begin(), objs.end(), o.objective);
      if (it == objs.end())
        throw ConfigError("key 'metrics.reward.objective': the world has no objective '" +
                          o.objective + "'; its objectives: " + join_words(objs) + ", or \"all\"");
      columns_.push_back(static_cast<std::size_t>(it - objs.begin()));
    }
    for (std::size_t j : columns_) {
      // The primary objective keeps the historical series name.
      std::string name = j == 0 ? "reward" : "reward_" + objs[j];
      series_.push_back({name, objs[j],
                         "cumulative realised " + objs[j] + " of the served slates" +
                             (j == 0 ? " (the world's primary objective)" : "")});
    }
    totals_.assign(columns_.size(), 0.0);
  }
  std::vector<SeriesInfo> series() const override { return series_; }
  void observe(const Trace& t) override {
    if (columns_.size() == 1 && columns_[0] == 0) {
      for (double r : t.rewards) totals_[0] += r;
      return;
    }
    const std::size_t L = t.served.size();
    for (std::size_t c = 0; c < columns_.size(); ++c)
      for (std::size_t l = 0; l < L; ++l) totals_[c] += t.outcomes[l * m_ + columns_[c]];
  }
  void record(std::span<double> out, Checkpoint&) override {
    std::copy(totals_.begin(), totals_.end(), out.begin());
  }
  bool save(StateWriter& w) const override {
    w.put(totals_);
    return true;
  }
  void restore(StateReader& r) override { r.get(totals_); }

 private:
  std::size_t m_;
  std::vector<std::size_t> columns_;
  std::vector<SeriesInfo> series_;
  std::vector<double> totals_;
};
}  // namespace

MetricEntry reward_metric_entry() {
  OptionGroup<RewardOpts> g;
  g.add("objective", &RewardOpts::objective,
        "which outcome to accumulate: \"\" = the world's primary objective, an objective's name "
        "(series reward_<name>), or \"all\"");
  return make_entry<MetricBuild>(
      "metric", "reward", "cumulative realised reward (or any objective the world declares)", g,
      [](const RewardOpts& o) {
        MetricBuild b;
        b.make = [o](const MetricSetup& s) { return std::make_unique<RewardMetric>(o, s); };
        return b;
      },
      {});
}

}  // namespace stagesim
