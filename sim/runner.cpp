#include "sim/runner.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <span>

#include "sim/cluster.hpp"
#include "sim/errors.hpp"
#include "sim/file_lock.hpp"
#include "sim/journal.hpp"
#include "sim/output.hpp"
#include "sim/progress.hpp"
#include "sim/request_stream.hpp"
#include "sim/system.hpp"
#include "stagesim_version.hpp"

namespace stagesim {

namespace {

// Per-request cost of a configuration's systems (without the world).
double system_cost_per_request(const Config& c) {
  return c.cost / std::max<double>(1, static_cast<double>(c.horizon)) - c.world.cost_per_request;
}

// Whether the configurations sharing a world configuration run one per unit: the world replays
// exactly from its streams and drawing its requests costs at most a tenth of the cheapest system,
// so giving each configuration its own copy adds little work. [our choice: the 10 % bound keeps
// e.g. a grid of cheap random stages on a large linear world in one unit.]
bool split_world_group(const Experiment& ex, const std::vector<std::size_t>& group) {
  if (group.size() == 1) return true;
  for (std::size_t c : group) {
    const Config& cfg = ex.configs[c];
    if (!cfg.world.replayable || cfg.world.stateful ||
        cfg.world.cost_per_request > 0.1 * system_cost_per_request(cfg))
      return false;
  }
  return true;
}

// Configuration groups, one per unit and replication.
std::vector<std::vector<std::size_t>> unit_groups(const Experiment& ex, UnitMode mode) {
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::uint64_t, std::size_t> group_of;
  for (const Config& c : ex.configs) {
    if (ex.jobs || mode == UnitMode::task) {  // every task on its own
      groups.push_back({c.index});
      continue;
    }
    auto [it, fresh] = group_of.emplace(c.world_scope, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(c.index);
  }
  if (mode != UnitMode::automatic) return groups;
  std::vector<std::vector<std::size_t>> split;
  for (auto& g : groups) {
    if (split_world_group(ex, g))
      for (std::size_t c : g) split.push_back({c});
    else
      split.push_back(std::move(g));
  }
  return split;
}

}  // namespace

const EnumTable<UnitMode>& unit_modes() {
  static const EnumTable<UnitMode> t{
      {"auto", UnitMode::automatic}, {"shared", UnitMode::shared}, {"task", UnitMode::task}};
  return t;
}

std::vector<Unit> plan_units(const Experiment& ex, UnitMode mode) {
  const std::vector<std::vector<std::size_t>> groups = unit_groups(ex, mode);
  std::vector<Unit> units;
  const auto reps = static_cast<std::size_t>(ex.replications);
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t r = 0; r < reps; ++r) {
      Unit u;
      u.id = g * reps + r;
      u.configs = groups[g];
      u.replication = r;
      for (std::size_t c : u.configs) {
        u.cost += ex.configs[c].cost + ex.configs[c].job.shared_cost;  // a unit may build it
        u.work += ex.configs[c].work();
      }
      units.push_back(std::move(u));
    }
  return units;
}

std::size_t count_units(const Experiment& ex, UnitMode mode) {
  return unit_groups(ex, mode).size() * static_cast<std::size_t>(ex.replications);
}

namespace {

// A checkpoint's state starts with the build that wrote it: another build may lay its stages out
// differently, so its checkpoints are not used (the task restarts from zero, results unchanged).
std::string state_tag() {
  return std::string(kVersion) + "+" + kGitCommit;
}

bool can_checkpoint(const Experiment& ex, const Unit& unit) {
  if (ex.jobs || unit.configs.size() != 1) return false;
  const Config& c = ex.configs[unit.configs.front()];
  return c.world.replayable && !c.world.stateful && c.horizon > 0;
}

}  // namespace

std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit,
                                 const std::function<void(std::int64_t)>& progress) {
  UnitHooks hooks;
  hooks.progress = progress;
  return run_unit(ex, unit, hooks);
}

std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit, const UnitHooks& hooks) {
  std::size_t current = unit.configs.front();  // the configuration at work, for errors
  try {
    if (ex.jobs) return run_job_unit(ex, unit, hooks.progress);
    const std::function<void(std::int64_t)>& progress = hooks.progress;
    // Requests served since the last report (every system's count), reported in batches.
    std::int64_t unreported = 0;
    auto served = [&] {
      if (progress && ++unreported == 8192) {
        progress(unreported);
        unreported = 0;
      }
    };
    const Config& c0 = ex.configs[unit.configs.front()];
    const StreamKey wkey{ex.seed, c0.world_scope, unit.replication};
    const std::size_t P = static_cast<std::size_t>(ex.checkpoints);

    struct Run {
      const Config* cfg;
      std::unique_ptr<World> own_world;  // stateful worlds: one instance per system
      std::unique_ptr<System> system;
      std::vector<double> values, snapshot;  // values: [cfg series × checkpoint]
      std::vector<std::size_t> target;       // cfg series -> experiment series
      std::size_t next = 0;
    };
    // A stateless world is built once and its requests are shared by every system (common random
    // numbers by sharing); a stateful one is built per system from the same streams and keys its
    // randomness by user, so systems still see the same responses to the same items.
    const bool stateful = c0.world.stateful;
    std::unique_ptr<World> shared_world = stateful ? nullptr : c0.world.make(wkey);
    std::vector<Run> runs;
    for (std::size_t ci : unit.configs) {
      const Config& c = ex.configs[ci];
      current = ci;
      Run r;
      r.cfg = &c;
      if (stateful) r.own_world = c.world.make(wkey);
      World& w = stateful ? *r.own_world : *shared_world;
      r.system = std::make_unique<System>(c, ex.seed, unit.replication, w);
      r.values.assign(r.system->series_count() * P, 0.0);
      r.snapshot.resize(r.system->series_count());
      for (const SeriesInfo& si : c.series) {
        std::size_t t = 0;
        while (ex.series[t].name != si.name) ++t;
        r.target.push_back(t);
      }
      runs.push_back(std::move(r));
    }
    // The run's values in the experiment's cell layout (NaN for series it does not have).
    auto cell_values = [&](const Run& r) {
      std::vector<double> cell(ex.series.size() * P, std::numeric_limits<double>::quiet_NaN());
      for (std::size_t s = 0; s < r.target.size(); ++s)
        std::copy(r.values.begin() + s * P, r.values.begin() + (s + 1) * P,
                  cell.begin() + r.target[s] * P);
      return cell;
    };

    // Checkpoints: a one-task unit on a replayable stateless world. Restoring replays the world's
    // requests up to the checkpoint (cheap next to the systems) and the system's saved state.
    const bool checkpoints = can_checkpoint(ex, unit);
    std::int64_t start = 0;
    if (hooks.resume && checkpoints) {
      const TaskCheckpoint& cp = *hooks.resume;
      Run& r = runs.front();
      if (cp.config != r.cfg->index || cp.replication != unit.replication)
        throw std::logic_error("a checkpoint was offered to another task");
      StateReader in(cp.state);
      if (in.get_string() == state_tag()) {
        r.next = static_cast<std::size_t>(in.get<std::uint64_t>());
        r.system->restore(in);
        if (!in.at_end() || r.next > P || cp.values.size() != ex.series.size() * P)
          throw std::runtime_error("checkpoint: state of another shape");
        for (std::size_t s = 0; s < r.target.size(); ++s)
          std::copy(cp.values.begin() + static_cast<std::ptrdiff_t>(r.target[s] * P),
                    cp.values.begin() + static_cast<std::ptrdiff_t>((r.target[s] + 1) * P),
                    r.values.begin() + static_cast<std::ptrdiff_t>(s * P));
        start = cp.position;
      }
    }
    using Clock = std::chrono::steady_clock;
    Clock::time_point last_save = Clock::now();
    // After the metric checkpoint at `position` requests: journals the task's state when asked to,
    // the interval has passed and nothing is outstanding.
    auto offer_checkpoint = [&](Run& r, std::int64_t position) {
      if (!checkpoints || !hooks.save || hooks.checkpoint_interval < 0 ||
          position >= r.cfg->horizon)
        return;
      const Clock::time_point now = Clock::now();
      if (std::chrono::duration<double>(now - last_save).count() < hooks.checkpoint_interval)
        return;
      StateWriter w;
      w.put_string(state_tag());
      w.put<std::uint64_t>(r.next);
      if (!r.system->save(w)) return;
      TaskCheckpoint cp;
      cp.config = r.cfg->index;
      cp.replication = unit.replication;
      cp.position = position;
      cp.values = cell_values(r);
      cp.state = w.take();
      hooks.save(std::move(cp));
      last_save = now;
    };

    auto record = [&](Run& r, World& w) {
      current = r.cfg->index;
      r.system->record(r.snapshot, r.next, w, wkey);
      for (std::size_t s = 0; s < r.snapshot.size(); ++s) r.values[s * P + r.next] = r.snapshot[s];
      ++r.next;
    };
    // Serves `horizon` requests of `world` to every run of `group`.
    auto serve_all = [&](World& world, std::span<Run*> group) {
      std::int64_t horizon = 0;
      bool delays = false;
      for (Run* r : group) {
        horizon = std::max(horizon, r->cfg->horizon);
        delays = delays || r->cfg->delay == DelayModel::exponential;
        if (start == 0 && P > 0 && r->cfg->checkpoint_steps[0] == 0)
          record(*r, world);  // before the first request
      }
      // Arrival times and delay draws come from the world's streams: shared by every system.
      RequestStream stream(c0, wkey, delays);
      // Requests are reused once no system holds them any more (delayed or batched feedback
      // keeps them alive), so the steady state allocates none: worlds overwrite every field.
      std::vector<std::shared_ptr<Request>> pool;
      std::size_t cursor = 0;
      const auto free_request = [&] {
        for (std::size_t k = 0; k < pool.size(); ++k) {
          const std::size_t j = (cursor + k) % pool.size();
          if (pool[j].use_count() == 1) {
            cursor = j + 1;
            return pool[j];
          }
        }
        pool.push_back(std::make_shared<Request>());
        cursor = 0;
        return pool.back();
      };
      // Lookahead: a world without per-system state draws its requests independently of what is
      // served, so up to `ahead` of them are drawn before they are served (in the same order, from
      // the same streams) and stages that batch per-request work see them (Stage::prepare).
      int ahead = 1;
      for (Run* r : group) ahead = std::max(ahead, System::lookahead(*r->cfg));
      std::vector<std::shared_ptr<Request>> window;  // drawn, not yet served: [head, end)
      std::vector<const Request*> window_ptrs;
      std::size_t head = 0;
      std::int64_t drawn = 0;
      for (std::int64_t i = 0; i < horizon; ++i) {
        if (head >= static_cast<std::size_t>(ahead)) {  // compact now and then: O(1) amortised
          window.erase(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(head));
          window_ptrs.erase(window_ptrs.begin(),
                            window_ptrs.begin() + static_cast<std::ptrdiff_t>(head));
          head = 0;
        }
        for (; drawn < std::min(horizon, i + ahead); ++drawn) {
          window.push_back(free_request());
          stream.next(world, *window.back(), drawn);
          window_ptrs.push_back(window.back().get());
        }
        const std::shared_ptr<Request> req = std::move(window[head]);
        const std::span<const Request* const> upcoming(window_ptrs.data() + head,
                                                       window_ptrs.size() - head);
        ++head;
        if (i < start) continue;  // a restored task: the world replays its draws up to there
        for (Run* r : group) {
          if (i >= r->cfg->horizon) continue;
          current = r->cfg->index;
          r->system->advance(req->time);
          r->system->serve(req, world, upcoming);
          served();
          if (r->next < P && i + 1 == r->cfg->checkpoint_steps[r->next]) {
            record(*r, world);
            offer_checkpoint(*r, i + 1);
          }
        }
      }
    };
    if (stateful) {
      for (Run& r : runs) {
        Run* one = &r;
        serve_all(*r.own_world, {&one, 1});
      }
    } else {
      std::vector<Run*> all;
      for (Run& r : runs) all.push_back(&r);
      serve_all(*shared_world, all);
    }
    if (progress && unreported > 0) progress(unreported);
    std::vector<CellResult> cells;
    for (Run& r : runs) {
      CellResult cell;
      cell.config = r.cfg->index;
      cell.replication = unit.replication;
      cell.values = cell_values(r);
      if (!ex.tables.empty()) cell.tables = r.system->take_tables(ex.tables);
      cells.push_back(std::move(cell));
    }
    return cells;
  } catch (const std::exception& e) {
    throw UnitError(current, e.what());
  }
}

bool unit_checkpoints(const Experiment& ex, const Unit& unit) {
  if (!can_checkpoint(ex, unit)) return false;
  const Config& c = ex.configs[unit.configs.front()];
  // A freshly built system can save exactly when the running one can (between batches).
  std::unique_ptr<World> world = c.world.make(StreamKey{ex.seed, c.world_scope, unit.replication});
  System system(c, ex.seed, unit.replication, *world);
  StateWriter w;
  return system.save(w);
}

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string task_name(const Experiment& ex, std::size_t config, std::size_t rep) {
  const Config& c = ex.configs[config];
  std::vector<std::string> parts;
  if (!c.variant.empty()) parts.push_back("variant " + c.variant);
  for (const auto& [axis, value] : c.grid) parts.push_back(axis + "=" + value);
  std::string s = "task " + std::to_string(config);
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : " (") + parts[i];
  return s + (parts.empty() ? "" : ")") + " replication " + std::to_string(rep);
}

namespace {

// Fails before any work when the output cannot be written where it is named.
void check_output_path(const std::string& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec))
    throw IoError(out + ": --out names a directory; give a file name, e.g. " +
                  (std::filesystem::path(out) / "results.h5").string());
}

// The latest checkpoints of unfinished tasks, as rank 0 broadcasts them (it reads every rank's
// journal, so a task checkpointed by one rank can be continued by another).
void encode_checkpoints(const Journal::Checkpoints& cps, std::vector<unsigned char>& out) {
  StateWriter w;
  w.put<std::uint64_t>(cps.size());
  for (const auto& [key, c] : cps) {
    w.put<std::uint64_t>(key);
    w.put<std::uint64_t>(c.config);
    w.put<std::uint64_t>(c.replication);
    w.put(c.position);
    w.put(c.values);
    w.put(c.state);
  }
  out.insert(out.end(), w.bytes().begin(), w.bytes().end());
}

Journal::Checkpoints decode_checkpoints(std::span<const unsigned char> bytes) {
  Journal::Checkpoints cps;
  StateReader r(bytes);
  const auto n = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < n; ++i) {
    TaskCheckpoint& c = cps[r.get<std::uint64_t>()];
    c.config = r.get<std::uint64_t>();
    c.replication = r.get<std::uint64_t>();
    r.get(c.position);
    r.get(c.values);
    r.get(c.state);
  }
  return cps;
}

}  // namespace

void check_run_options(const RunOptions& opts, OptionSpelling spelling) {
  const bool cli = spelling == OptionSpelling::cli;
  const std::string threads = cli ? "--threads" : "threads";
  if (opts.threads < 0) throw ConfigError(threads + " must be >= 0 (0 = all cores)");
  // More threads than 4 per core never helps, and thousands exhaust memory (thread stacks).
  const int max_threads = std::max(16, 4 * omp_get_num_procs());
  if (opts.threads > max_threads)
    throw ConfigError(threads + " " + std::to_string(opts.threads) + " exceeds " +
                      std::to_string(max_threads) + " (4 per core of this machine's " +
                      std::to_string(omp_get_num_procs()) + "); use " + threads +
                      (cli ? " 0" : "=0") + " for all cores");
  if (!std::isfinite(opts.checkpoint_interval) ||
      (opts.checkpoint_interval < 0 && opts.checkpoint_interval != -1))
    throw ConfigError(std::string(cli ? "--checkpoint-interval" : "checkpoint_interval") +
                      " must be >= 0 seconds, or -1 for no checkpoints");
  if (opts.shard_count < 1 || opts.shard_index < 0 || opts.shard_index >= opts.shard_count)
    throw ConfigError(std::string(cli ? "--shard" : "shard") + " " +
                      std::to_string(opts.shard_index) + "/" + std::to_string(opts.shard_count) +
                      ": expected i/n with 0 <= i < n, e.g. " +
                      (cli ? "--shard 0/8" : "shard=(0, 8)"));
}

RunSummary run_experiment(const Experiment& ex, const RunOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  LocalCluster local;
  Cluster& cluster = opts.cluster ? *opts.cluster : local;
  const int rank = cluster.rank();
  RunInfo info;
  info.start_time = now_iso();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  info.host = host;
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  info.threads = omp_get_max_threads();
  info.ranks = cluster.size();
  if (opts.shard_count > 1)
    info.shard = std::to_string(opts.shard_index) + "/" + std::to_string(opts.shard_count);

  const std::size_t C = ex.configs.size(), R = static_cast<std::size_t>(ex.replications);
  const std::string base = opts.journal.empty() ? opts.out + ".journal" : opts.journal;
  const std::string own = rank == 0 ? base : base + "." + std::to_string(rank);

  // Rank 0 reads every journal of the run (other ranks' too) and broadcasts what is done, then
  // the latest checkpoint of every unfinished task.
  std::vector<unsigned char> start(C * R + 1, 0);
  Journal::Checkpoints checkpoints;
  std::exception_ptr start_error;
  std::unique_ptr<FileLock> lock;  // one run per output at a time (rank 0 holds it)
  if (rank == 0) {
    try {
      check_output_path(opts.out);
      lock = std::make_unique<FileLock>(opts.out + ".lock", opts.out);
      std::vector<std::string> journals = Journal::list(base);
      if (!journals.empty() && !opts.resume)
        throw IoError(journals[0] +
                      ": an interrupted run left this journal; continue it with "
                      "--resume, or delete it to start over");
      Results seen;
      seen.reset(C, R, ex.series.size(), static_cast<std::size_t>(ex.checkpoints));
      for (const std::string& j : journals) Journal::read_into(j, ex, seen, &checkpoints);
      for (std::size_t i = 0; i < C * R; ++i) start[i] = !seen.cells[i].empty();
      std::erase_if(checkpoints, [&](const auto& kv) { return start[kv.first] != 0; });
      encode_checkpoints(checkpoints, start);
    } catch (const ConfigError&) {
      start_error = std::current_exception();
      start[C * R] = 2;
    } catch (...) {
      start_error = std::current_exception();
      start[C * R] = 3;
    }
  }
  cluster.broadcast(start);
  if (start[C * R] != 0) {
    if (start_error) std::rethrow_exception(start_error);
    throw ReportedElsewhere(start[C * R]);
  }
  if (rank != 0)
    checkpoints = decode_checkpoints(std::span<const unsigned char>(start).subspan(C * R + 1));

  Results scratch;  // the own journal's records are not needed here: rank 0 re-reads at the end
  scratch.reset(C, R, ex.series.size(), static_cast<std::size_t>(ex.checkpoints));
  bool open_failed = false;
  std::unique_ptr<Journal> journal;
  std::exception_ptr error;
  try {
    journal = std::make_unique<Journal>(own, ex, opts.resume, scratch);
  } catch (...) {
    error = std::current_exception();
    open_failed = true;
  }
  if (cluster.any(open_failed)) {
    if (error) std::rethrow_exception(error);
    throw ReportedElsewhere(3);
  }

  // Units still to run, most expensive first; a shard takes every n-th of them.
  std::vector<Unit> all = plan_units(ex, opts.units);
  std::stable_sort(all.begin(), all.end(),
                   [](const Unit& a, const Unit& b) { return a.cost > b.cost; });
  std::vector<Unit> todo;
  std::size_t shard_tasks = 0, shard_done = 0;
  std::int64_t shard_work = 0, done_work = 0;  // requests (or job steps), for progress
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(opts.shard_count)) != opts.shard_index)
      continue;
    bool done = true;
    for (std::size_t c : all[i].configs) {
      ++shard_tasks;
      const std::size_t key = c * R + all[i].replication;
      const bool d = start[key] != 0;
      shard_done += d;
      shard_work += ex.configs[c].work();
      if (d) done_work += ex.configs[c].work();
      done = done && d;
    }
    if (!done) todo.push_back(all[i]);
  }
  RunSummary summary;
  summary.tasks = shard_tasks;
  summary.skipped = shard_done;
  // Checkpoints of this shard's unfinished one-task units: their requests so far count as done.
  std::vector<const TaskCheckpoint*> resume(todo.size(), nullptr);
  for (std::size_t i = 0; i < todo.size(); ++i) {
    if (todo[i].configs.size() != 1) continue;
    const std::size_t c = todo[i].configs.front();
    auto it = checkpoints.find(c * R + todo[i].replication);
    if (it == checkpoints.end()) continue;
    resume[i] = &it->second;
    done_work += it->second.position;
    ++summary.from_checkpoint;
    summary.checkpoint_share +=
        static_cast<double>(it->second.position) /
        static_cast<double>(std::max<std::int64_t>(1, ex.configs[c].horizon));
  }
  if (summary.from_checkpoint > 0)
    summary.checkpoint_share /= static_cast<double>(summary.from_checkpoint);
  Progress progress(shard_work, done_work, opts.progress && rank == 0, stdout,
                    ex.jobs ? ex.configs.front().job.work_units : "requests");

  // With several ranks, rank 0 sees others' progress only through the shared counter: it reports
  // work handed out (dispatched), and completion at the end. Alone, units report as they go.
  std::vector<std::int64_t> dispatched(todo.size() + 1, done_work);
  for (std::size_t i = 0; i < todo.size(); ++i) dispatched[i + 1] = dispatched[i] + todo[i].work;
  const bool many = cluster.size() > 1;
  bool stop = false;
  const long n = static_cast<long>(todo.size());
#pragma omp parallel
  {
    while (true) {
      long i;
#pragma omp critical(stagesim_dispatch)
      {
        i = stop ? n : cluster.next();
        if (many && i <= n) progress.set(dispatched[static_cast<std::size_t>(std::min(i, n))]);
      }
      if (i >= n) break;
      const Unit& u = todo[static_cast<std::size_t>(i)];
      std::vector<CellResult> cells;
      std::exception_ptr local_error;
      UnitHooks hooks;
      hooks.progress = [&](std::int64_t w) {
        if (many) return;
#pragma omp critical(stagesim_progress)
        progress.advance(w);
      };
      hooks.resume = resume[static_cast<std::size_t>(i)];
      hooks.checkpoint_interval = opts.checkpoint_interval;
      // A checkpoint that cannot be written (disk full) is not an error: the task goes on, and
      // only its finished cell must reach the journal.
      hooks.save = [&](TaskCheckpoint&& c) {
#pragma omp critical(stagesim_journal)
        try {
          journal->append(c);
        } catch (const IoError&) {
        }
      };
      try {
        cells = run_unit(ex, u, hooks);
      } catch (const UnitError& e) {
        local_error = std::make_exception_ptr(
            TaskError(task_name(ex, e.config, u.replication) + " failed: " + e.what() +
                      "; finished tasks are kept in the journal — fix and rerun with --resume"));
      } catch (const std::exception& e) {
        local_error = std::make_exception_ptr(
            TaskError(task_name(ex, u.configs.front(), u.replication) + " failed: " + e.what() +
                      "; finished tasks are kept in the journal — fix and rerun with --resume"));
      }
#pragma omp critical(stagesim_journal)
      {
        // Finished units are journaled even after another unit failed: nothing is lost.
        if (local_error) {
          if (!error) error = local_error;
          stop = true;
        } else {
          try {
            journal->append(cells);
          } catch (...) {
            if (!error) error = std::current_exception();
            stop = true;
          }
        }
      }
    }
  }
  if (cluster.any(error != nullptr)) {
    if (error) std::rethrow_exception(error);
    if (rank == 0)
      throw TaskError(
          "a task failed on another rank (reported above); finished tasks are kept in "
          "the journals — fix and rerun with --resume");
    throw ReportedElsewhere(1);
  }
  progress.set(shard_work);
  progress.finish();
  if (rank != 0) return summary;

  // Rank 0 assembles the file from every journal, so the result does not depend on who ran what.
  Results res;
  res.reset(C, R, ex.series.size(), static_cast<std::size_t>(ex.checkpoints));
  std::vector<std::string> journals = Journal::list(base);
  for (const std::string& j : journals) Journal::read_into(j, ex, res);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(opts.shard_count)) != opts.shard_index)
      continue;
    for (std::size_t c : all[i].configs)
      if (res.cell(c, all[i].replication).empty())
        throw IoError(base + ": " + task_name(ex, c, all[i].replication) +
                      " is missing from the journals; rerun with --resume");
  }
  info.end_time = now_iso();
  try {
    write_results(opts.out, ex, res, info);
  } catch (const IoError& e) {
    throw IoError(std::string(e.what()) + "; all results are safe in " + base +
                  " — fix the problem and rerun with --resume to write the file");
  }
  journal->remove();
  for (const std::string& j : journals) std::filesystem::remove(j);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace stagesim
