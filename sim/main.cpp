// The stagesim command line: run, check, list, merge, slurm, export-world (and the `moe` alias).
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include <omp.h>

#include <boost/program_options.hpp>

#ifdef STAGESIM_WITH_MPI
#include <mpi.h>
#endif

#include "sim/cluster.hpp"
#include "sim/errors.hpp"
#include "sim/estimate.hpp"
#include "sim/experiment.hpp"
#include "sim/memory.hpp"
#include "sim/merge.hpp"
#include "sim/plan.hpp"
#include "sim/printable.hpp"
#include "sim/runner.hpp"
#include "sim/slurm.hpp"
#include "sim/summary.hpp"
#include "sim/world_export.hpp"
#include "stagesim_version.hpp"

namespace po = boost::program_options;
using namespace stagesim;

namespace {

Cluster* g_cluster = nullptr;  // the MPI ranks when built with MPI and started under mpirun

const char* kUsage =
    "usage: stagesim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE    run an experiment and write its HDF5 file\n"
    "  check FILE  validate an experiment; print its task count and a cost estimate\n"
    "  list        registered worlds, stages, metrics and jobs with their parameters\n"
    "  merge OUT PARTS...  combine the partial files of --shard runs into OUT\n"
    "  slurm FILE  print an sbatch script (array of shards + merge step)\n"
    "  moe FILE    old name of `run` for the MoE pool-learning job (says so, then runs)\n"
    "  export-world FILE --out W.h5  write a world's q/sigma tables (tabular-world format)\n"
    "\n"
    "  --help      this text (or `stagesim <command> --help`)\n"
    "  --version   version and git commit\n";

po::options_description experiment_opts() {
  po::options_description d("experiment options");
  d.add_options()("set", po::value<std::vector<std::string>>()->composing(),
                  "override a key: --set world.items=50 (repeatable; a grid axis name replaces "
                  "that axis' values)")("seed", po::value<std::string>(),
                                        "master seed (overrides experiment.seed)")(
      "data-dir", po::value<std::string>(),
      "base directory for relative dataset paths in the experiment file")(
      "variant", po::value<std::vector<std::string>>()->composing(),
      "build only this [[variant]] (repeatable: --variant V-PG-SwR --variant CA-PG-SwR); the "
      "others are skipped, and these give the numbers they give in a run of the whole file");
  return d;
}

// --seed: like the file's experiment.seed, an integer in [0, 2^63 - 1] (a "-1" must not wrap).
std::uint64_t parse_seed(const std::string& s) {
  std::uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 19;
  for (char c : s) ok = ok && c >= '0' && c <= '9';
  if (ok) {
    for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    ok = v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  if (!ok)
    throw ConfigError("--seed " + printable(s) +
                      ": expected an integer from 0 to 9223372036854775807, e.g. --seed 7");
  return v;
}

// Warnings found while loading (e.g. a --set that every variant overrides), once, on stderr.
void print_warnings(const Experiment& ex) {
  const bool lead = !g_cluster || g_cluster->rank() == 0;
  if (lead)
    for (const std::string& w : ex.warnings)
      std::fprintf(stderr, "stagesim: warning: %s\n", printable_message(w).c_str());
}

// --units auto|shared|task (run, check, slurm).
UnitMode unit_mode(const po::variables_map& vm) {
  if (!vm.count("units")) return UnitMode::automatic;
  const std::string v = vm["units"].as<std::string>();
  if (auto m = unit_modes().find(v)) return *m;
  throw ConfigError("--units " + printable(v) +
                    ": expected auto (one unit per task where the world replays from its "
                    "streams), shared (configurations on one world share a unit) or task");
}

const char* kUnitsHelp =
    "work units: auto (one per task where worlds replay cheaply, else shared), shared "
    "(configurations on one world and replication together), task (one per task)";

LoadOptions load_options(const po::variables_map& vm) {
  LoadOptions lo;
  if (vm.count("set")) lo.set = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) lo.seed = parse_seed(vm["seed"].as<std::string>());
  if (vm.count("data-dir")) lo.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("variant"))
    for (const std::string& name : vm["variant"].as<std::vector<std::string>>()) {
      if (name.empty())
        throw ConfigError(
            "--variant: an empty name; give a [[variant]]'s name, e.g. --variant V-PG");
      lo.variants.push_back(name);
    }
  return lo;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& d,
                        const std::string& command) {
  po::options_description all = d;
  all.add_options()("file", po::value<std::string>(), "experiment file");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (!vm.count("help") && !vm.count("file"))
    throw ConfigError("stagesim " + command + ": missing the experiment FILE; e.g. stagesim " +
                      command + " experiments/quickstart.toml");
  return vm;
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description d("stagesim check FILE [options]");
  d.add_options()("help", "this text")("units", po::value<std::string>(), kUnitsHelp)(
      "array", po::value<int>(), "warn if this many Slurm array tasks exceed the work units")(
      "time", po::value<std::string>(),
      "warn if a work unit's estimated time exceeds this Slurm limit (HH:MM:SS, D-HH, ...)");
  d.add(experiment_opts());
  auto vm = parse(args, d, "check");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  Registry reg = builtin_registry();
  Experiment ex = load_experiment(vm["file"].as<std::string>(), load_options(vm), reg);
  print_warnings(ex);
  const double cost = experiment_flops(ex);
  const UnitMode mode = unit_mode(vm);
  const std::size_t units = count_units(ex, mode);
  std::optional<double> limit;
  if (vm.count("time")) {
    limit = parse_slurm_time(vm["time"].as<std::string>());
    if (!limit)
      throw ConfigError("--time " + printable(vm["time"].as<std::string>()) +
                        ": expected a Slurm time limit, e.g. 04:00:00, 90 (minutes) or 2-00");
  }
  if (vm.count("array") && vm["array"].as<int>() < 1) throw ConfigError("--array must be >= 1");
  std::printf("%s: ok\n", ex.path.c_str());
  // "1 configuration (0 grid axes, 1 variant) x 1 replication = 1 task in 1 unit".
  auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::printf(
      "experiment %s: %s (%s, %s) x %s = %s in %s\n", ex.name.c_str(),
      count(ex.configs.size(), "configuration", "configurations").c_str(),
      count(ex.grid_axes.size(), "grid axis", "grid axes").c_str(),
      count(std::max<std::size_t>(1, ex.variants.size()), "variant", "variants").c_str(),
      count(static_cast<std::size_t>(ex.replications), "replication", "replications").c_str(),
      count(ex.task_count(), "task", "tasks").c_str(), count(units, "unit", "units").c_str());
  if (ex.jobs) {
    // A job's outputs with their shapes per task cell, e.g. validation_objective_moe[epoch=20].
    std::printf("job %s: outputs ", ex.configs.front().job_type.c_str());
    for (std::size_t i = 0; i < ex.arrays.size(); ++i) {
      const ResultArray& a = ex.arrays[i];
      std::printf("%s%s", i ? ", " : "", a.name.c_str());
      for (std::size_t d = 0; d < a.shape.size(); ++d)
        std::printf("%s%s=%zu%s", d ? "," : "[", a.axes[d].c_str(), a.shape[d],
                    d + 1 == a.shape.size() ? "]" : "");
    }
  } else {
    std::printf("series: ");
    for (std::size_t i = 0; i < ex.series.size(); ++i)
      std::printf("%s%s", i ? ", " : "", ex.series[i].name.c_str());
  }
  std::printf("\nestimated cost: %.3g GFLOP, about %.1f s on 1 thread, %.1f s on %d threads\n",
              cost / 1e9, estimate_seconds(cost, 1),
              estimate_seconds(cost, static_cast<int>(std::thread::hardware_concurrency())),
              static_cast<int>(std::thread::hardware_concurrency()));
  const Footprint mem = memory_footprint(ex);
  std::printf("estimated memory: %s for the results + %s per thread (%s available)\n",
              format_bytes(mem.results_bytes).c_str(), format_bytes(mem.worker_bytes).c_str(),
              format_bytes(available_memory_bytes()).c_str());
  // Counting units is cheap; the per-unit plan is built only when asked about a cluster.
  if (vm.count("array") || vm.count("time")) {
    const PlanSummary plan = plan_summary(ex, mode);
    std::printf(
        "work units: %zu, %s; the longest about %s on one thread (%s)%s\n", plan.units,
        plan.unit_rule.c_str(), human_duration(plan.longest_seconds).c_str(),
        plan.longest_task.c_str(),
        plan.longest_checkpoints ? ", checkpointed: a resumed run continues it midway" : "");
    const std::string time_text = vm.count("time") ? vm["time"].as<std::string>() : "";
    for (const std::string& w :
         plan_warnings(plan, vm.count("array") ? vm["array"].as<int>() : 0, limit, time_text))
      std::fprintf(stderr, "stagesim: warning: %s\n", printable_message(w).c_str());
  }
  return 0;
}

// Results at the last checkpoint and the wall time (sim/summary.cpp); a file that cannot be read
// back only loses the table, never the run.
void print_run_summary(const Experiment& ex, const std::string& out, double seconds) {
  try {
    std::fputs(results_summary(ex, out).c_str(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stagesim: no summary: %s\n", e.what());
  }
  std::fputs(wall_time_line(seconds).c_str(), stdout);
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description d("stagesim run FILE [options]");
  d.add_options()("help", "this text")("out,o", po::value<std::string>(),
                                       "output HDF5 file (default: NAME.h5, NAME from the file)")(
      "threads,j", po::value<int>()->default_value(0), "worker threads (0 = all cores)")(
      "resume", "continue an interrupted run from its journal (starts fresh if there is none)")(
      "shard", po::value<std::string>(),
      "i/n: run only shard i of n (0-based) and write a partial file for `stagesim merge`")(
      "journal", po::value<std::string>(), "journal path (default: OUT.journal)")(
      "units", po::value<std::string>(), kUnitsHelp)(
      "checkpoint-interval", po::value<double>()->default_value(300),
      "seconds between two journaled checkpoints of a long task, so that --resume continues it "
      "midway (0 = at every metric checkpoint, -1 = never)")("quiet,q", "no progress lines");
  d.add(experiment_opts());
  auto vm = parse(args, d, "run");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  Registry reg = builtin_registry();
  Experiment ex = load_experiment(vm["file"].as<std::string>(), load_options(vm), reg);
  print_warnings(ex);
  RunOptions ro;
  ro.out = vm.count("out") ? vm["out"].as<std::string>() : ex.name + ".h5";
  ro.threads = vm["threads"].as<int>();
  ro.resume = vm.count("resume") > 0;
  if (vm.count("journal")) ro.journal = vm["journal"].as<std::string>();
  ro.progress = vm.count("quiet") == 0;
  ro.units = unit_mode(vm);
  ro.checkpoint_interval = vm["checkpoint-interval"].as<double>();
  ro.cluster = g_cluster;
  if (vm.count("shard")) {
    const std::string sh = vm["shard"].as<std::string>();
    int i = -1, n = 0;
    char slash = 0, extra = 0;
    if (std::sscanf(sh.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 ||
        i < 0 || i >= n)
      throw ConfigError("--shard " + sh + ": expected i/n with 0 <= i < n, e.g. --shard 0/8");
    ro.shard_index = i;
    ro.shard_count = n;
  }
  check_run_options(ro, OptionSpelling::cli);
  check_memory(ex, ro.threads > 0 ? ro.threads : omp_get_max_threads());
  std::filesystem::path parent = std::filesystem::path(ro.out).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw IoError(ro.out + ": cannot create the output directory " + parent.string() + " (" +
                    ec.message() + ")");
  }
  const bool lead = !g_cluster || g_cluster->rank() == 0;
  ro.progress = ro.progress && lead;
  if (ro.progress)
    std::printf("stagesim %s: %zu configurations x %lld replications = %zu tasks -> %s\n",
                ex.name.c_str(), ex.configs.size(), static_cast<long long>(ex.replications),
                ex.task_count(), ro.out.c_str());
  RunSummary s = run_experiment(ex, ro);
  if (ro.progress) {
    std::printf("wrote %s (%zu tasks, %zu resumed from the journal", ro.out.c_str(), s.tasks,
                s.skipped);
    if (s.from_checkpoint > 0)
      std::printf(", %zu continued from checkpoints at %.0f%% on average", s.from_checkpoint,
                  100 * s.checkpoint_share);
    std::printf(") in %.2f s\n", s.seconds);
    // The estimate `check` gives, for the tasks this run computed, next to the measured time.
    const double share = s.tasks > 0 ? static_cast<double>(s.tasks - s.skipped) /
                                           static_cast<double>(ex.task_count())
                                     : 0.0;
    const int threads = ro.threads > 0 ? ro.threads : omp_get_max_threads();
    std::printf("estimated %.2f s on %d thread%s (check's cost model), measured %.2f s\n",
                estimate_seconds(share * experiment_flops(ex), threads), threads,
                threads == 1 ? "" : "s", s.seconds);
    print_run_summary(ex, ro.out, s.seconds);
  }
  return 0;
}

int cmd_merge(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help") {
    std::printf(
        "usage: stagesim merge OUT PART.h5...\n"
        "Combines the partial files written by `stagesim run --shard i/n` into OUT.\n");
    return args.empty() ? 2 : 0;
  }
  if (args.size() < 2) throw ConfigError("stagesim merge: give OUT and at least one part");
  std::vector<std::string> parts(args.begin() + 1, args.end());
  merge_parts(args[0], parts, builtin_registry());
  std::printf("merged %zu parts into %s\n", parts.size(), args[0].c_str());
  return 0;
}

// `stagesim moe` ran the MoE experiment before it became the `pool_learning` job: kept as an alias
// of `run` that says so (the file format changed: [job] type = "pool_learning").
int cmd_moe(const std::vector<std::string>& args) {
  const bool lead = !g_cluster || g_cluster->rank() == 0;
  if (lead)
    std::fprintf(stderr,
                 "stagesim: note: `stagesim moe` is now `stagesim run` (the MoE experiment is the "
                 "pool_learning job, see docs/jobs.md); running `stagesim run`\n");
  return cmd_run(args);
}

int cmd_slurm(const std::vector<std::string>& args) {
  po::options_description d("stagesim slurm FILE [options]  (prints an sbatch script)");
  d.add_options()("help", "this text")("array", po::value<int>()->default_value(8),
                                       "number of shards (Slurm array tasks)")(
      "time", po::value<std::string>()->default_value("04:00:00"), "time limit per shard")(
      "cpus", po::value<int>()->default_value(2), "cores per shard (OpenMP threads)")(
      "mem", po::value<std::string>()->default_value("4G"), "memory per shard")(
      "partition", po::value<std::string>(), "Slurm partition")(
      "out,o", po::value<std::string>(), "final HDF5 file (default: NAME.h5)")(
      "binary", po::value<std::string>(), "path of stagesim on the cluster (default: this one)")(
      "units", po::value<std::string>(), kUnitsHelp);
  d.add(experiment_opts());
  auto vm = parse(args, d, "slurm");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  LoadOptions lo = load_options(vm);
  Experiment ex = load_experiment(vm["file"].as<std::string>(), lo, builtin_registry());
  SlurmOptions so;
  so.experiment = std::filesystem::absolute(vm["file"].as<std::string>()).string();
  so.out =
      std::filesystem::absolute(vm.count("out") ? vm["out"].as<std::string>() : ex.name + ".h5")
          .string();
  so.binary = vm.count("binary") ? vm["binary"].as<std::string>()
                                 : std::filesystem::canonical("/proc/self/exe").string();
  so.array = vm["array"].as<int>();
  if (so.array < 1) throw ConfigError("--array must be >= 1");
  so.time = vm["time"].as<std::string>();
  so.cpus = vm["cpus"].as<int>();
  so.mem = vm["mem"].as<std::string>();
  if (vm.count("partition")) so.partition = vm["partition"].as<std::string>();
  so.set = lo.set;
  so.variants = lo.variants;
  if (lo.seed) so.set.push_back("experiment.seed=" + std::to_string(*lo.seed));
  const UnitMode mode = unit_mode(vm);
  if (vm.count("units")) so.units = unit_modes().name(mode);
  const std::optional<double> limit = parse_slurm_time(so.time);
  if (!limit)
    throw ConfigError("--time " + printable(so.time) +
                      ": expected a Slurm time limit, e.g. 04:00:00, 90 (minutes) or 2-00");
  // On stderr, so the script on stdout stays clean for `| sbatch`.
  for (const std::string& w : plan_warnings(plan_summary(ex, mode), so.array, limit, so.time))
    std::fprintf(stderr, "stagesim: warning: %s\n", printable_message(w).c_str());
  std::fputs(slurm_script(so, ex.name).c_str(), stdout);
  return 0;
}

int cmd_export_world(const std::vector<std::string>& args) {
  po::options_description d("stagesim export-world FILE --out W.h5 [options]");
  d.add_options()("help", "this text")("out,o", po::value<std::string>(),
                                       "output HDF5 file (datasets q and, if any, sigma)")(
      "task", po::value<int>()->default_value(0),
      "which configuration (grid point x variant; 0-based, see `stagesim check`)")(
      "replication", po::value<int>()->default_value(0),
      "which replication's world (0-based; tables may differ per replication)");
  d.add(experiment_opts());
  auto vm = parse(args, d, "export-world");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  if (!vm.count("out"))
    throw ConfigError("stagesim export-world: missing --out; e.g. --out world.h5");
  if (vm["task"].as<int>() < 0) throw ConfigError("--task must be >= 0");
  Registry reg = builtin_registry();
  Experiment ex = load_experiment(vm["file"].as<std::string>(), load_options(vm), reg);
  const std::string out = vm["out"].as<std::string>();
  ExportedWorld w = export_world(ex, static_cast<std::size_t>(vm["task"].as<int>()),
                                 vm["replication"].as<int>(), out);
  std::printf("wrote %s: q %lld users x %lld items%s\n", out.c_str(),
              static_cast<long long>(w.users), static_cast<long long>(w.items),
              w.sigma ? " and sigma" : "");
  return 0;
}

void print_params(const std::vector<ParamInfo>& params) {
  for (const ParamInfo& p : params) {
    std::printf("    %-16s %-8s default %-12s", p.name.c_str(), p.type.c_str(),
                p.default_text.c_str());
    if (!p.range_text.empty()) std::printf(" allowed %s", p.range_text.c_str());
    std::printf("\n      %s\n", p.help.c_str());
  }
}

template <class E>
void print_entries(const char* title, const std::vector<E>& entries) {
  std::printf("%s\n", title);
  for (const E& e : entries) {
    std::printf("  %s — %s\n", e.type.c_str(), e.help.c_str());
    print_params(e.params);
  }
  std::printf("\n");
}

int cmd_list() {
  Registry reg = builtin_registry();
  print_entries("worlds ([world] type = ...):", reg.worlds);
  print_entries("stages ([stages.NAME] type = ...):", reg.stages);
  print_entries("metrics ([metrics.TYPE]):", reg.metrics);
  print_entries("jobs ([job] type = ...; offline, instead of stages and metrics):", reg.jobs);
  std::printf("engine keys:\n");
  for (const auto& [section, params] : engine_option_info()) {
    std::printf("  %s\n", section.c_str());
    print_params(params);
  }
  return 0;
}

}  // namespace

int run_main(std::vector<std::string> args);

int main(int argc, char** argv) {
  // A file-size limit then shows up as a write error we can report, not a kill.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
#ifdef STAGESIM_WITH_MPI
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  std::unique_ptr<Cluster> cluster = make_mpi_cluster();
  g_cluster = cluster.get();
  if (provided < MPI_THREAD_SERIALIZED) {
    // Without thread support only the master thread may call MPI: one thread per rank.
    omp_set_num_threads(1);
  }
  int code = run_main(args);
  cluster.reset();
  MPI_Finalize();
  return code;
#else
  return run_main(args);
#endif
}

int run_main(std::vector<std::string> args) {
  const bool lead = !g_cluster || g_cluster->rank() == 0;  // errors common to all ranks: once
  try {
    if (args.empty()) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    const std::string cmd = args.front();
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (cmd == "--version") {
      std::printf("stagesim %s (git %s)\n", kVersion, kGitCommit);
      return 0;
    }
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "check") return cmd_check(rest);
    if (cmd == "list") return cmd_list();
    if (cmd == "merge") return cmd_merge(rest);
    if (cmd == "slurm") return cmd_slurm(rest);
    if (cmd == "moe") return cmd_moe(rest);
    if (cmd == "export-world") return cmd_export_world(rest);
    throw ConfigError("unknown command '" + printable(cmd) +
                      "'; use run, check, list, merge, slurm, moe or export-world (see --help)");
  } catch (const ReportedElsewhere& e) {
    return e.code;
  } catch (const TaskError& e) {
    // Raised by the rank that ran the task: always printed, by that rank.
    std::fprintf(stderr, "stagesim: error: %s\n", printable_message(e.what()).c_str());
    return 1;
  } catch (const ConfigError& e) {
    if (lead) std::fprintf(stderr, "stagesim: error: %s\n", printable_message(e.what()).c_str());
    return 2;
  } catch (const po::error& e) {
    if (lead)
      std::fprintf(stderr, "stagesim: error: %s (see --help)\n",
                   printable_message(e.what()).c_str());
    return 2;
  } catch (const IoError& e) {
    if (lead) std::fprintf(stderr, "stagesim: error: %s\n", printable_message(e.what()).c_str());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "stagesim: error: out of memory; `stagesim check` estimates what a run needs — "
                 "lower its size or use fewer --threads\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stagesim: internal error: %s\n", printable_message(e.what()).c_str());
    return 1;
  }
}
