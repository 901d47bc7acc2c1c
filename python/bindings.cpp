// The engine in a Python process (module _stagesim; python/stagesim/native.py wraps it): run,
// check and list as the CLI does them, with the CLI's errors as Python exceptions.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "sim/errors.hpp"
#include "sim/experiment.hpp"
#include "sim/runner.hpp"
#include "stagesim_version.hpp"

namespace py = pybind11;
using namespace stagesim;

namespace {

// stagesim.errors' classes, so `except stagesim.ConfigError` works with and without bindings.
// Kept for the life of the process (never decref'd: the interpreter may be gone at exit).
PyObject* g_config_error = PyExc_ValueError;
PyObject* g_io_error = PyExc_OSError;
PyObject* g_task_error = PyExc_RuntimeError;

void bind_error_classes() {
  try {
    py::module_ errors = py::module_::import("stagesim.errors");
    g_config_error = py::object(errors.attr("ConfigError")).release().ptr();
    g_io_error = py::object(errors.attr("IoError")).release().ptr();
    g_task_error = py::object(errors.attr("TaskError")).release().ptr();
  } catch (const py::error_already_set&) {
    // Imported on its own (not through the stagesim package): builtin classes.
  }
}

Experiment load(const std::string& source, bool is_text, const std::vector<std::string>& set,
                std::optional<std::uint64_t> seed, const std::string& data_dir,
                const Registry& reg) {
  LoadOptions lo;
  lo.set = set;
  lo.seed = seed;
  lo.data_dir = data_dir;
  return is_text ? parse_experiment(source, "<string>", lo, reg) : load_experiment(source, lo, reg);
}

py::dict run(const std::string& source, bool is_text, const std::vector<std::string>& set,
             std::optional<std::uint64_t> seed, const std::string& data_dir, int threads,
             const std::string& out, bool progress, bool resume) {
  if (threads < 0) throw ConfigError("threads must be >= 0 (0 = all cores)");
  RunSummary s;
  {
    py::gil_scoped_release nogil;  // other Python threads keep running meanwhile
    Registry reg = builtin_registry();
    Experiment ex = load(source, is_text, set, seed, data_dir, reg);
    RunOptions ro;
    ro.out = out;
    ro.threads = threads;
    ro.progress = progress;
    ro.resume = resume;
    s = run_experiment(ex, ro);
  }
  py::dict d;
  d["tasks"] = s.tasks;
  d["resumed"] = s.skipped;
  d["seconds"] = s.seconds;
  return d;
}

py::dict check(const std::string& source, bool is_text, const std::vector<std::string>& set,
               std::optional<std::uint64_t> seed, const std::string& data_dir) {
  Registry reg = builtin_registry();
  Experiment ex = load(source, is_text, set, seed, data_dir, reg);
  double cost = 0;
  for (const Config& c : ex.configs) cost += c.cost * static_cast<double>(ex.replications);
  std::vector<std::string> series;
  for (const SeriesInfo& s : ex.series) series.push_back(s.name);
  py::dict d;
  d["path"] = ex.path;
  d["name"] = ex.name;
  d["configurations"] = ex.configs.size();
  d["grid_axes"] = ex.grid_axes;
  d["variants"] = ex.variants;
  d["replications"] = ex.replications;
  d["tasks"] = ex.task_count();
  d["units"] = plan_units(ex).size();
  d["series"] = series;
  d["cost_flops"] = cost;
  return d;
}

py::list params(const std::vector<ParamInfo>& ps) {
  py::list l;
  for (const ParamInfo& p : ps) {
    py::dict d;
    d["name"] = p.name;
    d["type"] = p.type;
    d["default"] = p.default_text;
    d["range"] = p.range_text;
    d["help"] = p.help;
    l.append(d);
  }
  return l;
}

template <class E>
py::dict entries(const std::vector<E>& es) {
  py::dict d;
  for (const E& e : es) {
    py::dict x;
    x["help"] = e.help;
    x["params"] = params(e.params);
    d[py::str(e.type)] = x;
  }
  return d;
}

py::dict list_components() {
  Registry reg = builtin_registry();
  py::dict d;
  d["worlds"] = entries(reg.worlds);
  d["stages"] = entries(reg.stages);
  d["metrics"] = entries(reg.metrics);
  py::dict engine;
  for (const auto& [section, ps] : engine_option_info()) engine[py::str(section)] = params(ps);
  d["engine"] = engine;
  return d;
}

}  // namespace

PYBIND11_MODULE(_stagesim, m) {
  m.doc() = "stagesim engine bindings; use the stagesim package (stagesim.run/check/list)";
  bind_error_classes();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      PyErr_SetString(g_config_error, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(g_io_error, e.what());
    } catch (const TaskError& e) {
      PyErr_SetString(g_task_error, e.what());
    }
  });
  m.attr("version") = kVersion;
  m.attr("git_commit") = kGitCommit;
  m.def("run", &run, py::arg("source"), py::arg("is_text"), py::arg("set"), py::arg("seed"),
        py::arg("data_dir"), py::arg("threads"), py::arg("out"), py::arg("progress"),
        py::arg("resume"));
  m.def("check", &check, py::arg("source"), py::arg("is_text"), py::arg("set"), py::arg("seed"),
        py::arg("data_dir"));
  m.def("list", &list_components);
}
