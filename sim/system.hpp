#pragma once
// One configuration's pipeline, metrics and event calendar for one replication. The runner feeds
// it requests in arrival order; it serves each through the stage DAG, observes metrics, and
// delivers feedback to the stages immediately, after a delay, in batches or on a clock.
#include <memory>
#include <span>
#include <vector>

#include "sim/calendar.hpp"
#include "sim/experiment.hpp"

namespace stagesim {

// What metrics are told about a configuration's pipeline.
MetricSetup metric_setup(const Config& cfg);

class System {
 public:
  // Stage streams come from (master seed, each stage's scope, replication).
  System(const Config& cfg, std::uint64_t seed, std::uint64_t replication, const World& world);
  ~System();

  // Processes calendar events (delayed feedback, clock updates) due at or before time t.
  void advance(double t);
  // Serves one request end to end; `world` gives the outcomes (and, when stateful, observes them).
  // `upcoming`, when given, is this request followed by the ones the caller has already drawn
  // after it, in order (lookahead for stages that batch per-request work; see Stage::prepare).
  void serve(const std::shared_ptr<const Request>& req, World& world,
             std::span<const Request* const> upcoming = {});
  // Requests of lookahead the configuration's stages can use (1 = none): the largest update_every
  // of a stage built with StageBuild::lookahead, at most kMaxLookahead.
  static int lookahead(const Config& cfg);
  static constexpr int kMaxLookahead = 1024;
  // Current value of every series of cfg.series, in that order, at checkpoint `index`.
  void record(std::span<double> out, std::size_t index, const World& world,
              const StreamKey& world_key);
  std::size_t series_count() const;
  // The last served request's slate and its outcomes [position × objective].
  std::span<const int> served() const { return entry_output_.back(); }
  std::span<const double> outcomes() const { return outcomes_; }
  // An outside agent's action for every replica of stage entry `stage` (see Stage::set_action);
  // returns the action length, and throws ConfigError when the stage takes none.
  std::size_t set_action(const std::string& stage, std::span<const double> action);
  std::size_t action_size(const std::string& stage) const;
  // Adds an observer of every served request (e.g. a StageLogRecorder of an offline learner);
  // it must outlive the system.
  void subscribe(TraceSink* sink) { sinks_.push_back(sink); }
  // The metrics' tables for the replication, laid out as `layout` (the experiment's union of
  // tables): columns a configuration lacks are empty rows of NaN, narrower ones padded with NaN.
  std::vector<TableData> take_tables(const std::vector<TableInfo>& layout);
  // Task checkpoints: every stage's random stream and learned state, then every metric's totals.
  // Returns false (and the bytes written are to be dropped) when something cannot be saved now:
  // feedback is outstanding (delayed, batched but not yet learned, a clock update scheduled) or a
  // stage or metric does not implement save. restore reads them into a freshly built system of
  // the same configuration; throws std::runtime_error when the bytes do not fit.
  bool save(StateWriter& out) const;
  void restore(StateReader& in);

 private:
  struct Instance;
  struct Record;
  class At;
  // Runs the stage DAG on `req`; the served slate is entry_output_.back(). In evaluation mode the
  // stages use select_eval and `eval_rng` (their own streams stay untouched).
  void run_pipeline(const Request& req, Rng* eval_rng);
  void deliver(const std::shared_ptr<Record>& rec);
  std::span<const int> candidates_of(const Instance& inst, const Record* rec, std::size_t i) const;
  void learn_buffered(Instance& inst);

  const Config& cfg_;
  int items_;
  std::size_t objectives_;
  std::vector<Instance> inst_;
  std::vector<std::vector<int>> entry_instances_;  // entry -> instance indices
  std::vector<std::vector<int>> entry_output_;
  std::vector<std::vector<int>> entry_inputs_;  // entry -> input entries (-1 = item pool)
  std::vector<std::vector<int>> level_entries_, level_outputs_;
  std::vector<int> all_items_, union_, served_;
  std::vector<double> rewards_, outcomes_;
  std::vector<StageView> views_;
  std::vector<TraceSink*> sinks_;
  std::vector<unsigned> stamp_;
  unsigned stamp_now_ = 0;
  bool immediate_;     // no delay, no batching: feedback is learned from before the next request
  HeldFeatures hold_;  // what held feedback keeps of its request: the most any stage reads
  std::vector<int> held_rows_;
  Calendar calendar_;
  std::shared_ptr<Record> free_record();
  void release_if_done(const std::shared_ptr<Record>& rec, long extra);
  std::vector<std::shared_ptr<Record>> record_pool_;  // every record made; reused when free
  std::size_t record_cursor_ = 0;
  std::vector<std::shared_ptr<Record>> pending_;  // slot -> record in flight
  std::vector<std::size_t> free_slots_;
  Request eval_request_;
  std::span<const Request* const> upcoming_;  // while serving: the request and those after it
  std::vector<std::unique_ptr<Metric>> metrics_;
  std::vector<std::size_t> metric_offset_;
};

}  // namespace stagesim
