#pragma once
// The catalogue of worlds, stages, metrics and jobs. Each component lives in its own file with its
// option group and exposes one `*_entry()` function; sim/registry.cpp lists them, one line each.
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/job.hpp"
#include "sim/metric.hpp"
#include "sim/options.hpp"
#include "sim/stage.hpp"
#include "sim/world.hpp"

namespace stagesim {

// Data loaded or built once and shared by every configuration and thread that uses it (e.g. a
// dataset's reward table, a job's per-replication pipeline models). Owned by the Registry (a
// shared_ptr, so that what a parse captures keeps it alive), not global.
class DataCache {
 public:
  // The value for `key`, made by load() on first use. Callers asking for a key being made wait
  // for it; other keys are made in parallel, and load() may itself ask for other keys. A load
  // that throws is not kept: its waiting callers get the exception, the next caller tries again.
  // A key belongs to one type T (the value is cast back to it): start keys with what they hold.
  template <class T, class Load>
  std::shared_ptr<const T> get(const std::string& key, Load load) {
    std::optional<std::promise<std::shared_ptr<const void>>> promise;  // made only on a miss
    std::shared_future<std::shared_ptr<const void>> future;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = items_.find(key);
      if (it == items_.end()) {
        promise.emplace();
        future = promise->get_future().share();
        items_.emplace(key, future);
      } else {
        future = it->second;
      }
    }
    if (promise) {
      try {
        promise->set_value(std::make_shared<const T>(load()));
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          items_.erase(key);
        }
        promise->set_exception(std::current_exception());
      }
    }
    return std::static_pointer_cast<const T>(future.get());
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<std::shared_ptr<const void>>> items_;
};

struct WorldBuild;

// What a component's parser may need besides its own keys.
struct ParseContext {
  std::string data_dir;  // --data-dir: base for relative data paths ("" = current directory)
  // Folder of the experiment file: base for paths that belong to the repository, not to the data
  // (e.g. [world] data_params_file); "" = current directory.
  std::string config_dir;
  std::shared_ptr<DataCache> cache;  // the Registry's; null in parses without one
  // For jobs: the file's [world] table as written and what it builds (nullptr without [world]).
  const toml::table* world_table = nullptr;
  const WorldBuild* world = nullptr;
  // A data path as the user wrote it, resolved against data_dir.
  std::string data_path(const std::string& p) const {
    if (p.empty() || p[0] == '/' || data_dir.empty()) return p;
    return data_dir + "/" + p;
  }
};

struct WorldBuild {
  std::function<std::unique_ptr<World>(const StreamKey&)> make;
  int items = 0;
  int dim = 0;                  // item features per request (0 = none: stages learn from ids)
  int users = 0;                // users with identities (0 = none)
  double cost_per_request = 0;  // rough flops, for scheduling and `stagesim check`
  // Named outcomes per served position, primary first (what learners train on by default).
  std::vector<std::string> objectives = {"reward"};
  bool stateful = false;       // one instance per system; World::observe is called
  bool owns_arrivals = false;  // the world sets each request's time (sessions, return gaps)
  double bytes = 0;            // memory one world instance holds, with its current request
  // Capabilities stages and metrics are checked against before anything runs.
  bool has_tables = false;        // World::tables() gives a users × items q table
  bool samples_requests = false;  // World::sample_request works (offline evaluation)
  int repeat_user = 1;            // each drawn user makes this many consecutive requests
  // Requests (contexts, oracle, noise) depend only on the world's own streams, never on what the
  // systems served, so a copy built from the same streams replays them exactly: configurations
  // sharing this world may then run as separate work units (sim/runner.hpp).
  bool replayable = false;
};

struct StageBuild;

// What a stage's validation hook sees: its place in the pipeline, the world's capabilities and the
// run's shape. `check` runs it for every configuration (so `run` never starts what would fail).
struct StageContext {
  std::string name;                    // entry name, e.g. "esr"
  std::string path;                    // its key path, "stages.esr"
  const toml::table* table = nullptr;  // its table after grid, variant and --set: for locations
  std::vector<std::string> inputs;     // "items" or stage names
  bool whole_pool = false;             // every replica is offered the world's whole item pool
  double candidates = 0;               // at most this many candidates per replica and request
  int keep = 1;
  int replicas = 1;
  int update_every = 1;
  double update_interval = 0;
  // Feature columns each replica sees: one entry when all replicas see as many (the world's dim
  // by default), else one per replica (explicit lists of different lengths).
  std::vector<int> features_seen;
  bool feedback_in_order = true;  // feedback arrives in request order (no random delays)
  std::int64_t horizon = 0;       // requests per replication
  const WorldBuild* world = nullptr;
  // Throws the standard one-line error for `key` of this stage: "FILE:LINE:COL: key
  // 'stages.NAME.KEY' MESSAGE" (located at the key, or at the stage table when it is not set).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;
};

// What a stage's learn() reads of Feedback::request when the feedback is held (delayed or
// batched): the engine then keeps only that much of each request, so held feedback costs O(slate)
// rather than O(items × dim). Index, time, delay draw, user and noise are always kept; the
// expected rewards (`mean`) only with `whole`.
enum class HeldFeatures {  // from most to least kept: a pipeline keeps its stages' minimum
  whole,                   // the request as served (every feature row, the expected rewards)
  served,                  // the feature rows of the served slate's items
  none,                    // no feature rows
};

struct StageBuild {
  std::function<std::unique_ptr<Stage>(const StageSetup&)> make;
  // Rough flops per request for `candidates` items of `dim` features (serving and learning).
  std::function<double(double candidates, double dim)> cost;
  // Extra flops per request for each item the stage keeps (selections and per-slot work that grow
  // with `keep`); empty = none.
  std::function<double(double candidates, double dim)> cost_per_kept;
  // The same as `cost` for an evaluation request (greedy serving, Stage::select_eval: no sampling,
  // no feedback), which metrics such as policy_value serve at checkpoints; empty = `cost`.
  std::function<double(double candidates, double dim)> eval_cost;
  // Memory one replica holds for `candidates` items of `dim` features; empty = a generic guess.
  std::function<double(double candidates, double dim)> bytes;
  // Contradictions with the pipeline or the world (see StageContext); empty = none to check.
  std::function<void(const StageContext&)> validate;
  bool needs_features = true;
  HeldFeatures held_features = HeldFeatures::whole;
  bool needs_users = false;        // learns per-user parameters: the world must have user ids
  bool lookahead = false;          // wants Stage::prepare with the requests before its next update
  std::vector<std::string> stats;  // names of the values Stage::stats() returns
};

struct MetricBuild {
  std::function<std::unique_ptr<Metric>(const MetricSetup&)> make;
  bool wants_scores = false;  // stages should fill Decision::scores (costs a copy per request)
  bool needs_sampled_requests = false;  // evaluates on fresh requests (World::sample_request)
  // Rough flops per checkpoint, given the pipeline's flops per evaluation request (the stages'
  // eval_cost and the world's per-request cost).
  std::function<double(double pipeline_eval_cost_per_request)> cost_per_checkpoint;
};

template <class Build>
struct Entry {
  std::string type;
  std::string help;
  std::vector<ParamInfo> params;
  // Validates the component's own keys of `table` (found at key path `path`), writes the resolved
  // values (defaults filled in) to `resolved` and returns what builds it.
  std::function<Build(const toml::table& table, const std::string& path, toml::table& resolved,
                      const ParseContext& ctx)>
      parse;
};

using WorldEntry = Entry<WorldBuild>;
using StageEntry = Entry<StageBuild>;
using MetricEntry = Entry<MetricBuild>;
using JobEntry = Entry<JobBuild>;  // JobBuild: sim/job.hpp

// Builds an entry from an option group and a function Opts -> Build (or (Opts, ParseContext) ->
// Build, for components that load data). Keys in `skip` belong to the caller (the engine's
// structural stage keys) and are not checked here.
template <class Build, class Opts, class F>
Entry<Build> make_entry(std::string kind, std::string type, std::string help,
                        OptionGroup<Opts> group, F build,
                        std::vector<std::string> skip = {"type"}) {
  Entry<Build> e;
  e.type = type;
  e.help = std::move(help);
  e.params = group.info();
  e.parse = [kind, type, group, build, skip](const toml::table& t, const std::string& path,
                                             toml::table& resolved, const ParseContext& ctx) {
    Opts o = group.parse(t, path, kind + " type '" + type + "'", skip);
    // `build` may take Opts& to fill in defaults that depend on other options; what is written
    // to the resolved configuration is then what runs.
    try {
      Build b = [&] {
        if constexpr (std::is_invocable_v<F, Opts&, const ParseContext&>)
          return build(o, ctx);
        else
          return build(o);
      }();
      group.write(o, resolved);
      return b;
    } catch (const KeyError& k) {
      throw ConfigError(key_source(t, k.key) + ": key '" + path + "." + k.key + "' " + k.what());
    }
  };
  return e;
}

// Keys every stage entry has whatever its type; handled by the engine.
const std::vector<std::string>& structural_stage_keys();

struct Registry {
  std::shared_ptr<DataCache> cache = std::make_shared<DataCache>();
  std::vector<WorldEntry> worlds;
  std::vector<StageEntry> stages;
  std::vector<MetricEntry> metrics;
  std::vector<JobEntry> jobs;

  const WorldEntry* world(const std::string& t) const { return find(worlds, t); }
  const StageEntry* stage(const std::string& t) const { return find(stages, t); }
  const MetricEntry* metric(const std::string& t) const { return find(metrics, t); }
  const JobEntry* job(const std::string& t) const { return find(jobs, t); }

  template <class E>
  static std::vector<std::string> names(const std::vector<E>& v) {
    std::vector<std::string> n;
    for (const E& e : v) n.push_back(e.type);
    return n;
  }

 private:
  template <class E>
  static const E* find(const std::vector<E>& v, const std::string& t) {
    for (const E& e : v)
      if (e.type == t) return &e;
    return nullptr;
  }
};

// Everything stagesim ships with.
Registry builtin_registry();

}  // namespace stagesim
