#include "sim/system.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

#include "sim/errors.hpp"
#include "sim/select.hpp"

namespace stagesim {

struct System::Instance {
  int entry = 0;
  int replica = 0;
  std::unique_ptr<Stage> stage;
  Rng rng;                        // the stage's own randomness (tie-breaks, sampling)
  std::vector<char> in_pool;      // membership bitmap; empty = every item
  std::vector<int> static_cands;  // candidates when the input is the item pool
  bool static_input = false;
  std::vector<int> cands;
  Decision decision;
  std::vector<double> weights;
  std::vector<double> train_rewards;  // scalarised outcomes, when the stage has its own objective
  std::vector<Feedback> buffer;       // feedback waiting for the next update
  std::vector<std::shared_ptr<Record>> held;  // keeps the buffered feedback's data alive
};

// Everything a delayed or batched feedback needs after the request has been served.
struct System::Record {
  // The request as served when some stage reads all of it at learn (HeldFeatures::whole), else
  // empty and `held` is the part the stages read (Request::hold_from).
  std::shared_ptr<const Request> request;
  Request held;
  const Request* view() const { return request ? request.get() : &held; }
  std::vector<int> served;
  std::vector<double> rewards, outcomes;
  std::vector<std::vector<int>> cands;  // per instance (empty when static)
  std::vector<Decision> decisions;      // per instance
  std::vector<std::vector<double>> weights, train_rewards;
};

MetricSetup metric_setup(const Config& cfg) {
  MetricSetup ms;
  ms.level_names = cfg.level_names;
  ms.slate = cfg.slate;
  for (const StageSpec& s : cfg.stages) {
    ms.stage_stats.emplace_back(s.name, s.build.stats);
    ms.stage_keep.push_back(s.keep);
    ms.stage_names.push_back(s.name);
  }
  ms.stage_level = cfg.stage_level;
  ms.items = cfg.world.items;
  ms.objectives = cfg.world.objectives;
  return ms;
}

System::System(const Config& cfg, std::uint64_t seed, std::uint64_t replication, const World& world)
    : cfg_(cfg),
      items_(world.num_items()),
      objectives_(cfg.world.objectives.size()),
      stamp_(world.num_items(), 0) {
  const int world_dim = world.dim();
  all_items_.resize(items_);
  std::iota(all_items_.begin(), all_items_.end(), 0);
  const int n_entries = static_cast<int>(cfg.stages.size());
  std::map<std::string, int> index;
  for (int e = 0; e < n_entries; ++e) index[cfg.stages[e].name] = e;
  entry_instances_.resize(n_entries);
  entry_output_.resize(n_entries);
  entry_inputs_.resize(n_entries);
  level_entries_.resize(cfg.level_names.size());
  level_outputs_.resize(cfg.level_names.size());
  immediate_ = cfg.delay == DelayModel::none;
  hold_ = HeldFeatures::none;
  for (const StageSpec& s : cfg.stages) hold_ = std::min(hold_, s.build.held_features);
  for (int e = 0; e < n_entries; ++e) {
    const StageSpec& s = cfg.stages[e];
    const StreamKey key{seed, s.scope, replication};
    level_entries_[cfg.stage_level[e]].push_back(e);
    for (const std::string& in : s.inputs)
      entry_inputs_[e].push_back(in == "items" ? -1 : index[in]);
    const bool static_input = s.inputs.size() == 1 && s.inputs[0] == "items";
    if (s.update_every != 1 || s.update_interval > 0) immediate_ = false;
    // Pools: drawn from the system's stream, so systems differ only through their own choices.
    std::vector<std::vector<int>> pools;
    if (s.pools == PoolMode::round_robin) {
      Rng prng = key.stream("pools:" + s.name);
      std::vector<int> perm = all_items_;
      for (int i = items_ - 1; i > 0; --i) std::swap(perm[i], perm[uniform_index(prng, i + 1)]);
      pools.resize(s.replicas);
      for (int i = 0; i < std::max(items_, s.replicas); ++i)
        pools[i % s.replicas].push_back(perm[i % items_]);
    } else if (s.pools == PoolMode::explicit_list) {
      pools = s.explicit_pools;
    }
    for (auto& p : pools) {
      std::sort(p.begin(), p.end());
      p.erase(std::unique(p.begin(), p.end()), p.end());
    }
    for (int r = 0; r < s.replicas; ++r) {
      Instance inst;
      inst.entry = e;
      inst.replica = r;
      inst.rng = key.stream("stage:" + s.name, r);
      inst.static_input = static_input;
      if (!pools.empty()) {
        inst.in_pool.assign(items_, 0);
        for (int a : pools[r]) inst.in_pool[a] = 1;
        if (static_input) inst.static_cands = pools[r];
      } else if (static_input) {
        inst.static_cands = all_items_;
      }
      StageSetup setup;
      setup.num_items = items_;
      setup.world_dim = world_dim;
      setup.replica = r;
      setup.keep = s.keep;
      setup.world = &world;
      for (const MetricSpec& m : cfg.metrics) setup.report_scores |= m.build.wants_scores;
      if (s.feature_count > 0) {
        Rng frng = key.stream("features:" + s.name, r);
        std::vector<int> scratch;
        uniform_sample(world_dim, s.feature_count, frng, setup.features, scratch);
        std::sort(setup.features.begin(), setup.features.end());
      } else if (!s.explicit_features.empty()) {
        setup.features = s.explicit_features[s.explicit_features.size() == 1 ? 0 : r];
      }
      Rng init = key.stream("init:" + s.name, r);
      setup.init_rng = &init;
      inst.stage = s.build.make(setup);
      entry_instances_[e].push_back(static_cast<int>(inst_.size()));
      inst_.push_back(std::move(inst));
    }
    if (s.update_interval > 0)
      calendar_.push(s.update_interval, EventKind::clock_update, static_cast<std::size_t>(e));
  }
  MetricSetup ms = metric_setup(cfg);
  std::size_t offset = 0;
  for (const MetricSpec& m : cfg.metrics) {
    metrics_.push_back(m.build.make(ms));
    metric_offset_.push_back(offset);
    offset += metrics_.back()->series().size();
  }
  metric_offset_.push_back(offset);
  views_.resize(inst_.size());
  for (std::size_t i = 0; i < inst_.size(); ++i) {
    views_[i].entry = inst_[i].entry;
    views_[i].replica = inst_[i].replica;
    views_[i].decision = &inst_[i].decision;
  }
}

System::~System() = default;

std::vector<TableData> System::take_tables(const std::vector<TableInfo>& layout) {
  std::vector<TableData> out(layout.size());
  for (std::size_t t = 0; t < layout.size(); ++t) out[t].columns.resize(layout[t].columns.size());
  for (auto& m : metrics_) {
    const std::vector<TableInfo> info = m->tables();
    if (info.empty()) continue;
    std::vector<TableData> got;
    m->take_tables(got);
    for (std::size_t t = 0; t < info.size() && t < got.size(); ++t) {
      std::size_t target = 0;
      while (layout[target].name != info[t].name) ++target;
      TableData& dst = out[target];
      const TableInfo& li = layout[target];
      dst.rows = got[t].rows;
      dst.columns.assign(li.columns.size(), {});
      for (std::size_t c = 0; c < li.columns.size(); ++c) {
        const std::size_t w = li.columns[c].width;
        std::size_t src = 0;
        while (src < info[t].columns.size() && info[t].columns[src].name != li.columns[c].name)
          ++src;
        if (src == info[t].columns.size()) {
          dst.columns[c].assign(dst.rows * w, std::numeric_limits<double>::quiet_NaN());
        } else if (info[t].columns[src].width == w) {
          dst.columns[c] = std::move(got[t].columns[src]);
        } else {
          const std::size_t sw = info[t].columns[src].width;
          dst.columns[c].assign(dst.rows * w, std::numeric_limits<double>::quiet_NaN());
          for (std::size_t r = 0; r < dst.rows; ++r)
            for (std::size_t k = 0; k < sw; ++k)
              dst.columns[c][r * w + k] = got[t].columns[src][r * sw + k];
        }
      }
    }
  }
  return out;
}

std::size_t System::series_count() const {
  return metric_offset_.back();
}

std::size_t System::action_size(const std::string& stage) const {
  bool found = false;
  for (const Instance& inst : inst_) {
    const StageSpec& spec = cfg_.stages[inst.entry];
    if (spec.name != stage) continue;
    found = true;
    if (inst.stage->action_size() == 0)
      throw ConfigError("stage '" + stage + "' (type '" + spec.type +
                        "') takes no action from outside; give the stage an agent drives "
                        "type = \"external\"");
    return inst.stage->action_size();
  }
  if (!found) {
    std::vector<std::string> names;
    for (const StageSpec& spec : cfg_.stages) names.push_back("'" + spec.name + "'");
    throw ConfigError("no stage '" + stage +
                      "' in this configuration (stages: " + join_words(names) + ")");
  }
  return 0;
}

std::size_t System::set_action(const std::string& stage, std::span<const double> action) {
  const std::size_t n = action_size(stage);
  for (Instance& inst : inst_)
    if (cfg_.stages[inst.entry].name == stage) inst.stage->set_action(action);
  return n;
}

void System::run_pipeline(const Request& req, Rng* eval_rng) {
  const int n_entries = static_cast<int>(cfg_.stages.size());
  for (int e = 0; e < n_entries; ++e) {
    const StageSpec& s = cfg_.stages[e];
    // Union of the inputs' outputs, in input order, duplicates collapsed.
    const bool from_pool = entry_inputs_[e].size() == 1 && entry_inputs_[e][0] < 0;
    if (!from_pool) {
      ++stamp_now_;
      union_.clear();
      for (int in : entry_inputs_[e]) {
        const std::vector<int>& src = in < 0 ? all_items_ : entry_output_[in];
        for (int a : src)
          if (stamp_[a] != stamp_now_) {
            stamp_[a] = stamp_now_;
            union_.push_back(a);
          }
      }
    }
    for (int i : entry_instances_[e]) {
      Instance& inst = inst_[i];
      std::span<const int> cands;
      if (inst.static_input) {
        cands = inst.static_cands;
      } else {
        inst.cands.clear();
        for (int a : union_)
          if (inst.in_pool.empty() || inst.in_pool[a]) inst.cands.push_back(a);
        cands = inst.cands;
      }
      inst.decision.clear();
      const int keep = std::min<int>(s.keep, static_cast<int>(cands.size()));
      if (keep <= 0) continue;
      if (eval_rng) {
        inst.stage->select_eval(req, cands, keep, *eval_rng, inst.decision);
        continue;
      }
      if (s.build.lookahead && !upcoming_.empty()) {
        // The requests served before this instance's next update: exactly the rest of its batch
        // when feedback is immediate and counted, else (delays, clock) about one batch; a wrong
        // guess only costs the stage work, never a different decision.
        std::size_t n = static_cast<std::size_t>(std::max(1, s.update_every));
        if (cfg_.delay == DelayModel::none && s.update_interval <= 0)
          n -= std::min(n - 1, inst.buffer.size());
        inst.stage->prepare(upcoming_.first(std::min(n, upcoming_.size())));
      }
      inst.stage->select(req, cands, keep, inst.rng, inst.decision);
    }
    // The entry's output: its replicas' selections, duplicates collapsed.
    ++stamp_now_;
    std::vector<int>& out = entry_output_[e];
    out.clear();
    for (int i : entry_instances_[e])
      for (int a : inst_[i].decision.ids)
        if (stamp_[a] != stamp_now_) {
          stamp_[a] = stamp_now_;
          out.push_back(a);
        }
  }
}

int System::lookahead(const Config& cfg) {
  if (cfg.world.stateful) return 1;  // the world's next request depends on this one's outcome
  int n = 1;
  for (const StageSpec& s : cfg.stages)
    if (s.build.lookahead) n = std::max(n, std::min(s.update_every, kMaxLookahead));
  return n;
}

void System::serve(const std::shared_ptr<const Request>& req_ptr, World& world,
                   std::span<const Request* const> upcoming) {
  const Request& req = *req_ptr;
  if (!upcoming.empty() && upcoming[0] != &req)
    throw std::logic_error("System::serve: upcoming must start with the request served");
  upcoming_ = upcoming;
  run_pipeline(req, nullptr);
  upcoming_ = {};
  const std::vector<int>& served = entry_output_.back();
  const std::size_t L = served.size(), m = objectives_;
  // Outcomes per position × objective; the primary objective is what metrics call rewards.
  outcomes_.resize(L * m);
  world.outcomes(req, served, outcomes_);
  if (cfg_.world.stateful) world.observe(req, served, outcomes_);
  rewards_.resize(L);
  for (std::size_t l = 0; l < L; ++l) rewards_[l] = outcomes_[l * m];
  for (std::size_t l = 0; l < level_entries_.size(); ++l) {
    std::vector<int>& lo = level_outputs_[l];
    if (level_entries_[l].size() == 1) {
      lo = entry_output_[level_entries_[l][0]];
      continue;
    }
    ++stamp_now_;
    lo.clear();
    for (int e : level_entries_[l])
      for (int a : entry_output_[e])
        if (stamp_[a] != stamp_now_) {
          stamp_[a] = stamp_now_;
          lo.push_back(a);
        }
  }
  for (std::size_t i = 0; i < inst_.size(); ++i)
    views_[i].candidates = candidates_of(inst_[i], nullptr, i);
  Trace trace;
  trace.request = &req;
  trace.level_outputs = level_outputs_;
  trace.level_names = cfg_.level_names;
  trace.served = served;
  trace.rewards = rewards_;
  trace.outcomes = outcomes_;
  trace.objectives = cfg_.world.objectives;
  trace.stages = views_;
  trace.events = world.events();
  for (auto& m : metrics_) m->observe(trace);
  for (TraceSink* sink : sinks_) sink->observe(trace);

  // Training weights per served position (train_on) and each stage's scalarised outcomes.
  for (Instance& inst : inst_) {
    const StageSpec& spec = cfg_.stages[inst.entry];
    const TrainOn mode = spec.train_on;
    inst.weights.resize(L);
    const std::vector<int>& sel = inst.decision.ids;
    for (std::size_t l = 0; l < L; ++l) {
      const int a = served[l];
      double w = 1.0;
      if (mode == TrainOn::own_pool && !inst.in_pool.empty()) w = inst.in_pool[a] ? 1.0 : 0.0;
      if (mode == TrainOn::own_nominee)
        w = std::find(sel.begin(), sel.end(), a) != sel.end() ? 1.0 : 0.0;
      inst.weights[l] = w;
    }
    if (!spec.objective_weights.empty()) {
      inst.train_rewards.assign(L, 0.0);
      for (std::size_t l = 0; l < L; ++l)
        for (std::size_t j = 0; j < m; ++j)
          inst.train_rewards[l] += spec.objective_weights[j] * outcomes_[l * m + j];
    }
  }
  if (immediate_) {
    // The textbook loop: every stage learns from this request before the next one arrives.
    for (std::size_t i = 0; i < inst_.size(); ++i) {
      Instance& inst = inst_[i];
      Feedback fb;
      fb.request = &req;
      fb.candidates = views_[i].candidates;
      fb.decision = &inst.decision;
      fb.selected = inst.decision.ids;
      fb.served = served;
      fb.rewards = cfg_.stages[inst.entry].objective_weights.empty()
                       ? std::span<const double>(rewards_)
                       : std::span<const double>(inst.train_rewards);
      fb.weights = inst.weights;
      fb.outcomes = outcomes_;
      fb.objectives = cfg_.world.objectives;
      inst.stage->learn({&fb, 1});
    }
    return;
  }
  std::shared_ptr<Record> rec = free_record();
  if (hold_ == HeldFeatures::whole) {
    rec->request = req_ptr;
  } else {
    // Only what the stages read at learn: the slate's feature rows at most, so a long delay holds
    // O(slate) per request rather than the whole items × dim matrix.
    held_rows_.clear();
    if (hold_ == HeldFeatures::served && req.features.size() > 0) {
      held_rows_.assign(served.begin(), served.end());
      std::sort(held_rows_.begin(), held_rows_.end());
      held_rows_.erase(std::unique(held_rows_.begin(), held_rows_.end()), held_rows_.end());
    }
    rec->held.hold_from(req, held_rows_);
  }
  rec->served = served;
  rec->rewards = rewards_;
  rec->outcomes = outcomes_;
  rec->cands.resize(inst_.size());
  rec->decisions.resize(inst_.size());
  rec->weights.resize(inst_.size());
  rec->train_rewards.resize(inst_.size());
  for (std::size_t i = 0; i < inst_.size(); ++i) {
    if (!inst_[i].static_input) rec->cands[i] = inst_[i].cands;
    rec->decisions[i] = inst_[i].decision;
    rec->weights[i] = inst_[i].weights;
    if (!cfg_.stages[inst_[i].entry].objective_weights.empty())
      rec->train_rewards[i] = inst_[i].train_rewards;
  }
  if (cfg_.delay == DelayModel::none) {
    deliver(rec);
    release_if_done(rec, 1);
    return;
  }
  const double delay =
      cfg_.delay == DelayModel::fixed ? cfg_.delay_mean : cfg_.delay_mean * req.delay_draw;
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    pending_[slot] = std::move(rec);
  } else {
    slot = pending_.size();
    pending_.push_back(std::move(rec));
  }
  calendar_.push(req.time + delay, EventKind::feedback, slot);
}

// Records are reused once delivered and learned from (no per-request allocation in the steady
// state): every field is overwritten, or, for the per-instance ones that stay empty (static
// candidates, no own objective), never written.
std::shared_ptr<System::Record> System::free_record() {
  for (std::size_t k = 0; k < record_pool_.size(); ++k) {
    const std::size_t j = (record_cursor_ + k) % record_pool_.size();
    if (record_pool_[j].use_count() == 1) {
      record_cursor_ = j + 1;
      return record_pool_[j];
    }
  }
  record_pool_.push_back(std::make_shared<Record>());
  record_cursor_ = 0;
  return record_pool_.back();
}

// A record nothing refers to any more (besides the pool and `extra` local references) lets go of
// its request and the stages' decision state, so their own pools can reuse them.
void System::release_if_done(const std::shared_ptr<Record>& rec, long extra) {
  if (rec.use_count() != 1 + extra) return;
  rec->request.reset();
  for (Decision& d : rec->decisions) d.state.reset();
}

std::span<const int> System::candidates_of(const Instance& inst, const Record* rec,
                                           std::size_t i) const {
  if (inst.static_input) return inst.static_cands;
  return rec ? std::span<const int>(rec->cands[i]) : std::span<const int>(inst.cands);
}

void System::deliver(const std::shared_ptr<Record>& rec) {
  for (std::size_t i = 0; i < inst_.size(); ++i) {
    Instance& inst = inst_[i];
    const StageSpec& s = cfg_.stages[inst.entry];
    Feedback fb;
    fb.request = rec->view();
    fb.candidates = candidates_of(inst, rec.get(), i);
    fb.decision = &rec->decisions[i];
    fb.selected = rec->decisions[i].ids;
    fb.served = rec->served;
    fb.rewards = s.objective_weights.empty() ? std::span<const double>(rec->rewards)
                                             : std::span<const double>(rec->train_rewards[i]);
    fb.weights = rec->weights[i];
    fb.outcomes = rec->outcomes;
    fb.objectives = cfg_.world.objectives;
    if (s.update_every == 1 && s.update_interval <= 0) {
      inst.stage->learn({&fb, 1});
      continue;
    }
    inst.buffer.push_back(fb);
    inst.held.push_back(rec);
    if (s.update_interval <= 0 && static_cast<int>(inst.buffer.size()) >= s.update_every)
      learn_buffered(inst);
  }
}

void System::learn_buffered(Instance& inst) {
  if (inst.buffer.empty()) return;
  inst.stage->learn(inst.buffer);
  inst.buffer.clear();
  for (std::shared_ptr<Record>& rec : inst.held) {
    std::shared_ptr<Record> done = std::move(rec);
    release_if_done(done, 1);
  }
  inst.held.clear();
}

void System::advance(double t) {
  Event ev;
  while (calendar_.pop_until(t, ev)) {
    if (ev.kind == EventKind::feedback) {
      std::shared_ptr<Record> rec = std::move(pending_[ev.index]);
      free_slots_.push_back(ev.index);
      deliver(rec);
      release_if_done(rec, 1);
    } else {
      const int e = static_cast<int>(ev.index);
      for (int i : entry_instances_[e]) learn_buffered(inst_[i]);
      const double next = ev.time + cfg_.stages[e].update_interval;
      // `check` refuses intervals that cannot advance the clock at the last arrival it foresees;
      // a world that sets its own arrival times can go further: fail rather than loop forever.
      if (!(next > ev.time))
        throw std::runtime_error("stages." + cfg_.stages[e].name + ".update_interval = " +
                                 std::to_string(cfg_.stages[e].update_interval) +
                                 " no longer advances the clock at time " +
                                 std::to_string(ev.time) + "; use a larger interval");
      calendar_.push(next, EventKind::clock_update, ev.index);
    }
  }
}

// The checkpoint context handed to metrics.
class System::At final : public Checkpoint {
 public:
  At(System& sys, std::size_t index, const World& world, const StreamKey& key)
      : sys_(sys), index_(index), world_(world), key_(key) {}
  std::size_t index() const override { return index_; }
  const StreamKey& world_key() const override { return key_; }
  double stage_stat(std::size_t stage, std::size_t stat) const override {
    double sum = 0;
    const auto& ids = sys_.entry_instances_[stage];
    for (int i : ids) sum += sys_.inst_[i].stage->stats().at(stat);
    return sum / static_cast<double>(ids.size());
  }
  PolicyValue evaluate(int n, Rng& rng) override {
    PolicyValue v;
    Request& req = sys_.eval_request_;
    for (int u = 0; u < n; ++u) {
      if (!world_.sample_request(req, sys_.cfg_.slate, rng))
        throw ConfigError("world type '" + sys_.cfg_.world_type +
                          "' cannot draw evaluation requests; remove the policy_value metric or "
                          "use a world that supports it");
      sys_.run_pipeline(req, &rng);
      const std::vector<int>& served = sys_.entry_output_.back();
      double sum = 0;
      for (std::size_t l = 0; l < served.size(); ++l)
        sum += world_.reward(req, served[l], static_cast<int>(l));
      v.sum_over_positions += sum;
      v.mean_over_positions += served.empty() ? 0.0 : sum / static_cast<double>(served.size());
    }
    v.sum_over_positions /= n;
    v.mean_over_positions /= n;
    return v;
  }

 private:
  System& sys_;
  std::size_t index_;
  const World& world_;
  const StreamKey& key_;
};

void System::record(std::span<double> out, std::size_t index, const World& world,
                    const StreamKey& world_key) {
  At at(*this, index, world, world_key);
  for (std::size_t m = 0; m < metrics_.size(); ++m)
    metrics_[m]->record(out.subspan(metric_offset_[m], metric_offset_[m + 1] - metric_offset_[m]),
                        at);
}

bool System::save(StateWriter& out) const {
  if (!calendar_.empty()) return false;
  for (const Instance& inst : inst_)
    if (!inst.buffer.empty()) return false;
  for (const Instance& inst : inst_) {
    out.put(inst.rng);
    if (!inst.stage->save(out)) return false;
  }
  for (const auto& m : metrics_)
    if (!m->save(out)) return false;
  return true;
}

void System::restore(StateReader& in) {
  for (Instance& inst : inst_) {
    in.get(inst.rng);
    inst.stage->restore(in);
  }
  for (auto& m : metrics_) m->restore(in);
}

}  // namespace stagesim
