#include "sim/runner.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <exception>
#include <limits>
#include <map>

#include <boost/random/exponential_distribution.hpp>

#include "sim/errors.hpp"
#include "sim/journal.hpp"
#include "sim/output.hpp"
#include "sim/progress.hpp"
#include "sim/system.hpp"

namespace stagesim {

std::vector<Unit> plan_units(const Experiment& ex) {
  std::vector<std::vector<std::size_t>> groups;
  std::map<std::uint64_t, std::size_t> group_of;
  for (const Config& c : ex.configs) {
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

std::vector<CellResult> run_unit(const Experiment& ex, const Unit& unit) {
  const Config& c0 = ex.configs[unit.configs.front()];
  const StreamKey wkey{ex.seed, c0.world_scope, unit.replication};
  std::unique_ptr<World> world = c0.world.make(wkey);
  const std::size_t P = static_cast<std::size_t>(ex.checkpoints);

  struct Run {
    const Config* cfg;
    std::unique_ptr<System> system;
    std::vector<double> values, snapshot;  // values: [cfg series × checkpoint]
    std::size_t next = 0;
  };
  std::vector<Run> runs;
  std::int64_t horizon = 0;
  bool delays = false;
  for (std::size_t ci : unit.configs) {
    const Config& c = ex.configs[ci];
    Run r;
    r.cfg = &c;
    r.system = std::make_unique<System>(c, StreamKey{ex.seed, c.system_scope, unit.replication},
                                        world->num_items(), world->dim());
    r.values.assign(r.system->series_count() * P, 0.0);
    r.snapshot.resize(r.system->series_count());
    runs.push_back(std::move(r));
    horizon = std::max(horizon, c.horizon);
    delays = delays || c.delay == DelayModel::exponential;
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
    world->next(*req, c0.slate);
    for (Run& r : runs) {
      if (i >= r.cfg->horizon) continue;
      r.system->advance(t);
      r.system->serve(req, *world);
      if (r.next < P && i + 1 == r.cfg->checkpoint_steps[r.next]) {
        r.system->record(r.snapshot);
        for (std::size_t s = 0; s < r.snapshot.size(); ++s) r.values[s * P + r.next] = r.snapshot[s];
        ++r.next;
      }
    }
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
    cells.push_back(std::move(cell));
  }
  return cells;
}

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

RunSummary run_experiment(const Experiment& ex, const RunOptions& opts) {
  auto t0 = std::chrono::steady_clock::now();
  RunInfo info;
  info.start_time = now_iso();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  info.host = host;
  if (opts.threads > 0) omp_set_num_threads(opts.threads);
  info.threads = omp_get_max_threads();

  Results res;
  res.reset(ex.configs.size(), static_cast<std::size_t>(ex.replications), ex.series.size(),
            static_cast<std::size_t>(ex.checkpoints));
  Journal journal(opts.journal.empty() ? opts.out + ".journal" : opts.journal, ex, opts.resume,
                  res);
  std::vector<Unit> todo;
  for (Unit& u : plan_units(ex)) {
    bool done = true;
    for (std::size_t c : u.configs) done = done && !res.cell(c, u.replication).empty();
    if (!done) todo.push_back(std::move(u));
  }
  std::stable_sort(todo.begin(), todo.end(),
                   [](const Unit& a, const Unit& b) { return a.cost > b.cost; });
  RunSummary summary;
  summary.tasks = ex.task_count();
  summary.skipped = res.done();
  Progress progress(summary.tasks, summary.skipped, opts.progress);

  std::exception_ptr error;
  bool stop = false;
  const auto n = static_cast<std::ptrdiff_t>(todo.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    bool skip;
#pragma omp atomic read
    skip = stop;
    if (skip) continue;
    std::vector<CellResult> cells;
    std::exception_ptr local;
    try {
      cells = run_unit(ex, todo[i]);
    } catch (...) {
      local = std::current_exception();
    }
#pragma omp critical(stagesim_journal)
    {
      // Finished units are journaled even after another unit failed: nothing computed is lost.
      if (local) {
        if (!error) error = local;
#pragma omp atomic write
        stop = true;
      } else {
        try {
          journal.append(cells);
          for (CellResult& c : cells) res.cell(c.config, c.replication) = std::move(c.values);
          progress.advance(todo[i].configs.size());
        } catch (...) {
          if (!error) error = std::current_exception();
#pragma omp atomic write
          stop = true;
        }
      }
    }
  }
  if (error) std::rethrow_exception(error);
  progress.finish();
  info.end_time = now_iso();
  try {
    write_results(opts.out, ex, res, info);
  } catch (const IoError& e) {
    throw IoError(std::string(e.what()) + "; all results are safe in " + journal.path() +
                  " — fix the problem and rerun with --resume to write the file");
  }
  journal.remove();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace stagesim
