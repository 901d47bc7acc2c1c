// The stage log as a metric: every (or every n-th) request's candidates with how deep they got,
// their position and score at each stage, exposure and outcomes, written as /tables/stage_log
// (one 1-D dataset per column; see the README's output table).
#include "sim/stage_log.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct StageLogOpts {
  int64_t every = 1;
  int64_t requests = 0;
  bool scores = true;
};

class StageLogMetric final : public Metric {
 public:
  StageLogMetric(const StageLogOpts& o, const MetricSetup& s)
      : rec_(s, o.every, o.requests), scores_(o.scores) {}

  std::vector<SeriesInfo> series() const override {
    return {{"stage_log_rows", "rows", "rows written to the stage log so far"}};
  }
  void observe(const Trace& t) override { rec_.observe(t); }
  void record(std::span<double> out, Checkpoint&) override {
    out[0] = static_cast<double>(rec_.log.rows());
  }

  std::vector<TableInfo> tables() const override {
    TableInfo t;
    t.name = "stage_log";
    t.description =
        "one row per (logged request, candidate of the first layer); reached = 1 + the deepest "
        "layer whose candidates included the item";
    t.columns = {{"request", "request", "0-based request number in the replication", 1, true, {}},
                 {"user", "id", "user id (-1 for worlds without users)", 1, true, {}},
                 {"item", "id", "item id", 1, true, {}},
                 {"reached", "layer", "1 + deepest layer that was offered the item", 1, true, {}},
                 {"exposed", "flag", "1 if the item was in the served slate", 1, true, {}}};
    for (const std::string& st : rec_.log.stages)
      t.columns.push_back({"position_" + st,
                           "position",
                           "position in stage '" + st + "' output (-1: not kept or not offered)",
                           1,
                           true,
                           {}});
    if (scores_)
      for (const std::string& st : rec_.log.stages)
        t.columns.push_back({"score_" + st,
                             "score",
                             "stage '" + st +
                                 "' score of the item (NaN: not offered or the stage "
                                 "reports no scores)",
                             1,
                             false,
                             {}});
    for (const std::string& o : rec_.log.objectives)
      t.columns.push_back(
          {"outcome_" + o, o, "realised " + o + " if exposed, NaN otherwise", 1, false, {}});
    return {t};
  }

  void take_tables(std::vector<TableData>& out) override {
    const StageLog& g = rec_.log;
    const std::size_t n = g.rows(), S = g.stages.size(), m = g.objectives.size();
    TableData d;
    d.rows = n;
    auto ints = [&](const auto& v) { return std::vector<double>(v.begin(), v.end()); };
    d.columns.push_back(ints(g.request));
    d.columns.push_back(ints(g.user));
    d.columns.push_back(ints(g.item));
    d.columns.push_back(ints(g.reached));
    d.columns.push_back(ints(g.exposed));
    auto strided = [&](const auto& v, std::size_t width, std::size_t k) {
      std::vector<double> c(n);
      for (std::size_t r = 0; r < n; ++r) c[r] = static_cast<double>(v[r * width + k]);
      return c;
    };
    for (std::size_t e = 0; e < S; ++e) d.columns.push_back(strided(g.position, S, e));
    if (scores_)
      for (std::size_t e = 0; e < S; ++e) d.columns.push_back(strided(g.score, S, e));
    for (std::size_t j = 0; j < m; ++j) d.columns.push_back(strided(g.outcome, m, j));
    out.push_back(std::move(d));
  }

 private:
  StageLogRecorder rec_;
  bool scores_;
};

}  // namespace

MetricEntry stage_log_metric_entry() {
  OptionGroup<StageLogOpts> g;
  g.add("every", &StageLogOpts::every, "log every n-th request", at_least<int64_t>(1))
      .add("requests", &StageLogOpts::requests, "log at most this many requests (0 = no limit)",
           at_least<int64_t>(0))
      .add("scores", &StageLogOpts::scores,
           "record each stage's scores (stages report them only when asked; costs a copy per "
           "request)");
  return make_entry<MetricBuild>(
      "metric", "stage_log",
      "per-request log of every candidate: deepest layer, position/score per stage, exposure, "
      "outcomes (/tables/stage_log)",
      g,
      [](const StageLogOpts& o) {
        MetricBuild b;
        b.make = [o](const MetricSetup& s) { return std::make_unique<StageLogMetric>(o, s); };
        b.wants_scores = o.scores;
        return b;
      },
      {});
}

}  // namespace stagesim
