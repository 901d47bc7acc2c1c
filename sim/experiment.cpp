#include "sim/experiment.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include "sim/estimate.hpp"

namespace stagesim {
namespace {

// ---- small TOML helpers -------------------------------------------------------------------------

std::string where(const toml::key& k, const toml::node* n = nullptr) {
  if (k.source().begin.line != 0) return source_of(k.source());
  if (n) return source_of(*n);
  return source_of(k.source());
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// Splits a key path on dots, honouring "quoted segments".
std::vector<std::string> split_path(const std::string& p, const std::string& origin) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : p) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '.' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  for (const std::string& s : out)
    if (s.empty() || quoted)
      throw ConfigError(origin + ": malformed key path '" + printable(p) +
                        "'; write segments separated by dots, e.g. stages.ranker.alpha");
  return out;
}

// Moves `value` into `root` at `path`, creating intermediate tables.
void assign(toml::table& root, const std::vector<std::string>& path, toml::node&& value,
            const std::string& origin) {
  toml::table* t = &root;
  std::string walked;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    walked += (i ? "." : "") + path[i];
    toml::node* child = t->get(path[i]);
    if (!child) {
      // Parsed rather than default-constructed, so messages about the new table name `origin`.
      toml::table holder = toml::parse("t = {}", origin);
      t->insert_or_assign(path[i], std::move(*holder.get("t")->as_table()));
      child = t->get(path[i]);
    }
    if (!child->is_table())
      throw ConfigError(origin + ": cannot set '" + join(path, ".") + "' because '" + walked +
                        "' is " + describe_node(*child) + ", not a table");
    t = child->as_table();
  }
  value.visit([&](auto&& v) { t->insert_or_assign(path.back(), std::move(v)); });
}

const toml::node* lookup(const toml::table& root, const std::vector<std::string>& path) {
  const toml::node* n = &root;
  for (const std::string& s : path) {
    if (!n->is_table()) return nullptr;
    n = n->as_table()->get(s);
    if (!n) return nullptr;
  }
  return n;
}

toml::table parse_toml(const std::string& text, const std::string& path) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source_of(e.source()) +
                      ": TOML syntax error: " + std::string(e.description()));
  }
}

// `s` as a TOML basic string.
std::string toml_quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A --set value: TOML if it parses, else taken as a bare string (so `type=linucb` works). Either
// way the node's source is the --set argument, which messages then name.
toml::table parse_set_value(const std::string& value, const std::string& origin) {
  try {
    return toml::parse("v = " + value, origin);
  } catch (const toml::parse_error&) {
  }
  try {
    return toml::parse("v = " + toml_quoted(value), origin);
  } catch (const toml::parse_error&) {
    throw ConfigError(origin + ": the value is neither TOML nor a plain string (invalid UTF-8?)");
  }
}

struct SetOverride {
  std::vector<std::string> path;
  std::string raw_path;
  std::string value;
  std::string origin;
};

std::vector<SetOverride> parse_sets(const std::vector<std::string>& sets) {
  std::vector<SetOverride> out;
  for (const std::string& s : sets) {
    auto eq = s.find('=');
    std::string origin = "--set " + printable(s);
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(origin + ": expected key.path=value, e.g. --set world.items=50");
    SetOverride o;
    o.raw_path = s.substr(0, eq);
    o.value = s.substr(eq + 1);
    o.origin = origin;
    o.path = split_path(o.raw_path, origin);
    out.push_back(std::move(o));
  }
  return out;
}

// ---- option groups of the engine itself ---------------------------------------------------------

struct ExperimentOpts {
  std::string name;
  std::string description;
  int64_t seed = 1;
  int64_t replications = 1;
  int64_t horizon = 1000;
  int64_t checkpoints = 100;
  bool checkpoint_start = false;
};

OptionGroup<ExperimentOpts> experiment_options() {
  OptionGroup<ExperimentOpts> g;
  g.add("name", &ExperimentOpts::name, "name of the experiment (default: the file name)")
      .add("description", &ExperimentOpts::description, "free text, copied to the output")
      .add("seed", &ExperimentOpts::seed, "master seed of every random stream",
           at_least<int64_t>(0))
      .add("replications", &ExperimentOpts::replications,
           "independent repetitions of every configuration", at_least<int64_t>(1))
      .add("horizon", &ExperimentOpts::horizon, "requests per replication", at_least<int64_t>(1))
      .add("checkpoints", &ExperimentOpts::checkpoints,
           "evenly spaced points at which metrics are recorded (<= horizon)", at_least<int64_t>(1))
      .add("checkpoint_start", &ExperimentOpts::checkpoint_start,
           "also record metrics before the first request (e.g. the initial policy value)");
  return g;
}

const EnumTable<ArrivalProcess> kArrivalProcesses{{"fixed", ArrivalProcess::fixed},
                                                  {"poisson", ArrivalProcess::poisson}};
const EnumTable<DelayModel> kDelayModels{{"none", DelayModel::none},
                                         {"fixed", DelayModel::fixed},
                                         {"exponential", DelayModel::exponential}};
const EnumTable<TrainOn> kTrainOn{
    {"all", TrainOn::all}, {"own_pool", TrainOn::own_pool}, {"own_nominee", TrainOn::own_nominee}};

struct ArrivalOpts {
  ArrivalProcess process = ArrivalProcess::fixed;
  double rate = 1.0;
};

OptionGroup<ArrivalOpts> arrival_options() {
  OptionGroup<ArrivalOpts> g;
  g.add("process", &ArrivalOpts::process,
        "request arrival process: fixed spacing 1/rate, or poisson with this rate",
        kArrivalProcesses)
      .add("rate", &ArrivalOpts::rate, "requests per unit time", greater_than<double>(0));
  return g;
}

struct FeedbackOpts {
  DelayModel delay = DelayModel::none;
  double delay_mean = 0.0;
};

OptionGroup<FeedbackOpts> feedback_options() {
  OptionGroup<FeedbackOpts> g;
  g.add("delay", &FeedbackOpts::delay,
        "feedback delay model: none (before the next request), fixed, or exponential", kDelayModels)
      .add("delay_mean", &FeedbackOpts::delay_mean, "mean feedback delay in time units",
           at_least<double>(0));
  return g;
}

struct StageStructOpts {
  std::string type;
  int64_t keep = 1;
  int64_t replicas = 1;
  TrainOn train_on = TrainOn::all;
  int64_t update_every = 1;
  double update_interval = 0;
};

OptionGroup<StageStructOpts> stage_struct_options() {
  OptionGroup<StageStructOpts> g;
  g.add("type", &StageStructOpts::type, "registered stage type (see `stagesim list`)")
      .add("keep", &StageStructOpts::keep, "items each replica passes on",
           between<int64_t>(1, kMaxCount))
      .add("replicas", &StageStructOpts::replicas,
           "parallel copies of this stage (e.g. N nominators), each with its own pool and features",
           between<int64_t>(1, kMaxCount))
      .add("train_on", &StageStructOpts::train_on,
           "which feedback a replica learns from: all, served items in its own pool, or only its "
           "own nominee",
           kTrainOn)
      .add("update_every", &StageStructOpts::update_every,
           "learn after every this many feedbacks (batch updates)", between<int64_t>(1, kMaxCount))
      .add("update_interval", &StageStructOpts::update_interval,
           "if > 0, learn on a clock every this many time units instead", at_least<double>(0));
  return g;
}

}  // namespace

const std::vector<std::string>& structural_stage_keys() {
  static const std::vector<std::string> keys = {
      "type",     "input",    "keep",         "replicas",        "pools",
      "features", "train_on", "update_every", "update_interval", "objective"};
  return keys;
}

namespace {

// "FILE:L:C: key 'KEY': unknown WHAT 'VALUE' (did you mean ...?); registered: ..." for a stage,
// world or job type: one wording for every registry kind.
ConfigError unknown_type(const toml::node& at, const std::string& key, const std::string& what,
                         const std::string& value, const std::vector<std::string>& names) {
  const std::string hint = closest_match(value, names);
  return ConfigError(
      source_of(at) + ": key '" + key + "': unknown " + what + " '" + printable(value) + "'" +
      (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; registered: " + join(names));
}

std::vector<std::vector<int>> read_int_lists(const toml::node& n, const std::string& path,
                                             const std::string& what) {
  std::vector<std::vector<int>> out;
  const toml::array* a = n.as_array();
  auto bad = [&](const toml::node& at) {
    throw ConfigError(source_of(at) + ": key '" + path + "' must be " + what);
  };
  if (!a || a->empty()) bad(n);
  for (const toml::node& e : *a) {
    const toml::array* inner = e.as_array();
    if (!inner || inner->empty()) bad(e);
    std::vector<int> v;
    for (const toml::node& x : *inner) {
      auto i = x.value_exact<int64_t>();
      if (!i || *i < std::numeric_limits<int>::min() || *i > std::numeric_limits<int>::max())
        bad(x);
      v.push_back(static_cast<int>(*i));
    }
    out.push_back(std::move(v));
  }
  return out;
}

struct ParsedStage {
  StageSpec spec;
  const toml::table* table = nullptr;  // the stage's table in the configuration's document
  toml::table resolved;
  const toml::node* keep_node = nullptr;
  std::vector<const toml::node*> input_nodes;
};

ParsedStage parse_stage(const std::string& name, const toml::table& t, const Registry& reg,
                        const WorldBuild& world, const ParseContext& ctx) {
  ParsedStage ps;
  ps.table = &t;
  StageSpec& s = ps.spec;
  s.name = name;
  const std::string path = "stages." + name;
  std::vector<std::string> skip = {"input", "pools", "features", "objective"};
  // Structural keys here; everything else is left for the type's own option group to check.
  std::vector<std::string> ignore;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    const auto& sk = structural_stage_keys();
    if (std::find(sk.begin(), sk.end(), key) == sk.end() ||
        std::find(skip.begin(), skip.end(), key) != skip.end())
      ignore.push_back(key);
  }
  StageStructOpts so = stage_struct_options().parse(t, path, "", ignore);
  if (so.type.empty())
    throw ConfigError(
        source_of(t) + ": stage '" + name +
        "' needs a type, e.g. type = \"linucb\"; registered: " + join(Registry::names(reg.stages)));
  const StageEntry* entry = reg.stage(so.type);
  if (!entry) {
    throw unknown_type(*t.get("type"), path + ".type", "stage type", so.type,
                       Registry::names(reg.stages));
  }
  s.type = so.type;
  s.keep = static_cast<int>(so.keep);
  s.replicas = static_cast<int>(so.replicas);
  s.train_on = so.train_on;
  s.update_every = static_cast<int>(so.update_every);
  s.update_interval = so.update_interval;
  ps.keep_node = t.get("keep");

  // input: "items", a stage name, or a list of stage names.
  if (const toml::node* in = t.get("input")) {
    if (auto str = in->value_exact<std::string>()) {
      s.inputs = {*str};
      ps.input_nodes = {in};
    } else if (const toml::array* a = in->as_array(); a && !a->empty()) {
      for (const toml::node& e : *a) {
        auto v = e.value_exact<std::string>();
        if (!v)
          throw ConfigError(source_of(e) + ": key '" + path +
                            ".input' must list stage names as strings");
        s.inputs.push_back(*v);
        ps.input_nodes.push_back(&e);
      }
    } else {
      throw ConfigError(source_of(*in) + ": key '" + path +
                        ".input' must be \"items\", a stage name, or a list of stage names");
    }
  } else {
    s.inputs = {"items"};
    ps.input_nodes = {nullptr};
  }

  // pools: how replicas split their input.
  s.pools = s.replicas > 1 ? PoolMode::round_robin : PoolMode::shared;
  if (const toml::node* p = t.get("pools")) {
    if (auto str = p->value_exact<std::string>()) {
      if (*str == "shared") {
        s.pools = PoolMode::shared;
      } else if (*str == "round_robin") {
        s.pools = PoolMode::round_robin;
      } else {
        throw ConfigError(source_of(*p) + ": key '" + path + ".pools' = \"" + *str +
                          "\" is not allowed; use \"shared\", \"round_robin\" or a list of item "
                          "id lists, one per replica");
      }
    } else {
      s.pools = PoolMode::explicit_list;
      s.explicit_pools = read_int_lists(*p, path + ".pools",
                                        "\"shared\", \"round_robin\" or a list of item id "
                                        "lists, one per replica");
      if (static_cast<int>(s.explicit_pools.size()) != s.replicas)
        throw ConfigError(source_of(*p) + ": key '" + path + ".pools' lists " +
                          std::to_string(s.explicit_pools.size()) + " pools but replicas = " +
                          std::to_string(s.replicas) + "; give one pool per replica");
      for (const auto& pool : s.explicit_pools)
        for (int id : pool)
          if (id < 0 || id >= world.items)
            throw ConfigError(source_of(*p) + ": key '" + path + ".pools' has item " +
                              std::to_string(id) + " but the world has items 0.." +
                              std::to_string(world.items - 1));
    }
  }

  // features: 0 = all; s = random subset of size s per replica; or explicit lists.
  if (const toml::node* f = t.get("features")) {
    if (auto i = f->value_exact<int64_t>()) {
      if (*i < 0 || *i > world.dim)
        throw ConfigError(source_of(*f) + ": key '" + path + ".features' = " + std::to_string(*i) +
                          " is out of range; allowed: 0 (all) to " + std::to_string(world.dim) +
                          " (the world's feature dimension)");
      s.feature_count = static_cast<int>(*i == world.dim ? 0 : *i);
    } else {
      s.explicit_features = read_int_lists(*f, path + ".features",
                                           "an integer (0 = all) or a list of feature-index lists");
      if (s.explicit_features.size() != 1 &&
          static_cast<int>(s.explicit_features.size()) != s.replicas)
        throw ConfigError(source_of(*f) + ": key '" + path + ".features' lists " +
                          std::to_string(s.explicit_features.size()) +
                          " subsets; give one, or one per replica (" + std::to_string(s.replicas) +
                          ")");
      for (auto& fs : s.explicit_features) {
        std::sort(fs.begin(), fs.end());
        for (size_t j = 0; j < fs.size(); ++j)
          if (fs[j] < 0 || fs[j] >= world.dim || (j && fs[j] == fs[j - 1]))
            throw ConfigError(source_of(*f) + ": key '" + path +
                              ".features' must list distinct feature indices in 0.." +
                              std::to_string(world.dim - 1));
      }
    }
  }

  // objective: what the stage trains on — an objective's name, or weights {name = w, ...}.
  const std::vector<std::string>& objs = world.objectives;
  std::string objective_text = objs.front();
  toml::table objective_table;
  if (const toml::node* o = t.get("objective")) {
    auto check_name = [&](const std::string& n, const toml::node& at) {
      if (std::find(objs.begin(), objs.end(), n) != objs.end()) return;
      const std::string hint = closest_match(n, objs);
      throw ConfigError(source_of(at) + ": key '" + path + ".objective': the world has no " +
                        "objective '" + n + "'" +
                        (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                        "; its objectives: " + join(objs));
    };
    if (auto str = o->value_exact<std::string>()) {
      check_name(*str, *o);
      objective_text = *str;
      if (*str != objs.front()) {
        s.objective_weights.assign(objs.size(), 0.0);
        s.objective_weights[std::find(objs.begin(), objs.end(), *str) - objs.begin()] = 1.0;
      }
    } else if (const toml::table* ot = o->as_table(); ot && !ot->empty()) {
      s.objective_weights.assign(objs.size(), 0.0);
      for (const auto& [k, v] : *ot) {
        std::string n(k.str());
        check_name(n, v);
        auto w = OptionTraits<double>::read(v);
        if (!w || !std::isfinite(*w))
          throw ConfigError(source_of(v) + ": key '" + path + ".objective." + n +
                            "' must be a finite number (the objective's weight)");
        s.objective_weights[std::find(objs.begin(), objs.end(), n) - objs.begin()] = *w;
        objective_table.insert_or_assign(n, *w);
      }
    } else {
      throw ConfigError(source_of(*o) + ": key '" + path +
                        ".objective' must be an objective's name or a table of weights, e.g. "
                        "objective = { " +
                        objs.front() + " = 1.0 }; the world's objectives: " + join(objs));
    }
  }

  // The type's own parameters.
  toml::table& r = ps.resolved;
  r.insert_or_assign("type", s.type);
  toml::array inputs;
  for (const auto& i : s.inputs) inputs.push_back(i);
  r.insert_or_assign("input", inputs);
  r.insert_or_assign("keep", static_cast<int64_t>(s.keep));
  r.insert_or_assign("replicas", static_cast<int64_t>(s.replicas));
  if (s.pools == PoolMode::explicit_list)
    r.insert_or_assign("pools", OptionTraits<std::vector<std::vector<int64_t>>>::to_array([&] {
                         std::vector<std::vector<int64_t>> v;
                         for (auto& p : s.explicit_pools) v.emplace_back(p.begin(), p.end());
                         return v;
                       }()));
  else
    r.insert_or_assign("pools", s.pools == PoolMode::shared ? "shared" : "round_robin");
  if (!s.explicit_features.empty()) {
    std::vector<std::vector<int64_t>> v;
    for (auto& p : s.explicit_features) v.emplace_back(p.begin(), p.end());
    r.insert_or_assign("features", OptionTraits<decltype(v)>::to_array(v));
  } else {
    r.insert_or_assign("features", static_cast<int64_t>(s.feature_count));
  }
  r.insert_or_assign("train_on", kTrainOn.name(so.train_on));
  r.insert_or_assign("update_every", so.update_every);
  r.insert_or_assign("update_interval", so.update_interval);
  if (!objective_table.empty())
    r.insert_or_assign("objective", objective_table);
  else
    r.insert_or_assign("objective", objective_text);
  s.build = entry->parse(t, path, r, ctx);
  if (s.build.needs_users && world.users == 0)
    throw ConfigError(source_of(*t.get("type")) + ": stage '" + name + "' of type '" + s.type +
                      "' learns per-user parameters, but the world has no user ids; use a "
                      "tabular world (tabular, kuairec, embedding)");
  if (s.build.needs_features && world.dim == 0)
    throw ConfigError(source_of(*t.get("type")) + ": stage '" + name + "' of type '" + s.type +
                      "' scores item features, but the world has none; use a stage that learns "
                      "from ids (see `stagesim list`) or a world with features");
  return ps;
}

// ---- pipeline graph -----------------------------------------------------------------------------

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

struct CycleFinder : boost::default_dfs_visitor {
  std::pair<int, int>* edge;
  explicit CycleFinder(std::pair<int, int>* e) : edge(e) {}
  void back_edge(Graph::edge_descriptor e, const Graph& g) {
    if (edge->first < 0) *edge = {static_cast<int>(source(e, g)), static_cast<int>(target(e, g))};
  }
};

// A clock must advance the simulated time: the calendar re-pushes each update at t + interval, so
// an interval below the time's resolution at the last arrival would repeat forever, and one that is
// tiny against the arrival spacing would run billions of empty updates.
void check_update_interval(const Config& c, const StageSpec& s, const ParsedStage& ps) {
  if (s.update_interval <= 0) return;
  const double h = static_cast<double>(c.horizon);
  // The last arrival: fixed spacing, or a sum of h Exp(1) gaps (12 standard deviations above).
  const double t_end = c.arrivals == ArrivalProcess::fixed ? (h - 1) / c.rate
                                                           : (h + 12 * std::sqrt(h) + 50) / c.rate;
  const std::string where = key_source(*ps.table, "update_interval") + ": key 'stages." + s.name +
                            ".update_interval' = " + format_number(s.update_interval);
  if (!(t_end + s.update_interval > t_end))
    throw ConfigError(where + " cannot advance the clock: the run reaches time " +
                      format_number(t_end) + ", where adding it changes nothing; use at least " +
                      format_number(t_end * 2.3e-16) + ", or update_every for batches");
  const double updates = t_end / s.update_interval;
  if (updates > 1000 * h + 1e6)
    throw ConfigError(where + " means about " + format_number(std::round(updates)) +
                      " clock updates for " + std::to_string(c.horizon) +
                      " requests; use an interval of at least " +
                      format_number(t_end / (1000 * h + 1e6)) + " time units (requests arrive " +
                      format_number(c.rate) + " per unit), or update_every for batches");
}

// Orders stages from the item pool to the user, checks inputs, cycles, the single sink and sizes.
// Memory of the feedback held between serving and learning (delays, batches): requests in
// flight times what each record keeps (System::Record): the whole request when a stage reads it
// all at learn, else the slate's feature rows or nothing, plus every stage's decision.
double held_feedback_bytes(const Config& c) {
  double in_flight = c.delay == DelayModel::none ? 0.0 : c.rate * c.delay_mean;
  HeldFeatures hold = HeldFeatures::none;
  double decisions = 0;
  for (const StageSpec& s : c.stages) {
    hold = std::min(hold, s.build.held_features);
    in_flight = std::max(in_flight, s.update_every + c.rate * s.update_interval);
    decisions += s.replicas * (4.0 * s.keep + 64.0);
  }
  in_flight = std::min(in_flight, static_cast<double>(c.horizon));
  if (in_flight <= 1) return 0;
  const double dim = c.world.dim, items = c.world.items;
  const double rows = hold == HeldFeatures::whole    ? items * dim + items
                      : hold == HeldFeatures::served ? c.slate * dim
                                                     : 0.0;
  return in_flight * (8.0 * rows + 24.0 * c.slate + decisions + 256.0);
}

void build_pipeline(Config& c, std::vector<ParsedStage>& parsed, const toml::table& stages_table) {
  const int n = static_cast<int>(parsed.size());
  std::map<std::string, int> id;
  for (int i = 0; i < n; ++i) id[parsed[i].spec.name] = i + 1;  // vertex 0 = the item pool
  std::vector<std::string> names;
  for (auto& p : parsed) names.push_back(p.spec.name);
  Graph g(n + 1);
  std::vector<int> consumers(n + 1, 0);
  for (int i = 0; i < n; ++i) {
    const StageSpec& s = parsed[i].spec;
    for (size_t j = 0; j < s.inputs.size(); ++j) {
      const std::string& in = s.inputs[j];
      int src;
      if (in == "items") {
        src = 0;
      } else if (auto it = id.find(in); it != id.end()) {
        src = it->second;
      } else {
        const toml::node* at = parsed[i].input_nodes[j];
        std::string hint = closest_match(in, names);
        throw ConfigError((at ? source_of(*at) : source_of(stages_table)) + ": key 'stages." +
                          s.name + ".input': '" + in + "' is not a stage" +
                          (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                          "; use \"items\" or one of: " + join(names));
      }
      if (src == i + 1)
        throw ConfigError(source_of(*parsed[i].input_nodes[j]) + ": key 'stages." + s.name +
                          ".input': a stage cannot feed itself");
      boost::add_edge(src, i + 1, g);
      consumers[src]++;
    }
  }
  std::pair<int, int> back{-1, -1};
  boost::depth_first_search(g, boost::visitor(CycleFinder(&back)));
  if (back.first >= 0)
    throw ConfigError(source_of(stages_table) + ": stages form a cycle through '" +
                      names[back.first - 1] + "' -> '" + names[back.second - 1] +
                      "'; the pipeline must be acyclic, from \"items\" to one final stage");
  std::vector<std::string> sinks;
  for (int i = 0; i < n; ++i)
    if (consumers[i + 1] == 0) sinks.push_back(names[i]);
  if (sinks.size() != 1)
    throw ConfigError(source_of(stages_table) +
                      ": the pipeline must end in exactly one stage, "
                      "but these feed no other stage: " +
                      join(sinks) + "; connect them with `input` or remove them");
  std::vector<Graph::vertex_descriptor> topo;
  boost::topological_sort(g, std::back_inserter(topo));
  std::reverse(topo.begin(), topo.end());
  std::vector<int> level(n + 1, 0), order;
  for (auto v : topo) {
    if (v == 0) continue;
    int lv = 0;
    for (const std::string& in : parsed[v - 1].spec.inputs)
      lv = std::max(lv, in == "items" ? 1 : level[id[in]] + 1);
    level[v] = lv;
    order.push_back(static_cast<int>(v) - 1);
  }
  // Stable order: by level, then by name, so results do not depend on declaration order.
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return level[a + 1] < level[b + 1]; });
  int levels = 0;
  for (int i = 0; i < n; ++i) levels = std::max(levels, level[i + 1]);
  c.level_names.assign(levels, "");
  // Candidate counts (upper bounds) and keep checks.
  std::vector<double> out_count(n + 1, 0);
  out_count[0] = c.world.items;
  for (int i : order) {
    StageSpec& s = parsed[i].spec;
    double in_count = 0;
    for (const std::string& in : s.inputs) in_count += out_count[in == "items" ? 0 : id[in]];
    in_count = std::min<double>(in_count, c.world.items);
    double per_replica = in_count;
    if (s.pools == PoolMode::round_robin)
      per_replica = std::max(1.0, std::floor(in_count / s.replicas));
    if (s.pools == PoolMode::explicit_list) {
      per_replica = 1e300;
      for (auto& p : s.explicit_pools) per_replica = std::min<double>(per_replica, p.size());
    }
    if (s.keep > per_replica)
      throw ConfigError(
          (parsed[i].keep_node ? source_of(*parsed[i].keep_node) : source_of(stages_table)) +
          ": key 'stages." + s.name + ".keep' = " + std::to_string(s.keep) +
          " but each replica receives at most " +
          std::to_string(static_cast<long long>(per_replica)) +
          " candidates; lower keep or give the stage a larger pool");
    check_update_interval(c, s, parsed[i]);
    const int dim = s.feature_count               ? s.feature_count
                    : s.explicit_features.empty() ? c.world.dim
                                                  : static_cast<int>(s.explicit_features[0].size());
    if (s.build.validate) {
      StageContext sc;
      sc.name = s.name;
      sc.path = "stages." + s.name;
      sc.table = parsed[i].table;
      sc.inputs = s.inputs;
      sc.whole_pool =
          s.inputs.size() == 1 && s.inputs[0] == "items" &&
          (s.pools == PoolMode::shared || (s.pools == PoolMode::round_robin && s.replicas == 1));
      sc.candidates = per_replica;
      sc.keep = s.keep;
      sc.replicas = s.replicas;
      sc.update_every = s.update_every;
      sc.update_interval = s.update_interval;
      if (s.explicit_features.size() > 1)
        for (const auto& fs : s.explicit_features)
          sc.features_seen.push_back(static_cast<int>(fs.size()));
      else
        sc.features_seen = {dim};
      sc.feedback_in_order = c.delay != DelayModel::exponential;
      sc.horizon = c.horizon;
      sc.world = &c.world;
      s.build.validate(sc);
    }
    out_count[i + 1] = std::min<double>(static_cast<double>(s.keep) * s.replicas, c.world.items);
    c.cost += s.replicas * (s.build.cost(per_replica, dim) + kStageOverheadFlops);
    if (s.build.cost_per_kept)
      c.cost += s.replicas * static_cast<double>(s.keep) * s.build.cost_per_kept(per_replica, dim);
    c.eval_cost_per_request +=
        s.replicas * ((s.build.eval_cost ? s.build.eval_cost : s.build.cost)(per_replica, dim) +
                      kStageOverheadFlops);
    // Per replica: the stage's own state, and the engine's candidate, selection and weight
    // buffers.
    c.bytes +=
        s.replicas * ((s.build.bytes ? s.build.bytes(per_replica, dim)
                                     : 8.0 * (4.0 * per_replica + 2.0 * dim * dim + 4.0 * dim)) +
                      16.0 * per_replica + 256.0);
    std::string& ln = c.level_names[level[i + 1] - 1];
    ln += (ln.empty() ? "" : "+") + s.name;
  }
  for (int i : order) {
    c.stages.push_back(std::move(parsed[i].spec));
    c.stage_level.push_back(level[i + 1] - 1);
  }
  c.slate = c.stages.back().keep * c.stages.back().replicas;
  c.bytes += held_feedback_bytes(c);
}

std::string to_text(const toml::table& t) {
  std::ostringstream os;
  os << toml::toml_formatter(t);
  return os.str();
}

// ---- one configuration --------------------------------------------------------------------------

struct GlobalSettings {
  ExperimentOpts exp;
  bool set = false;
};

// Keeps [experiment]'s shared keys equal across configurations.
void check_global(GlobalSettings& global, const ExperimentOpts& eo, const std::string& file) {
  if (!global.set) {
    global.exp = eo;
    global.set = true;
    return;
  }
  auto differs = [&](const char* key, bool d) {
    if (d)
      throw ConfigError(file + ": key 'experiment." + key +
                        "' must be the same for every grid point and variant");
  };
  differs("seed", eo.seed != global.exp.seed);
  differs("replications", eo.replications != global.exp.replications);
  differs("checkpoints", eo.checkpoints != global.exp.checkpoints);
  differs("checkpoint_start", eo.checkpoint_start != global.exp.checkpoint_start);
}

// [world]: its type's option group; fills c.world / c.world_type and returns the resolved table.
toml::table parse_world(const toml::table& wt, const Registry& reg, const ParseContext& ctx,
                        Config& c) {
  const toml::node* wtype = wt.get("type");
  if (!wtype || !wtype->is_string())
    throw ConfigError(source_of(wt) + ": [world] needs type = \"...\"; registered worlds: " +
                      join(Registry::names(reg.worlds)));
  c.world_type = *wtype->value<std::string>();
  const WorldEntry* we = reg.world(c.world_type);
  if (!we) {
    throw unknown_type(*wtype, "world.type", "world", c.world_type, Registry::names(reg.worlds));
  }
  toml::table world_resolved;
  world_resolved.insert_or_assign("type", c.world_type);
  try {
    c.world = we->parse(wt, "world", world_resolved, ctx);
  } catch (const ConfigError& e) {
    // Checks across a world's keys name the key but not the place: point at the table.
    if (std::string_view(e.what()).starts_with("key '"))
      throw ConfigError(source_of(wt) + ": " + e.what());
    throw;
  }
  return world_resolved;
}

// A configuration whose [job] names an offline job: [experiment], an optional [world] the job
// may use, and the job's own keys. No requests, stages or metrics.
Config validate_job_config(toml::table& doc, const Registry& reg, GlobalSettings& global,
                           const std::string& file, const ParseContext& ctx) {
  static const std::vector<std::string> top = {"experiment", "world", "job"};
  for (const auto& [k, v] : doc) {
    std::string key(k.str());
    if (key == "grid" || key == "variant")
      throw ConfigError(where(k, &v) + ": '" + key +
                        "' cannot be set by --set or inside [grid] / [[variant]]; write it at the "
                        "top level of the experiment file");
    if (std::find(top.begin(), top.end(), key) == top.end()) {
      if (key == "stages" || key == "metrics" || key == "arrivals" || key == "feedback")
        throw ConfigError(where(k, &v) + ": '" + key +
                          "' does not apply to a [job] (jobs serve no requests); remove it, or "
                          "remove [job] to simulate a pipeline");
      std::vector<std::string> allowed = top;
      allowed.push_back("grid");
      allowed.push_back("variant");
      throw_unknown_key(k, key, "", allowed, &v);
    }
    if (!v.is_table())
      throw ConfigError(where(k, &v) + ": '" + key + "' must be a table, e.g. [" + key + "]");
  }
  Config c;
  static const toml::table empty;
  const toml::node* en = doc.get("experiment");
  const toml::table& et = en ? *en->as_table() : empty;
  for (const char* k : {"horizon", "checkpoints", "checkpoint_start"})
    if (const toml::node* n = et.get(k))
      throw ConfigError(source_of(*n) + ": key 'experiment." + k +
                        "' does not apply to a [job]; its own options set how long it runs and "
                        "what it records (see `stagesim list`)");
  ExperimentOpts eo = experiment_options().parse(et, "experiment", "");
  eo.checkpoints = 0;
  check_global(global, eo, file);

  // The job type first: a misspelt one is reported before any data is loaded.
  const toml::table& jt = *doc.get("job")->as_table();
  const toml::node* jtype = jt.get("type");
  if (!jtype || !jtype->is_string())
    throw ConfigError(source_of(jt) + ": [job] needs type = \"...\"; registered jobs: " +
                      join(Registry::names(reg.jobs)));
  c.job_type = *jtype->value<std::string>();
  const JobEntry* je = reg.job(c.job_type);
  if (!je) {
    throw unknown_type(*jtype, "job.type", "job", c.job_type, Registry::names(reg.jobs));
  }
  toml::table resolved;
  ParseContext jctx = ctx;
  if (const toml::node* wn = doc.get("world")) {
    toml::table world_resolved = parse_world(*wn->as_table(), reg, ctx, c);
    jctx.world_table = wn->as_table();
    jctx.world = &c.world;
    toml::table scope;
    scope.insert_or_assign("world", world_resolved);
    c.world_scope = hash_text(to_text(scope));
    resolved.insert_or_assign("world", world_resolved);
  }
  toml::table job_resolved;
  job_resolved.insert_or_assign("type", c.job_type);
  c.job = je->parse(jt, "job", job_resolved, jctx);
  // The job's declarations are code, not input: a mistake here is a bug in the job type.
  std::set<std::string> axis_names, output_names;
  for (const JobAxis& a : c.job.axes)
    if (a.values.empty() || !axis_names.insert(a.name).second)
      throw std::logic_error("job type '" + c.job_type + "': axis '" + a.name +
                             "' is empty or declared twice");
  for (const JobOutput& o : c.job.outputs) {
    if (!output_names.insert(o.name).second)
      throw std::logic_error("job type '" + c.job_type + "': output '" + o.name +
                             "' declared twice");
    for (const std::string& a : o.axes)
      if (!axis_names.count(a))
        throw std::logic_error("job type '" + c.job_type + "': output '" + o.name +
                               "' uses undeclared axis '" + a + "'");
    c.series.push_back({o.name, o.units, o.description});
  }
  c.cost = c.job.cost;
  c.bytes = c.job.bytes;
  resolved.insert_or_assign("job", job_resolved);
  c.resolved = to_text(resolved);
  c.job_scope = hash_combine(hash_text("job"), hash_text(c.resolved));
  return c;
}

Config validate_config(toml::table& doc, const Registry& reg, GlobalSettings& global,
                       const std::string& file, const ParseContext& ctx) {
  if (doc.get("job")) return validate_job_config(doc, reg, global, file, ctx);
  if (const toml::node* m = doc.get("moe"))  // before its grid axes are reported as unknown keys
    throw ConfigError(
        source_of(*m) +
        ": [moe] is the format of the old `stagesim moe`; the MoE experiment is now "
        "a job: write [job] type = \"pool_learning\" with these keys, and grid axes "
        "\"job.experts\", \"job.item_dim\", ... (see experiments/two_stage/fig5.toml)");
  static const std::vector<std::string> top = {"experiment", "arrivals", "feedback",
                                               "world",      "stages",   "metrics"};
  for (const auto& [k, v] : doc) {
    std::string key(k.str());
    if (key == "grid" || key == "variant")
      throw ConfigError(where(k, &v) + ": '" + key +
                        "' cannot be set by --set or inside [grid] / [[variant]]; write it at the "
                        "top level of the experiment file");
    if (std::find(top.begin(), top.end(), key) == top.end()) {
      std::vector<std::string> allowed = top;
      allowed.push_back("grid");
      allowed.push_back("variant");
      allowed.push_back("job");
      throw_unknown_key(k, key, "", allowed, &v);
    }
    if (!v.is_table())
      throw ConfigError(where(k, &v) + ": '" + key + "' must be a table, e.g. [" + key + "]");
  }
  auto table_or_empty = [&](const char* k) -> const toml::table& {
    static const toml::table empty;
    const toml::node* n = doc.get(k);
    return n ? *n->as_table() : empty;
  };
  Config c;
  toml::table resolved;

  ExperimentOpts eo = experiment_options().parse(table_or_empty("experiment"), "experiment", "");
  if (eo.checkpoints > eo.horizon) {
    const toml::node* at = table_or_empty("experiment").get("checkpoints");
    throw ConfigError((at ? source_of(*at) : file) +
                      ": key 'experiment.checkpoints' = " + std::to_string(eo.checkpoints) +
                      " exceeds horizon = " + std::to_string(eo.horizon) +
                      "; use at most one checkpoint per request");
  }
  check_global(global, eo, file);
  c.horizon = eo.horizon;
  if (eo.checkpoint_start) c.checkpoint_steps.push_back(0);
  // In 128 bits: (j + 1) · horizon overflows int64 for horizons near 2^63.
  for (int64_t j = 0; j < eo.checkpoints; ++j)
    c.checkpoint_steps.push_back(
        static_cast<int64_t>((static_cast<__int128>(j + 1) * eo.horizon) / eo.checkpoints));
  {
    toml::table e;
    e.insert_or_assign("horizon", eo.horizon);
    resolved.insert_or_assign("experiment", e);
  }

  ArrivalOpts ao = arrival_options().parse(table_or_empty("arrivals"), "arrivals", "");
  c.arrivals = ao.process;
  c.rate = ao.rate;
  toml::table arrivals;
  arrival_options().write(ao, arrivals);

  FeedbackOpts fo = feedback_options().parse(table_or_empty("feedback"), "feedback", "");
  c.delay = fo.delay;
  c.delay_mean = fo.delay_mean;
  toml::table feedback;
  feedback_options().write(fo, feedback);

  // World.
  const toml::node* wn = doc.get("world");
  if (!wn)
    throw ConfigError(file +
                      ": missing [world] table; e.g. [world] type = \"linear\"; "
                      "registered worlds: " +
                      join(Registry::names(reg.worlds)));
  const toml::table& wt = *wn->as_table();
  toml::table world_resolved = parse_world(wt, reg, ctx, c);

  // Stages.
  const toml::node* sn = doc.get("stages");
  if (!sn || sn->as_table()->empty())
    throw ConfigError(file +
                      ": no stages; add at least one, e.g. [stages.policy] type = "
                      "\"linucb\"");
  const toml::table& st = *sn->as_table();
  std::vector<ParsedStage> parsed;
  toml::table stages_resolved;
  for (const auto& [k, v] : st) {
    std::string name(k.str());
    if (name == "items")
      throw ConfigError(where(k, &v) +
                        ": 'items' is reserved for the world's item pool; rename "
                        "the stage");
    if (!v.is_table())
      throw ConfigError(where(k, &v) + ": 'stages." + name + "' must be a table, e.g. [stages." +
                        name + "] type = \"linucb\"");
    parsed.push_back(parse_stage(name, *v.as_table(), reg, c.world, ctx));
    stages_resolved.insert_or_assign(name, parsed.back().resolved);
  }
  build_pipeline(c, parsed, st);
  const double cost_per_request = c.cost + c.world.cost_per_request;
  c.cost = cost_per_request * static_cast<double>(c.horizon);

  // Metrics (default: regret and reward).
  toml::table metrics_resolved;
  const toml::node* mn = doc.get("metrics");
  toml::table default_metrics;
  if (!mn) {
    default_metrics.insert_or_assign("regret", toml::table{});
    default_metrics.insert_or_assign("reward", toml::table{});
  }
  const toml::table& mt = mn ? *mn->as_table() : default_metrics;
  MetricSetup ms;
  ms.level_names = c.level_names;
  ms.slate = c.slate;
  for (const StageSpec& s : c.stages) {
    ms.stage_stats.emplace_back(s.name, s.build.stats);
    ms.stage_keep.push_back(s.keep);
    ms.stage_names.push_back(s.name);
  }
  ms.stage_level = c.stage_level;
  ms.items = c.world.items;
  ms.objectives = c.world.objectives;
  for (const auto& [k, v] : mt) {
    std::string type(k.str());
    const MetricEntry* me = reg.metric(type);
    if (!me) throw_unknown_key(k, "metrics." + type, "metrics", Registry::names(reg.metrics), &v);
    if (!v.is_table())
      throw ConfigError(where(k, &v) + ": 'metrics." + type +
                        "' must be a table (may be empty: "
                        "[metrics." +
                        type + "])");
    toml::table r;
    MetricSpec spec;
    spec.type = type;
    std::unique_ptr<Metric> probe;
    try {  // a metric checks its options against the pipeline and world here
      spec.build = me->parse(*v.as_table(), "metrics." + type, r, ctx);
      probe = spec.build.make(ms);
    } catch (const ConfigError& e) {
      if (!std::string_view(e.what()).starts_with("key '")) throw;
      throw ConfigError(source_of(v) + ": " + e.what());
    }
    if (spec.build.needs_sampled_requests && !c.world.samples_requests)
      throw ConfigError(where(k, &v) + ": metric '" + type +
                        "' evaluates the pipeline on fresh requests, but world type '" +
                        c.world_type + "' cannot draw them; remove [metrics." + type +
                        "] or use a world that can (see docs)");
    if (spec.build.cost_per_checkpoint)
      c.cost += spec.build.cost_per_checkpoint(c.eval_cost_per_request + c.world.cost_per_request) *
                static_cast<double>(c.checkpoint_steps.size());
    for (const SeriesInfo& si : probe->series()) c.series.push_back(si);
    for (const TableInfo& ti : probe->tables()) c.tables.push_back(ti);
    metrics_resolved.insert_or_assign(type, r);
    c.metrics.push_back(std::move(spec));
  }

  toml::table world_scope;
  world_scope.insert_or_assign("world", world_resolved);
  world_scope.insert_or_assign("arrivals", arrivals);
  world_scope.insert_or_assign("slate", static_cast<int64_t>(c.slate));
  c.world_scope = hash_text(to_text(world_scope));
  // Stage streams: a stage's own structure, chained through its inputs (see StageSpec::scope).
  std::map<std::string, std::uint64_t> scope_of;
  for (StageSpec& s : c.stages) {
    toml::table t;
    t.insert_or_assign("name", s.name);
    const toml::table& st = *stages_resolved.get(s.name)->as_table();
    for (const char* k : {"input", "keep", "replicas", "pools", "features"})
      if (const toml::node* n = st.get(k))
        n->visit([&](const auto& x) { t.insert_or_assign(k, x); });
    std::uint64_t h = hash_combine(c.world_scope, hash_text(to_text(t)));
    for (const std::string& in : s.inputs)
      if (in != "items") h = hash_combine(h, scope_of.at(in));
    s.scope = scope_of[s.name] = h;
  }

  resolved.insert_or_assign("arrivals", arrivals);
  resolved.insert_or_assign("feedback", feedback);
  resolved.insert_or_assign("world", world_resolved);
  resolved.insert_or_assign("stages", stages_resolved);
  resolved.insert_or_assign("metrics", metrics_resolved);
  c.resolved = to_text(resolved);
  return c;
}

// Applies a variant: stage tables whose type changes lose the old type's parameters; `remove`
// deletes tables (e.g. the ranker of a single-stage baseline); everything else overrides.
void merge_variant(toml::table& target, toml::table& src, const std::string& path) {
  for (auto&& [k, v] : src) {
    std::string key(k.str());
    std::string p = path.empty() ? key : path + "." + key;
    toml::node* existing = target.get(key);
    if (v.is_table() && existing && existing->is_table()) {
      toml::table& et = *existing->as_table();
      toml::table& vt = *v.as_table();
      if (path == "stages") {
        const toml::node* nt = vt.get("type");
        const toml::node* ot = et.get("type");
        if (nt && ot && nt->value<std::string>() != ot->value<std::string>()) {
          std::vector<std::string> drop;
          const auto& sk = structural_stage_keys();
          for (const auto& [ek, ev] : et)
            if (std::find(sk.begin(), sk.end(), std::string(ek.str())) == sk.end())
              drop.emplace_back(ek.str());
          for (const auto& d : drop) et.erase(d);
        }
      }
      merge_variant(et, vt, p);
    } else {
      const toml::key& name = k;  // (clang 14 cannot capture a structured binding)
      v.visit([&](auto&& x) { target.insert_or_assign(name, std::move(x)); });
    }
  }
}

struct GridAxis {
  std::string name;
  size_t size = 0;
};

// True when variant `vt` replaces or drops the value at `path` of `doc`: it sets the key, removes
// it or a table above it, or changes the type of the stage the key belongs to (which drops the
// old type's parameters).
bool variant_overrides(const toml::table& vt, const toml::table& doc,
                       const std::vector<std::string>& path) {
  if (lookup(vt, path)) return true;
  if (const toml::node* rm = vt.get("remove"); rm && rm->is_array())
    for (const toml::node& x : *rm->as_array()) {
      auto r = x.value<std::string>();
      if (!r) continue;
      std::vector<std::string> rp;
      try {
        rp = split_path(*r, "remove");
      } catch (const ConfigError&) {
        continue;
      }
      if (rp.size() <= path.size() && std::equal(rp.begin(), rp.end(), path.begin())) return true;
    }
  if (path.size() == 3 && path[0] == "stages") {
    const auto& sk = structural_stage_keys();
    if (std::find(sk.begin(), sk.end(), path[2]) != sk.end()) return false;
    const toml::node* nt = lookup(vt, {"stages", path[1], "type"});
    const toml::node* ot = lookup(doc, {"stages", path[1], "type"});
    return nt && ot && nt->value<std::string>() != ot->value<std::string>();
  }
  return false;
}

// Warnings for --set overrides that every variant replaces (they change nothing).
std::vector<std::string> shadowed_sets(const std::vector<SetOverride>& sets,
                                       const std::map<std::string, size_t>& set_on_axis,
                                       const toml::table& doc, const toml::array& variants) {
  std::vector<std::string> out;
  for (const SetOverride& s : sets) {
    if (set_on_axis.count(s.raw_path) || variants.empty()) continue;
    bool all = true;
    for (const toml::node& v : variants)
      all = all && v.is_table() && variant_overrides(*v.as_table(), doc, s.path);
    if (all)
      out.push_back(s.origin + " has no effect: every [[variant]] overrides '" +
                    printable(s.raw_path) + "'; change it in the variants instead");
  }
  return out;
}

// A job's output datasets and its cell layout: each output has the extents of its axes in each
// configuration, and its dataset takes the largest (smaller configurations leave NaN past their
// own extent, in the values and in /axes).
void layout_job_arrays(Experiment& ex) {
  for (const SeriesInfo& si : ex.series) ex.arrays.push_back({si.name, si.units, si.description});
  std::set<std::string> seen;
  for (const Config& c : ex.configs) {
    for (const JobAxis& ax : c.job.axes) {
      auto it = std::find_if(ex.axes.begin(), ex.axes.end(),
                             [&](const JobAxis& x) { return x.name == ax.name; });
      if (it == ex.axes.end()) ex.axes.push_back({ax.name, ax.units, {}});
    }
    for (const JobOutput& o : c.job.outputs) {
      ResultArray& a = *std::find_if(ex.arrays.begin(), ex.arrays.end(),
                                     [&](const ResultArray& x) { return x.name == o.name; });
      std::vector<std::size_t> shape;
      for (const std::string& an : o.axes) {
        const JobAxis& ax = *std::find_if(c.job.axes.begin(), c.job.axes.end(),
                                          [&](const JobAxis& x) { return x.name == an; });
        shape.push_back(ax.values.size());
      }
      if (seen.insert(o.name).second) {
        a.axes = o.axes;
        a.shape = shape;
      } else if (a.axes != o.axes) {
        throw ConfigError(ex.path + ": job output '" + o.name +
                          "' has different axes in different configurations; a grid or variant "
                          "may change an axis' length, not which axes an output has");
      }
      for (std::size_t d = 0; d < shape.size(); ++d) a.shape[d] = std::max(a.shape[d], shape[d]);
    }
  }
  std::size_t offset = 0;
  for (ResultArray& a : ex.arrays) {
    a.offset = offset;
    offset += a.size();
  }
  ex.cell_size = offset;
}

}  // namespace

Experiment parse_experiment(const std::string& text, const std::string& path,
                            const LoadOptions& opts, const Registry& reg) {
  Experiment ex;
  ex.path = path;
  ex.text = text;
  ex.set_overrides = opts.set;
  ex.variant_filter = opts.variants;
  std::vector<SetOverride> sets = parse_sets(opts.set);

  // First pass over a fresh parse: grid axes and variant names.
  toml::table doc0 = parse_toml(text, path);
  std::vector<GridAxis> axes;
  std::map<std::string, size_t> set_on_axis;  // --set that replaces a grid axis
  if (const toml::node* g = doc0.get("grid")) {
    if (!g->is_table())
      throw ConfigError(source_of(*g) + ": 'grid' must be a table of key path = [values]");
    for (const auto& [k, v] : *g->as_table()) {
      std::string name(k.str());
      const toml::array* a = v.as_array();
      if (!a)
        throw ConfigError(where(k, &v) + ": grid axis '" + name +
                          "' must be a list of values, e.g. \"world.items\" = [10, 100]");
      if (a->empty())
        throw ConfigError(where(k, &v) + ": grid axis '" + name +
                          "' is empty; give at least one value or remove it");
      bool tables = a->front().is_table();
      for (const toml::node& e : *a)
        if (e.is_table() != tables)
          throw ConfigError(source_of(e) + ": grid axis '" + name +
                            "' mixes tables and plain values; use one or the other");
      axes.push_back({name, a->size()});
    }
  }
  for (size_t i = 0; i < sets.size(); ++i)
    for (const GridAxis& a : axes)
      if (a.name == sets[i].raw_path) set_on_axis[a.name] = i;
  for (GridAxis& a : axes)
    if (auto it = set_on_axis.find(a.name); it != set_on_axis.end()) {
      toml::table v = parse_set_value(sets[it->second].value, sets[it->second].origin);
      const toml::array* arr = v.get("v")->as_array();
      a.size = arr ? arr->size() : 1;
      if (a.size == 0) throw ConfigError(sets[it->second].origin + ": empty list for grid axis");
    }
  size_t n_variants = 1;
  if (const toml::node* vn = doc0.get("variant")) {
    const toml::array* va = vn->as_array();
    if (!va || !va->is_array_of_tables())
      throw ConfigError(source_of(*vn) + ": 'variant' must be an array of tables: [[variant]]");
    std::set<std::string> seen;
    for (const toml::node& e : *va) {
      const toml::table& t = *e.as_table();
      const toml::node* name = t.get("name");
      if (!name || !name->is_string())
        throw ConfigError(source_of(t) + ": every [[variant]] needs name = \"...\"");
      std::string nm = *name->value<std::string>();
      if (!seen.insert(nm).second)
        throw ConfigError(source_of(*name) + ": variant name '" + nm + "' is used twice");
      if (const toml::node* rm = t.get("remove")) {
        const toml::array* ra = rm->as_array();
        bool ok = ra != nullptr;
        if (ra)
          for (const toml::node& x : *ra) ok = ok && x.is_string();
        if (!ok)
          throw ConfigError(source_of(*rm) +
                            ": key 'variant.remove' must be a list of key paths, "
                            "e.g. [\"stages.ranker\"]");
      }
      ex.variants.push_back(nm);
    }
    n_variants = ex.variants.size();
    if (n_variants == 0) n_variants = 1;
  }
  // --variant: which of them to build (all when not given).
  std::vector<bool> build_variant(n_variants, true);
  if (!opts.variants.empty()) {
    if (ex.variants.empty())
      throw ConfigError("--variant: " + path +
                        " has no [[variant]]s; drop --variant to run its configurations");
    const std::set<std::string> wanted(opts.variants.begin(), opts.variants.end());
    for (const std::string& w : opts.variants) {
      // (Names are recorded one per line in the output, for merge to rebuild the subset.)
      if (w.empty() || w.find('\n') != std::string::npos)
        throw ConfigError("--variant " + printable(w) +
                          ": give a [[variant]]'s name (not empty, on one line)");
    }
    for (const std::string& w : opts.variants)  // the first unknown one as given
      if (std::find(ex.variants.begin(), ex.variants.end(), w) == ex.variants.end())
        throw ConfigError("--variant: " + path + " has no [[variant]] named '" + printable(w) +
                          "'; its variants are " + join(ex.variants, ", "));
    for (size_t vi = 0; vi < n_variants; ++vi)
      build_variant[vi] = wanted.count(ex.variants[vi]) > 0;
  }
  for (const GridAxis& a : axes) ex.grid_axes.push_back(a.name);

  size_t n_points = 1;
  for (const GridAxis& a : axes) n_points *= a.size;
  std::string base_error;
  GlobalSettings global;
  ParseContext ctx;
  ctx.data_dir = opts.data_dir;
  ctx.config_dir = std::filesystem::path(path).parent_path().string();
  ctx.cache = reg.cache;
  for (size_t point = 0; point < n_points; ++point) {
    for (size_t vi = 0; vi < n_variants; ++vi) {
      toml::table doc = parse_toml(text, path);
      toml::table grid_tbl;
      if (toml::node* g = doc.get("grid")) {
        grid_tbl = std::move(*g->as_table());
        doc.erase("grid");
      }
      toml::array variant_arr;
      if (toml::node* v = doc.get("variant")) {
        variant_arr = std::move(*v->as_array());
        doc.erase("variant");
      }
      // --set overrides of the base document.
      for (const SetOverride& s : sets) {
        if (set_on_axis.count(s.raw_path)) continue;
        toml::table v = parse_set_value(s.value, s.origin);
        assign(doc, s.path, std::move(*v.get("v")), s.origin);
      }
      // Grid point (mixed radix, last axis fastest).
      std::vector<std::pair<std::string, std::string>> grid_values;
      size_t rem = point;
      std::vector<size_t> idx(axes.size());
      for (size_t a = axes.size(); a-- > 0;) {
        idx[a] = rem % axes[a].size;
        rem /= axes[a].size;
      }
      for (size_t a = 0; a < axes.size(); ++a) {
        toml::table setv;
        toml::array* arr;
        if (auto it = set_on_axis.find(axes[a].name); it != set_on_axis.end()) {
          setv = parse_set_value(sets[it->second].value, sets[it->second].origin);
          if (!setv.get("v")->is_array()) {
            toml::array one;
            setv.get("v")->visit([&](auto&& x) { one.push_back(std::move(x)); });
            setv.insert_or_assign("v", std::move(one));
          }
          arr = setv.get("v")->as_array();
        } else {
          arr = grid_tbl.get(axes[a].name)->as_array();
        }
        toml::node& value = *arr->get(idx[a]);
        std::ostringstream os;
        if (value.is_table()) {
          os << toml::toml_formatter(*value.as_table(), toml::format_flags::none);
          std::string txt = os.str();
          std::replace(txt.begin(), txt.end(), '\n', ' ');
          grid_values.emplace_back(axes[a].name, txt);
          toml::table& links = *value.as_table();
          std::vector<std::string> keys;
          for (const auto& [k, x] : links) keys.emplace_back(k.str());
          for (const std::string& k : keys)
            assign(doc, split_path(k, source_of(value)), std::move(*links.get(k)),
                   source_of(value));
        } else {
          value.visit([&](auto&& x) {
            if constexpr (toml::is_value<decltype(x)>) {
              std::ostringstream o2;
              o2 << x;
              grid_values.emplace_back(axes[a].name, o2.str());
            } else {
              grid_values.emplace_back(axes[a].name, "[...]");
            }
          });
          assign(doc, split_path(axes[a].name, source_of(value)), std::move(value),
                 source_of(value));
        }
      }
      // Variant.
      std::string vname;
      if (!ex.variants.empty() && point == 0 && vi == 0) {
        // The configuration before any variant is validated too, since a key that every variant
        // overrides would otherwise never be checked. Its error is reported only if every
        // variant is fine (else the variant's own error is the clearer one).
        GlobalSettings base_global;
        try {
          validate_config(doc, reg, base_global, path, ctx);
        } catch (const ConfigError& e) {
          base_error = std::string(e.what()) +
                       " (in the configuration before its [[variant]]s are applied: every "
                       "variant overrides this, so the value is never used; fix or remove it)";
        }
        ex.warnings = shadowed_sets(sets, set_on_axis, doc, variant_arr);
      }
      if (!build_variant[vi]) continue;
      if (!ex.variants.empty()) {
        toml::table& vt = *variant_arr.get(vi)->as_table();
        vname = *vt.get("name")->value<std::string>();
        std::vector<std::string> removes;
        if (const toml::node* rm = vt.get("remove"))
          for (const toml::node& x : *rm->as_array()) removes.push_back(*x.value<std::string>());
        vt.erase("name");
        vt.erase("remove");
        for (const std::string& r : removes) {
          auto p = split_path(r, source_of(vt));
          toml::node* parent =
              p.size() == 1 ? &doc : const_cast<toml::node*>(lookup(doc, {p.begin(), p.end() - 1}));
          if (!parent || !parent->is_table() || !parent->as_table()->get(p.back()))
            throw ConfigError(source_of(vt) + ": variant '" + vname + "' removes '" + r +
                              "', which does not exist");
          parent->as_table()->erase(p.back());
        }
        merge_variant(doc, vt, "");
      }
      Config c = validate_config(doc, reg, global, path, ctx);
      c.index = ex.configs.size();
      c.file_index = point * n_variants + vi;
      c.variant = vname;
      c.grid = std::move(grid_values);
      ex.configs.push_back(std::move(c));
    }
  }
  if (!base_error.empty()) throw ConfigError(base_error);
  if (!opts.variants.empty()) {
    std::vector<std::string> kept;
    for (size_t vi = 0; vi < ex.variants.size(); ++vi)
      if (build_variant[vi]) kept.push_back(ex.variants[vi]);
    ex.variants = std::move(kept);
  }
  if (opts.seed) global.exp.seed = static_cast<int64_t>(*opts.seed);
  ex.seed = static_cast<uint64_t>(global.exp.seed);
  ex.replications = global.exp.replications;
  ex.checkpoints = static_cast<int64_t>(ex.configs.front().checkpoint_steps.size());
  ex.name = global.exp.name;
  if (ex.name.empty()) {
    std::string base = path.substr(path.find_last_of('/') + 1);
    ex.name = base.substr(0, base.find_last_of('.'));
  }
  ex.description = global.exp.description;
  for (const Config& c : ex.configs)
    for (const SeriesInfo& s : c.series)
      if (std::none_of(ex.series.begin(), ex.series.end(),
                       [&](const SeriesInfo& x) { return x.name == s.name; }))
        ex.series.push_back(s);
  for (const Config& c : ex.configs)
    for (const TableInfo& t : c.tables) {
      auto it = std::find_if(ex.tables.begin(), ex.tables.end(),
                             [&](const TableInfo& x) { return x.name == t.name; });
      if (it == ex.tables.end()) {
        ex.tables.push_back(t);
        continue;
      }
      for (const ColumnInfo& col : t.columns) {
        auto ct = std::find_if(it->columns.begin(), it->columns.end(),
                               [&](const ColumnInfo& x) { return x.name == col.name; });
        if (ct == it->columns.end())
          it->columns.push_back(col);
        else if (col.width > ct->width)
          *ct = col;
      }
    }
  ex.jobs = ex.configs.front().is_job();
  for (const Config& c : ex.configs)
    if (c.is_job() != ex.jobs)
      throw ConfigError(path + ": " +
                        (c.variant.empty() ? "configuration " + std::to_string(c.index)
                                           : "variant '" + c.variant + "'") +
                        (c.is_job() ? " has" : " has no") +
                        " [job] but others do not; a file is either a simulation (world, stages, "
                        "metrics) or a job");
  if (ex.jobs)
    layout_job_arrays(ex);
  else
    ex.cell_size = ex.series.size() * static_cast<std::size_t>(ex.checkpoints);
  uint64_t h = hash_combine(hash_text("stagesim-experiment-v1"), ex.seed);
  h = hash_combine(h, static_cast<uint64_t>(ex.replications));
  h = hash_combine(h, static_cast<uint64_t>(ex.checkpoints));
  for (const Config& c : ex.configs) {
    h = hash_combine(h, hash_text(c.resolved));
    h = hash_combine(h, hash_text(c.variant));
  }
  ex.hash = h;
  for (const std::vector<std::string>& key :
       {std::vector<std::string>{"experiment", "replications"},
        std::vector<std::string>{"experiment", "checkpoints"}, std::vector<std::string>{"world"}})
    if (const toml::node* n = lookup(doc0, key)) ex.key_sources[join(key, ".")] = source_of(*n);
  for (const SetOverride& s : sets)
    if (ex.key_sources.count(s.raw_path) || s.raw_path == "experiment.replications")
      ex.key_sources[s.raw_path] = s.origin;
  // Before anything is allocated per task: the run must fit with at least one worker.
  check_memory(ex, 1);
  return ex;
}

std::vector<std::pair<std::string, std::vector<ParamInfo>>> engine_option_info() {
  std::vector<ParamInfo> stage = stage_struct_options().info();
  stage.push_back(
      {"input", "string or array", "\"items\"", "",
       "\"items\" (the world's item pool) or the stage(s) whose output this one ranks"});
  stage.push_back({"pools", "string or array", "\"shared\" (1 replica), \"round_robin\"",
                   "\"shared\", \"round_robin\", or one item-id list per replica",
                   "how replicas split their input: all see everything, a random deal, or given"});
  stage.push_back({"features", "integer or array", "0", "0..dim, or index lists",
                   "feature columns each replica sees: 0 = all, s = random subset of size s "
                   "(sorted), or explicit lists"});
  return {{"[experiment]", experiment_options().info()},
          {"[arrivals]", arrival_options().info()},
          {"[feedback]", feedback_options().info()},
          {"[stages.NAME] (every stage)", stage}};
}

Experiment load_experiment(const std::string& path, const LoadOptions& opts, const Registry& reg) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(printable(path) +
                      ": is a directory, not an experiment file; name a .toml file (e.g. "
                      "experiments/quickstart.toml)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path +
                      ": cannot open the experiment file; check the path (e.g. "
                      "experiments/quickstart.toml)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_experiment(ss.str(), path, opts, reg);
}

}  // namespace stagesim
