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

#include <boost/random/exponential_distribution.hpp>

#include "sim/cluster.hpp"
#include "sim/errors.hpp"
#include "sim/file_lock.hpp"
#include "sim/journal.hpp"
#include "sim/output.hpp"
#include "sim/progress.hpp"
#include "sim/system.hpp"

namespace stagesim {

std::vector<Unit> plan_units(const Experiment& ex) {
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::uint64_t, std::size_t> group_of;
  for (const Config& c : ex.configs) {
    if (ex.jobs) {  // jobs share nothing at run time: one configuration per unit
      groups.push_back({c.index});
      continue;
    }
    auto [it, fresh] = group_of.emplace(c.world_scope, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(c.index);
  }
  std::vector<Unit> units;
  const auto reps = static_cast<std::size_t>(ex.replications);
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t r = 0; r < reps; ++r) {
      Unit u;
      u.id = g * reps + r;
      u.configs = groups[g];
      u.replication = r;
      for (std::size_t c : u.configs) u.cost += ex.configs[c].cost;
      units.push_back(std::move(u));
    }
  return units;
}

std::size_t count_units(const Experiment& ex) {
  if (ex.jobs) return ex.task_count();
  std::set<std::uint64_t> groups;
  for (const Config& c : ex.configs) groups.insert(c.world_scope);
  return groups.size() * static_cast<std::size_t>(ex.replications);
}

std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit) {
  std::size_t current = unit.configs.front();  // the configuration at work, for errors
  try {
  if (ex.jobs) return run_job_unit(ex, unit);
  const Config& c0 = ex.configs[unit.configs.front()];
  const StreamKey wkey{ex.seed, c0.world_scope, unit.replication};
  const std::size_t P = static_cast<std::size_t>(ex.checkpoints);

  struct Run {
    const Config* cfg;
    std::unique_ptr<World> own_world;  // stateful worlds: one instance per system
    std::unique_ptr<System> system;
    std::vector<double> values, snapshot;  // values: [cfg series × checkpoint]
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
    runs.push_back(std::move(r));
  }
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
      if (P > 0 && r->cfg->checkpoint_steps[0] == 0) record(*r, world);  // before the first request
    }
    // Arrival times and delay draws come from the world's streams: shared by every system.
    Rng arrivals = wkey.stream("arrivals");
    Rng delay_rng = wkey.stream("delays");
    boost::random::exponential_distribution<double> exp1(1.0);
    auto req = std::make_shared<Request>();
    double t = 0;
    for (std::int64_t i = 0; i < horizon; ++i) {
      if (req.use_count() > 1) req = std::make_shared<Request>();  // a system still holds it
      t = c0.arrivals == ArrivalProcess::fixed ? static_cast<double>(i) / c0.rate
                                               : t + exp1(arrivals) / c0.rate;
      req->index = i;
      req->time = t;
      req->delay_draw = delays ? exp1(delay_rng) : 0.0;
      world.next(*req, c0.slate);  // a world that owns its arrivals sets req->time itself
      for (Run* r : group) {
        if (i >= r->cfg->horizon) continue;
        current = r->cfg->index;
        r->system->advance(req->time);
        r->system->serve(req, world);
        if (r->next < P && i + 1 == r->cfg->checkpoint_steps[r->next]) record(*r, world);
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
  std::vector<CellResult> cells;
  for (Run& r : runs) {
    CellResult cell;
    cell.config = r.cfg->index;
    cell.replication = unit.replication;
    cell.values.assign(ex.series.size() * P, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t s = 0; s < r.cfg->series.size(); ++s) {
      std::size_t target = 0;
      while (ex.series[target].name != r.cfg->series[s].name) ++target;
      std::copy(r.values.begin() + s * P, r.values.begin() + (s + 1) * P,
                cell.values.begin() + target * P);
    }
    if (!ex.tables.empty()) cell.tables = r.system->take_tables(ex.tables);
    cells.push_back(std::move(cell));
  }
  return cells;
  } catch (const std::exception& e) {
    throw UnitError(current, e.what());
  }
}

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

namespace {

std::string task_name(const Experiment& ex, std::size_t config, std::size_t rep) {
  const Config& c = ex.configs[config];
  std::vector<std::string> parts;
  if (!c.variant.empty()) parts.push_back("variant " + c.variant);
  for (const auto& [axis, value] : c.grid) parts.push_back(axis + "=" + value);
  std::string s = "task " + std::to_string(config);
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : " (") + parts[i];
  return s + (parts.empty() ? "" : ")") + " replication " + std::to_string(rep);
}

// Fails before any work when the output cannot be written where it is named.
void check_output_path(const std::string& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec))
    throw IoError(out + ": --out names a directory; give a file name, e.g. " +
                  (std::filesystem::path(out) / "results.h5").string());
}

// Rank 0 decides (existing journals, resume) and tells everyone; an error there stops all ranks.
struct Start {
  std::vector<unsigned char> done;  // [config * R + rep]
  int error_code = 0;
};

}  // namespace

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

  // Rank 0 reads every journal of the run (other ranks' too) and broadcasts what is done.
  std::vector<unsigned char> start(C * R + 1, 0);
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
      for (const std::string& j : journals) Journal::read_into(j, ex, seen);
      for (std::size_t i = 0; i < C * R; ++i) start[i] = !seen.cells[i].empty();
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
  std::vector<Unit> all = plan_units(ex);
  std::stable_sort(all.begin(), all.end(),
                   [](const Unit& a, const Unit& b) { return a.cost > b.cost; });
  std::vector<Unit> todo;
  std::size_t shard_tasks = 0, shard_done = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(opts.shard_count)) != opts.shard_index)
      continue;
    bool done = true;
    for (std::size_t c : all[i].configs) {
      ++shard_tasks;
      const bool d = start[c * R + all[i].replication] != 0;
      shard_done += d;
      done = done && d;
    }
    if (!done) todo.push_back(all[i]);
  }
  RunSummary summary;
  summary.tasks = shard_tasks;
  summary.skipped = shard_done;
  Progress progress(shard_tasks, shard_done, opts.progress && rank == 0);

  // With several ranks, rank 0 sees others' progress only through the shared counter: it reports
  // tasks handed out (dispatched), and completion at the end.
  std::vector<std::size_t> dispatched(todo.size() + 1, shard_done);
  for (std::size_t i = 0; i < todo.size(); ++i)
    dispatched[i + 1] = dispatched[i] + todo[i].configs.size();
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
      try {
        cells = run_unit(ex, u);
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
            if (!many) progress.advance(u.configs.size());
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
  progress.set(shard_tasks);
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
