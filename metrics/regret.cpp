// Cumulative pseudo-regret (by expected rewards) and its per-layer decomposition. With layers
// 0..n-1 from the item pool to the user and O_l the union of what layer l passed on (O_-1 = all
// items, O_last = the served slate):
//   regret_<layer l> = Σ_t [top_L(O_{l-1}) − top_L(O_l)],   regret = Σ_layers = Σ_t [top_L(all) −
//   value(served)]
// For a nominator/ranker system this is R^N + R^R of the two-stage spec §5 exactly.
#include "metrics/slate_value.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct RegretOpts {
  bool decompose = true;
  bool random_baseline = true;
};

class RegretMetric final : public Metric {
 public:
  RegretMetric(const RegretOpts& o, const MetricSetup& s)
      : opts_(o), levels_(s.level_names), slate_(s.slate), per_level_(s.level_names.size(), 0.0) {}

  std::vector<SeriesInfo> series() const override {
    std::vector<SeriesInfo> v;
    v.push_back({"regret", "expected reward",
                 "cumulative pseudo-regret: best possible slate value minus served slate value, "
                 "by expected rewards"});
    if (opts_.decompose && levels_.size() > 1)
      for (const std::string& l : levels_)
        v.push_back({"regret_" + l, "expected reward",
                     "cumulative regret attributable to layer '" + l +
                         "': best value it was offered minus best value it passed on"});
    if (opts_.random_baseline)
      v.push_back({"random_regret", "expected reward",
                   "cumulative regret a uniformly random slate would have had on the same "
                   "requests (exact, by expected rewards)"});
    return v;
  }

  void observe(const Trace& t) override {
    const auto& mean = t.request->mean;
    const double best = top_sum_all(mean, slate_, scratch_);
    double served = 0;
    for (int a : t.served) served += mean[a];
    total_ += best - served;
    if (opts_.decompose && levels_.size() > 1) {
      double prev = best;
      const size_t n = t.level_outputs.size();
      for (size_t l = 0; l < n; ++l) {
        const double v = l + 1 == n ? served : top_sum(mean, t.level_outputs[l], slate_, scratch_);
        per_level_[l] += prev - v;
        prev = v;
      }
    }
    if (opts_.random_baseline) random_ += best - slate_ * mean.mean();
  }

  void record(std::span<double> out, Checkpoint&) override {
    size_t i = 0;
    out[i++] = total_;
    if (opts_.decompose && levels_.size() > 1)
      for (double v : per_level_) out[i++] = v;
    if (opts_.random_baseline) out[i++] = random_;
  }
  bool save(StateWriter& w) const override {
    w.put(total_);
    w.put(random_);
    w.put(per_level_);
    return true;
  }
  void restore(StateReader& r) override {
    r.get(total_);
    r.get(random_);
    r.get(per_level_);
  }

 private:
  RegretOpts opts_;
  std::vector<std::string> levels_;
  int slate_;
  double total_ = 0, random_ = 0;
  std::vector<double> per_level_, scratch_;
};

}  // namespace

MetricEntry regret_metric_entry() {
  OptionGroup<RegretOpts> g;
  g.add("decompose", &RegretOpts::decompose,
        "also record each pipeline layer's share (e.g. nominator and ranker regret)")
      .add("random_baseline", &RegretOpts::random_baseline,
           "also record the exact regret of a uniformly random slate on the same requests");
  return make_entry<MetricBuild>(
      "metric", "regret", "cumulative pseudo-regret and its per-layer decomposition", g,
      [](const RegretOpts& o) {
        MetricBuild b;
        b.make = [o](const MetricSetup& s) { return std::make_unique<RegretMetric>(o, s); };
        return b;
      },
      {});
}

}  // namespace stagesim
