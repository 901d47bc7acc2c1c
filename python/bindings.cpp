// The engine in a Python process (module _stagesim; python/stagesim/native.py wraps it): run,
// check and list as the CLI does them, with the CLI's errors as Python exceptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "sim/errors.hpp"
#include "sim/experiment.hpp"
#include "sim/runner.hpp"
#include "sim/stepper.hpp"
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
                std::optional<std::uint64_t> seed, const std::string& data_dir, const Registry& reg,
                const std::vector<std::string>& variants = {}) {
  LoadOptions lo;
  lo.set = set;
  lo.variants = variants;
  lo.seed = seed;
  lo.data_dir = data_dir;
  return is_text ? parse_experiment(source, "<string>", lo, reg) : load_experiment(source, lo, reg);
}

py::dict run(const std::string& source, bool is_text, const std::vector<std::string>& set,
             std::optional<std::uint64_t> seed, const std::string& data_dir, int threads,
             const std::string& out, bool progress, bool resume, const std::string& journal,
             double checkpoint_interval, int shard_index, int shard_count,
             const std::vector<std::string>& variants) {
  RunOptions ro;
  ro.out = out;
  ro.journal = journal;
  ro.threads = threads;
  ro.progress = progress;
  ro.resume = resume;
  ro.checkpoint_interval = checkpoint_interval;
  ro.shard_index = shard_index;
  ro.shard_count = shard_count;
  check_run_options(ro, OptionSpelling::python);
  RunSummary s;
  {
    py::gil_scoped_release nogil;  // other Python threads keep running meanwhile
    Registry reg = builtin_registry();
    Experiment ex = load(source, is_text, set, seed, data_dir, reg, variants);
    s = run_experiment(ex, ro);
  }
  py::dict d;
  d["tasks"] = s.tasks;
  d["resumed"] = s.skipped;
  d["seconds"] = s.seconds;
  return d;
}

py::dict check(const std::string& source, bool is_text, const std::vector<std::string>& set,
               std::optional<std::uint64_t> seed, const std::string& data_dir,
               const std::vector<std::string>& variants) {
  Registry reg = builtin_registry();
  Experiment ex = load(source, is_text, set, seed, data_dir, reg, variants);
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

// One task stepped request by request (stagesim.Env wraps it in Gymnasium's protocol).
class PyStepper {
 public:
  PyStepper(const std::string& source, bool is_text, const std::vector<std::string>& set,
            std::optional<std::uint64_t> seed, const std::string& data_dir, std::size_t task,
            const std::string& agent) {
    Registry reg = builtin_registry();
    auto ex = std::make_shared<Experiment>(load(source, is_text, set, seed, data_dir, reg));
    stepper_ = std::make_unique<Stepper>(std::move(ex), task, agent);
  }
  void reset(std::uint64_t replication) { stepper_->reset(replication); }
  void step(std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> a) {
    if (!a) return stepper_->step({});
    if (a->ndim() != 1)
      throw ConfigError("the action must be a 1-D array of " +
                        std::to_string(stepper_->action_size()) + " weights");
    if (a->size() == 0)
      throw ConfigError("the action is empty; pass None to keep the previous action");
    stepper_->step(std::span<const double>(a->data(), static_cast<std::size_t>(a->size())));
  }
  py::dict observation() const {
    const Request& r = stepper_->request();
    py::dict d;
    d["index"] = r.index;
    d["time"] = r.time;
    d["user"] = r.user;
    py::array_t<double> f(
        {static_cast<py::ssize_t>(r.features.rows()), static_cast<py::ssize_t>(r.features.cols())});
    std::copy(r.features.data(), r.features.data() + r.features.size(), f.mutable_data());
    d["features"] = f;
    return d;
  }
  py::dict last() const {
    py::dict d;
    const auto served = stepper_->served();
    d["served"] = std::vector<int>(served.begin(), served.end());
    const auto out = stepper_->outcomes();
    const std::size_t m = stepper_->config().world.objectives.size();
    py::array_t<double> o({static_cast<py::ssize_t>(served.size()), static_cast<py::ssize_t>(m)});
    std::copy(out.begin(), out.end(), o.mutable_data());
    d["outcomes"] = o;
    d["reward"] = stepper_->reward();
    py::list ev;
    for (const World::SessionEvent& e : stepper_->events()) {
      py::dict x;
      x["kind"] = e.kind == World::SessionEvent::Kind::start ? "start" : "end";
      x["user"] = e.user;
      x["time"] = e.time;
      x["requests"] = e.requests;
      x["reward"] = e.reward;
      x["gap"] = e.gap;
      ev.append(x);
    }
    d["events"] = ev;
    return d;
  }
  std::size_t action_size() const { return stepper_->action_size(); }
  std::int64_t steps() const { return stepper_->steps(); }
  std::int64_t horizon() const { return stepper_->horizon(); }
  bool done() const { return stepper_->done(); }
  std::vector<std::string> objectives() const { return stepper_->config().world.objectives; }
  std::int64_t items() const { return stepper_->config().world.items; }

 private:
  std::unique_ptr<Stepper> stepper_;
};

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
        py::arg("resume"), py::arg("journal"), py::arg("checkpoint_interval"),
        py::arg("shard_index"), py::arg("shard_count"), py::arg("variants"));
  m.def("check", &check, py::arg("source"), py::arg("is_text"), py::arg("set"), py::arg("seed"),
        py::arg("data_dir"), py::arg("variants"));
  m.def("list", &list_components);
  py::class_<PyStepper>(m, "Stepper")
      .def(py::init<const std::string&, bool, const std::vector<std::string>&,
                    std::optional<std::uint64_t>, const std::string&, std::size_t,
                    const std::string&>(),
           py::arg("source"), py::arg("is_text"), py::arg("set"), py::arg("seed"),
           py::arg("data_dir"), py::arg("task"), py::arg("agent"))
      .def("reset", &PyStepper::reset, py::arg("replication"))
      .def("step", &PyStepper::step, py::arg("action"))
      .def("observation", &PyStepper::observation)
      .def("last", &PyStepper::last)
      .def_property_readonly("action_size", &PyStepper::action_size)
      .def_property_readonly("steps", &PyStepper::steps)
      .def_property_readonly("horizon", &PyStepper::horizon)
      .def_property_readonly("done", &PyStepper::done)
      .def_property_readonly("objectives", &PyStepper::objectives)
      .def_property_readonly("items", &PyStepper::items);
}
