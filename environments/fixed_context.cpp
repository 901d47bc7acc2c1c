// Fixed-context world: a finite list of context matrices (rows = items, all the same shape), each
// with its mean-reward vector (given, or X·theta*), one of which is drawn per request. Built for
// constructed examples such as the two-stage-bandits spec's Proposition 2, where the contexts are
// chosen by hand rather than sampled.
#include <algorithm>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>

#include "sim/enum_table.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

using Matrix3 = std::vector<std::vector<std::vector<double>>>;
using Matrix2 = std::vector<std::vector<double>>;

enum class ContextNoise { none, gaussian, bernoulli };
const EnumTable<ContextNoise> kNoise{{"none", ContextNoise::none},
                                     {"gaussian", ContextNoise::gaussian},
                                     {"bernoulli", ContextNoise::bernoulli}};

struct FixedContextOpts {
  Matrix3 contexts;
  Matrix2 means;
  std::vector<double> theta;
  std::vector<double> weights;
  ContextNoise noise = ContextNoise::gaussian;
  double noise_std = 0.1;
};

// The shape-checked model: contexts as items × dim matrices and their means.
struct Model {
  std::vector<RowMatrix> x;
  std::vector<Eigen::VectorXd> mean;
  std::vector<double> cumulative;  // normalised cumulative weights (last = 1)
  using Noise = ContextNoise;
  Noise noise = Noise::gaussian;
  double noise_std = 0.1;
  int items = 0, dim = 0;
};

class FixedContextWorld final : public World {
 public:
  FixedContextWorld(std::shared_ptr<const Model> m, const StreamKey& key)
      : m_(std::move(m)), contexts_(key.stream("contexts")), noise_(key.stream("noise")) {}
  int num_items() const override { return m_->items; }
  int dim() const override { return m_->dim; }

  void next(Request& req, int slate) override {
    // One uniform draw per request whatever the weights, so equal weights reproduce the default.
    const double u = u01_(contexts_);
    std::size_t j = 0;
    while (j + 1 < m_->cumulative.size() && u >= m_->cumulative[j]) ++j;
    req.features = m_->x[j];
    req.view_mean(m_->mean[j].data(), m_->mean[j].size());
    req.noise.resize(slate);
    for (int l = 0; l < slate; ++l) {
      switch (m_->noise) {
        case Model::Noise::none:
          req.noise[l] = 0;
          break;
        case Model::Noise::gaussian:
          req.noise[l] = m_->noise_std * n01_(noise_);
          break;
        case Model::Noise::bernoulli:
          req.noise[l] = u01_(noise_);  // the reward is 1{u < mean}
          break;
      }
    }
  }
  double reward(const Request& req, int item, int pos) const override {
    if (m_->noise == Model::Noise::bernoulli) return req.noise[pos] < req.mean[item] ? 1.0 : 0.0;
    return req.mean[item] + req.noise[pos];
  }

 private:
  std::shared_ptr<const Model> m_;
  Rng contexts_, noise_;
  boost::random::normal_distribution<double> n01_;
  boost::random::uniform_real_distribution<double> u01_{0.0, 1.0};
};

// ---- validation of the nested arrays: errors point at the offending element ---------------------

[[noreturn]] void fail(const toml::node& at, const std::string& key, const std::string& what) {
  throw ConfigError(source_of(at) + ": key '" + key + "' " + what);
}

const toml::array& array_of(const toml::node& n, const std::string& key, const std::string& what) {
  const toml::array* a = n.as_array();
  if (!a || a->empty()) fail(n, key, "must be " + what + ", got " + describe_node(n));
  return *a;
}

std::vector<double> numbers(const toml::node& n, const std::string& key, const std::string& what) {
  std::vector<double> v;
  for (const toml::node& e : array_of(n, key, what)) {
    auto x = OptionTraits<double>::read(e);
    if (!x || !std::isfinite(*x))
      fail(e, key, "must contain only finite numbers, got " + describe_node(e));
    v.push_back(*x);
  }
  return v;
}

std::string idx(const std::string& key, std::size_t i) {
  return key + "[" + std::to_string(i) + "]";
}

// Shapes of contexts / means / theta / weights, checked on the nodes so that errors point at the
// offending element; returns the model without its noise settings.
std::shared_ptr<Model> check_shapes(const toml::table& t, const std::string& path) {
  auto m = std::make_shared<Model>();
  const std::string kc = path + ".contexts";
  const toml::node* cn = t.get("contexts");
  if (!cn)
    throw ConfigError(source_of(t) + ": world type 'fixed_context' needs key '" + kc +
                      "': a list of context matrices (rows = items), e.g. contexts = "
                      "[[[1, 0], [0, 1]]]");
  const toml::array& ca = array_of(*cn, kc, "a non-empty list of matrices (lists of rows)");
  for (std::size_t j = 0; j < ca.size(); ++j) {
    const toml::array& rows = array_of(ca[j], idx(kc, j), "a matrix: a non-empty list of rows");
    const int k = static_cast<int>(rows.size());
    RowMatrix x;
    for (std::size_t a = 0; a < rows.size(); ++a) {
      const std::string kr = idx(idx(kc, j), a);
      std::vector<double> row = numbers(rows[a], kr, "a row of numbers (one per feature)");
      if (j == 0 && a == 0) {
        m->items = k;
        m->dim = static_cast<int>(row.size());
      }
      if (static_cast<int>(row.size()) != m->dim)
        fail(rows[a], kr,
             "has " + std::to_string(row.size()) + " features but context 0 row 0 has " +
                 std::to_string(m->dim) + "; every row of every context needs the same length");
      if (a == 0) x.resize(k, m->dim);
      for (int c = 0; c < m->dim; ++c) x(static_cast<int>(a), c) = row[c];
    }
    if (k != m->items)
      fail(ca[j], idx(kc, j),
           "has " + std::to_string(k) + " rows (items) but context 0 has " +
               std::to_string(m->items) + "; every context must list the same items");
    m->x.push_back(std::move(x));
  }

  const toml::node* mn = t.get("means");
  const toml::node* tn = t.get("theta");
  if ((mn != nullptr) == (tn != nullptr))
    throw ConfigError((mn ? source_of(*mn) : source_of(t)) +
                      ": world type 'fixed_context' needs "
                      "exactly one of '" +
                      path +
                      ".means' (one mean-reward vector per context) "
                      "and '" +
                      path + ".theta' (means = context · theta)");
  if (mn) {
    const std::string km = path + ".means";
    const toml::array& ma = array_of(*mn, km, "a list of mean-reward vectors, one per context");
    if (ma.size() != m->x.size())
      fail(*mn, km,
           "lists " + std::to_string(ma.size()) + " vectors but there are " +
               std::to_string(m->x.size()) + " contexts; give one mean-reward vector per context");
    for (std::size_t j = 0; j < ma.size(); ++j) {
      std::vector<double> v = numbers(ma[j], idx(km, j), "a list of mean rewards, one per item");
      if (static_cast<int>(v.size()) != m->items)
        fail(ma[j], idx(km, j),
             "has " + std::to_string(v.size()) + " entries but the contexts have " +
                 std::to_string(m->items) + " items; give one mean reward per item (row)");
      m->mean.push_back(Eigen::Map<Eigen::VectorXd>(v.data(), m->items));
    }
  } else {
    std::vector<double> th = numbers(*tn, path + ".theta", "a list of numbers, one per feature");
    if (static_cast<int>(th.size()) != m->dim)
      fail(*tn, path + ".theta",
           "has " + std::to_string(th.size()) + " entries but the contexts have " +
               std::to_string(m->dim) + " features; give one coefficient per column");
    Eigen::Map<Eigen::VectorXd> theta(th.data(), m->dim);
    for (const RowMatrix& x : m->x) m->mean.push_back(x * theta);
  }

  std::vector<double> w(m->x.size(), 1.0);
  if (const toml::node* wn = t.get("weights"); wn && !(wn->as_array() && wn->as_array()->empty())) {
    const std::string kw = path + ".weights";
    w = numbers(*wn, kw, "a list of weights, one per context");
    if (w.size() != m->x.size())
      fail(*wn, kw,
           "lists " + std::to_string(w.size()) + " weights but there are " +
               std::to_string(m->x.size()) +
               " contexts; give one per context or omit it (uniform)");
    for (double x : w)
      if (x < 0) fail(*wn, kw, "must be >= 0, got " + format_number(x));
  }
  double total = 0;
  for (double x : w) total += x;
  if (!(total > 0)) fail(*t.get("weights"), path + ".weights", "must have a positive sum");
  double run = 0;
  for (double x : w) m->cumulative.push_back((run += x) / total);
  m->cumulative.back() = 1.0;
  return m;
}

// The noise settings, which need the means for the Bernoulli range check.
void check_noise(Model& m, const toml::table& t, const std::string& path,
                 const FixedContextOpts& o) {
  m.noise_std = o.noise_std;
  m.noise = o.noise;
  if (const toml::node* sn = t.get("noise_std"); sn && m.noise != Model::Noise::gaussian)
    fail(
        *sn, path + ".noise_std",
        "only applies to noise = \"gaussian\"; remove it or set " + path + ".noise = \"gaussian\"");
  if (m.noise != Model::Noise::bernoulli) return;
  const bool given = t.get("means") != nullptr;
  for (std::size_t j = 0; j < m.mean.size(); ++j)
    for (int a = 0; a < m.items; ++a)
      if (m.mean[j][a] < 0 || m.mean[j][a] > 1)
        fail(*t.get(given ? "means" : "theta"), path + (given ? ".means" : ".theta"),
             "gives context " + std::to_string(j) + " item " + std::to_string(a) +
                 " the mean reward " + format_number(m.mean[j][a]) +
                 ", but noise = \"bernoulli\" needs means in [0, 1]; use noise = \"gaussian\" "
                 "or \"none\", or rescale the rewards");
}

template <class T>
Allowed<T> described(std::string text) {
  Allowed<T> a;
  a.text_override = std::move(text);  // shown by `stagesim list`; the checks are in check_shapes
  return a;
}

OptionGroup<FixedContextOpts> options() {
  OptionGroup<FixedContextOpts> g;
  g.add("contexts", &FixedContextOpts::contexts,
        "context matrices, all items × dim (one row per item); one is drawn per request",
        described<Matrix3>("required; every matrix the same shape"))
      .add("means", &FixedContextOpts::means,
           "mean reward of every item, one vector per context (or give theta instead)",
           described<Matrix2>("one of means / theta"))
      .add("theta", &FixedContextOpts::theta,
           "true coefficients: the means are context · theta (or give means instead)",
           described<std::vector<double>>("one of means / theta"))
      .add("weights", &FixedContextOpts::weights,
           "probability weights of the contexts, one per context (empty = uniform)",
           described<std::vector<double>>(">= 0, positive sum"))
      .add("noise", &FixedContextOpts::noise,
           "reward noise: none, gaussian (mean + N(0, noise_std²)), or bernoulli (1 with "
           "probability = mean)",
           kNoise)
      .add("noise_std", &FixedContextOpts::noise_std,
           "standard deviation of the Gaussian noise (noise = \"gaussian\" only)",
           at_least<double>(0));
  return g;
}

}  // namespace

WorldEntry fixed_context_world_entry() {
  const OptionGroup<FixedContextOpts> g = options();
  WorldEntry e;
  e.type = "fixed_context";
  e.help = "a fixed list of context matrices with known mean rewards, one drawn per request";
  e.params = g.info();
  e.parse = [g](const toml::table& t, const std::string& path, toml::table& resolved,
                const ParseContext&) {
    const std::string owner = "world type 'fixed_context'";
    // Unknown keys first (with a "did you mean"), then the nested arrays with element-precise
    // messages, then the scalars' types and ranges.
    const std::vector<std::string> known = {"type",    "contexts", "means",    "theta",
                                            "weights", "noise",    "noise_std"};
    for (const auto& [k, v] : t)
      if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end())
        g.parse(t, path, owner, {"type"});  // throws the standard unknown-key error
    std::shared_ptr<Model> m = check_shapes(t, path);
    const FixedContextOpts o = g.parse(t, path, owner, {"type"});
    check_noise(*m, t, path, o);
    g.write(o, resolved);
    // Keep only what applies, so the resolved table is itself a valid experiment.
    if (o.theta.empty()) resolved.erase("theta");
    if (o.means.empty()) resolved.erase("means");
    if (o.noise != ContextNoise::gaussian) resolved.erase("noise_std");
    WorldBuild b;
    std::shared_ptr<const Model> model = m;
    b.make = [model](const StreamKey& key) {
      return std::make_unique<FixedContextWorld>(model, key);
    };
    b.items = m->items;
    b.dim = m->dim;
    b.cost_per_request = static_cast<double>(m->items) * m->dim;
    b.bytes = 2.0 * 8.0 * static_cast<double>(m->items) * (m->dim + 1);
    return b;
  };
  return e;
}

}  // namespace stagesim
