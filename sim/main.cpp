// The stagesim command line: run, check, list.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "sim/errors.hpp"
#include "sim/experiment.hpp"
#include "sim/runner.hpp"
#include "stagesim_version.hpp"

namespace po = boost::program_options;
using namespace stagesim;

namespace {

const char* kUsage =
    "usage: stagesim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE    run an experiment and write its HDF5 file\n"
    "  check FILE  validate an experiment; print its task count and a cost estimate\n"
    "  list        registered worlds, stages and metrics with their parameters\n"
    "\n"
    "  --help      this text (or `stagesim <command> --help`)\n"
    "  --version   version and git commit\n";

po::options_description experiment_opts() {
  po::options_description d("experiment options");
  d.add_options()("set", po::value<std::vector<std::string>>()->composing(),
                  "override a key: --set world.items=50 (repeatable; a grid axis name replaces "
                  "that axis' values)")("seed", po::value<unsigned long long>(),
                                        "master seed (overrides experiment.seed)");
  return d;
}

LoadOptions load_options(const po::variables_map& vm) {
  LoadOptions lo;
  if (vm.count("set")) lo.set = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) lo.seed = vm["seed"].as<unsigned long long>();
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

double estimate_seconds(double flops, int threads) {
  // Calibrated on the quickstart: scoring and updates run at roughly 10 GFLOP/s per thread.
  return flops / 10e9 / std::max(1, threads);
}

int cmd_check(const std::vector<std::string>& args) {
  po::options_description d("stagesim check FILE [options]");
  d.add_options()("help", "this text");
  d.add(experiment_opts());
  auto vm = parse(args, d, "check");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  Registry reg = builtin_registry();
  Experiment ex = load_experiment(vm["file"].as<std::string>(), load_options(vm), reg);
  double cost = 0;
  for (const Config& c : ex.configs) cost += c.cost * static_cast<double>(ex.replications);
  const std::size_t units = plan_units(ex).size();
  std::printf("%s: ok\n", ex.path.c_str());
  std::printf("experiment %s: %zu configurations (%zu grid axes, %zu variants) x %lld "
              "replications = %zu tasks in %zu units\n",
              ex.name.c_str(), ex.configs.size(), ex.grid_axes.size(),
              std::max<std::size_t>(1, ex.variants.size()),
              static_cast<long long>(ex.replications), ex.task_count(), units);
  std::printf("series: ");
  for (std::size_t i = 0; i < ex.series.size(); ++i)
    std::printf("%s%s", i ? ", " : "", ex.series[i].name.c_str());
  std::printf("\nestimated cost: %.3g GFLOP, about %.1f s on 1 thread, %.1f s on %d threads\n",
              cost / 1e9, estimate_seconds(cost, 1),
              estimate_seconds(cost, static_cast<int>(std::thread::hardware_concurrency())),
              static_cast<int>(std::thread::hardware_concurrency()));
  return 0;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description d("stagesim run FILE [options]");
  d.add_options()("help", "this text")("out,o", po::value<std::string>(),
                                       "output HDF5 file (default: NAME.h5, NAME from the file)")(
      "threads,j", po::value<int>()->default_value(0), "worker threads (0 = all cores)")(
      "resume", "continue an interrupted run from its journal")(
      "journal", po::value<std::string>(), "journal path (default: OUT.journal)")(
      "quiet,q", "no progress lines");
  d.add(experiment_opts());
  auto vm = parse(args, d, "run");
  if (vm.count("help")) {
    std::cout << d;
    return 0;
  }
  Registry reg = builtin_registry();
  Experiment ex = load_experiment(vm["file"].as<std::string>(), load_options(vm), reg);
  RunOptions ro;
  ro.out = vm.count("out") ? vm["out"].as<std::string>() : ex.name + ".h5";
  ro.threads = vm["threads"].as<int>();
  if (ro.threads < 0) throw ConfigError("--threads must be >= 0 (0 = all cores)");
  ro.resume = vm.count("resume") > 0;
  if (vm.count("journal")) ro.journal = vm["journal"].as<std::string>();
  ro.progress = vm.count("quiet") == 0;
  std::filesystem::path parent = std::filesystem::path(ro.out).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
      throw IoError(ro.out + ": cannot create the output directory " + parent.string() + " (" +
                    ec.message() + ")");
  }
  if (ro.progress)
    std::printf("stagesim %s: %zu configurations x %lld replications = %zu tasks -> %s\n",
                ex.name.c_str(), ex.configs.size(), static_cast<long long>(ex.replications),
                ex.task_count(), ro.out.c_str());
  RunSummary s = run_experiment(ex, ro);
  if (ro.progress)
    std::printf("wrote %s (%zu tasks, %zu resumed from the journal) in %.2f s\n", ro.out.c_str(),
                s.tasks, s.skipped, s.seconds);
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
  std::printf("engine keys:\n");
  for (const auto& [section, params] : engine_option_info()) {
    std::printf("  %s\n", section.c_str());
    print_params(params);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit then shows up as a write error we can report, not a kill.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
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
    throw ConfigError("unknown command '" + cmd + "'; use run, check or list (see --help)");
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "stagesim: error: %s\n", e.what());
    return 2;
  } catch (const po::error& e) {
    std::fprintf(stderr, "stagesim: error: %s (see --help)\n", e.what());
    return 2;
  } catch (const IoError& e) {
    std::fprintf(stderr, "stagesim: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stagesim: internal error: %s\n", e.what());
    return 1;
  }
}
