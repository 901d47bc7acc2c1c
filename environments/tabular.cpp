// The "tabular" world: q (and optionally σ) tables read from HDF5, .npy or .npz files, e.g. a
// world written by `stagesim export-world` or by another simulator (datasets.md §3).
#include "environments/tabular.hpp"

#include <cmath>
#include <cstdio>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>

#include "environments/data/hdf5_array.hpp"
#include "environments/data/npy.hpp"
#include "environments/data/npz.hpp"
#include "environments/data_source.hpp"
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {

EnumTable<TableNoise> table_noise_names(bool with_bernoulli) {
  if (!with_bernoulli)
    return {{"none", TableNoise::none},
            {"gaussian", TableNoise::gaussian},
            {"multiplicative", TableNoise::multiplicative}};
  return {{"none", TableNoise::none},
          {"gaussian", TableNoise::gaussian},
          {"multiplicative", TableNoise::multiplicative},
          {"bernoulli", TableNoise::bernoulli}};
}

namespace {

std::string cell_text(const char* name, Eigen::Index u, Eigen::Index a, double v) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s[%lld, %lld] = %.17g", name, static_cast<long long>(u),
                static_cast<long long>(a), v);
  return buf;
}

}  // namespace

std::string finish_reward_table(RewardTable& t) {
  if (t.q.size() == 0) return "table q is empty";
  if (t.sigma.size() && (t.sigma.rows() != t.q.rows() || t.sigma.cols() != t.q.cols()))
    return "σ table is " + std::to_string(t.sigma.rows()) + " x " + std::to_string(t.sigma.cols()) +
           " but q is " + std::to_string(t.q.rows()) + " x " + std::to_string(t.q.cols()) +
           "; give σ the shape of q (users × items)";
  t.q_min = t.q_max = t.q(0, 0);
  for (Eigen::Index u = 0; u < t.q.rows(); ++u)
    for (Eigen::Index a = 0; a < t.q.cols(); ++a) {
      const double v = t.q(u, a);
      if (!std::isfinite(v)) return cell_text("q", u, a, v) + " is not finite";
      t.q_min = std::min(t.q_min, v);
      t.q_max = std::max(t.q_max, v);
    }
  for (Eigen::Index u = 0; u < t.sigma.rows(); ++u)
    for (Eigen::Index a = 0; a < t.sigma.cols(); ++a) {
      const double v = t.sigma(u, a);
      if (!std::isfinite(v) || v < 0)
        return cell_text("sigma", u, a, v) + " is not a finite value >= 0";
    }
  return "";
}

std::string check_noise_fit(const RewardTable& t, TableNoise noise) {
  if (noise != TableNoise::bernoulli || (t.q_min >= 0 && t.q_max <= 1)) return "";
  for (Eigen::Index u = 0; u < t.q.rows(); ++u)
    for (Eigen::Index a = 0; a < t.q.cols(); ++a)
      if (t.q(u, a) < 0 || t.q(u, a) > 1)
        return cell_text("q", u, a, t.q(u, a)) + " is outside [0, 1], which bernoulli noise needs";
  return "";
}

TabularWorld::TabularWorld(std::shared_ptr<const RewardTable> table, TableNoiseSpec noise,
                           const StreamKey& key, int repeat_user)
    : table_(std::move(table)),
      noise_(noise),
      sigma_table_(table_->sigma.size() > 0),
      contexts_(key.stream("contexts")),
      noise_rng_(key.stream("noise")),
      repeat_(repeat_user) {}

int TabularWorld::draw_user(Rng& rng) const {
  return uniform_index(rng, static_cast<int>(table_->q.rows()));
}

void TabularWorld::next(Request& req, int slate) {
  if (left_ == 0) {
    user_ = draw_user(contexts_);
    left_ = repeat_;
  }
  --left_;
  draw(req, slate, user_, noise_rng_);
}

void TabularWorld::draw(Request& req, int slate, int u, Rng& noise) const {
  boost::random::normal_distribution<double> n01;
  boost::random::uniform_real_distribution<double> u01(0.0, 1.0);
  const RowMatrix& q = table_->q;
  req.user = u;
  req.view_mean(q.data() + static_cast<std::ptrdiff_t>(u) * q.cols(), q.cols());
  req.noise.resize(slate);
  for (int l = 0; l < slate; ++l) {
    switch (noise_.kind) {
      case TableNoise::none:
        req.noise[l] = 0;
        break;
      case TableNoise::gaussian:
      case TableNoise::multiplicative:
        req.noise[l] = n01(noise);
        break;
      case TableNoise::bernoulli:
        req.noise[l] = u01(noise);
        break;
    }
  }
}

double TabularWorld::reward(const Request& req, int item, int pos) const {
  const double m = req.mean[item];
  switch (noise_.kind) {
    case TableNoise::none:
      return m;
    case TableNoise::gaussian: {
      const double s = sigma_table_ ? table_->sigma(req.user, item) : noise_.std;
      return m + s * req.noise[pos];
    }
    case TableNoise::multiplicative:
      return m * (1.0 + noise_.std * req.noise[pos]);
    case TableNoise::bernoulli:
      return req.noise[pos] < m ? 1.0 : 0.0;
  }
  return m;
}

WorldBuild tabular_world_build(std::shared_ptr<const RewardTable> table, TableNoiseSpec noise,
                               int repeat_user) {
  WorldBuild b;
  b.items = static_cast<int>(table->q.cols());
  b.users = static_cast<int>(table->q.rows());
  b.dim = 0;
  b.cost_per_request = 4.0 * static_cast<double>(table->q.cols());
  b.bytes = 8.0 * 4.0 * static_cast<double>(table->q.cols());  // the table itself is shared
  b.has_tables = true;
  b.samples_requests = true;
  b.repeat_user = repeat_user;
  b.replayable = true;  // a user draw and a row view per request
  b.make = [table, noise, repeat_user](const StreamKey& key) {
    return std::make_unique<TabularWorld>(table, noise, key, repeat_user);
  };
  return b;
}

World::Tables TabularWorld::tables() const {
  return {&table_->q, sigma_table_ ? &table_->sigma : nullptr,
          table_->score.size() > 0 ? &table_->score : nullptr};
}

namespace {

struct TabularOpts {
  std::string path;
  std::string q_dataset = "q";
  std::string sigma_dataset = "sigma";
  std::string sigma_path;
  TableNoise noise = TableNoise::gaussian;
  double noise_std = 0.1;
};

OptionGroup<TabularOpts> options() {
  OptionGroup<TabularOpts> g;
  g.add("path", &TabularOpts::path,
        "file holding q: HDF5 (dataset q_dataset), .npy (the matrix) or .npz (member q_dataset); "
        "relative paths are resolved against --data-dir")
      .add("q_dataset", &TabularOpts::q_dataset, "HDF5 dataset / .npz member holding q")
      .add("sigma_dataset", &TabularOpts::sigma_dataset,
           "HDF5 dataset / .npz member holding σ, used with gaussian noise when present (\"\" = "
           "ignore it and use noise_std)")
      .add("sigma_path", &TabularOpts::sigma_path,
           "separate file holding σ (.npy, or HDF5/.npz with sigma_dataset); gaussian noise only")
      .add("noise", &TabularOpts::noise,
           "reward noise: none, gaussian (q + σ·z), multiplicative (q·(1 + noise_std·z)), or "
           "bernoulli (1 with probability q)",
           table_noise_names())
      .add("noise_std", &TabularOpts::noise_std,
           "σ of gaussian noise when no σ table is used; std of ε for multiplicative noise",
           at_least<double>(0));
  return g;
}

RowMatrix to_row_matrix(const data::DenseMatrix<double>& m) {
  return Eigen::Map<const RowMatrix>(m.values.data(), m.rows, m.cols);
}

// One table from a file chosen by extension: .npy (the array), .npz (member), else HDF5.
RowMatrix read_table(const std::string& file, const std::string& dataset) {
  const std::string ext = extension_of(file);
  RowMatrix m;
  if (ext == ".npy") {
    m = to_row_matrix(data::read_npy_matrix<double>(file));
  } else if (ext == ".npz") {
    m = to_row_matrix(data::npy_to_matrix<double>(data::NpzFile(file).read(dataset)));
  } else {
    m = to_row_matrix(data::read_hdf5_matrix<double>(file, dataset));
  }
  if (m.rows() == 0 || m.cols() == 0)
    throw data::DataError(file,
                          "table '" + dataset + "' is empty (" + std::to_string(m.rows()) + " x " +
                              std::to_string(m.cols()) + ")",
                          "store at least one user and one item");
  return m;
}

bool file_has(const std::string& file, const std::string& dataset) {
  const std::string ext = extension_of(file);
  if (dataset.empty() || ext == ".npy") return false;
  if (ext == ".npz") return data::NpzFile(file).contains(dataset);
  return data::hdf5_has_dataset(file, dataset);
}

}  // namespace

WorldEntry tabular_world_entry() {
  const OptionGroup<TabularOpts> g = options();
  WorldEntry e;
  e.type = "tabular";
  e.help =
      "a users × items expected-reward table q (optional σ) from HDF5/.npy/.npz; each request "
      "draws a user uniformly";
  e.params = g.info();
  e.parse = [g](const toml::table& t, const std::string& path, toml::table& resolved,
                const ParseContext& ctx) {
    const TabularOpts o = g.parse(t, path, "world type 'tabular'", {"type"});
    g.write(o, resolved);
    if (o.path.empty())
      throw ConfigError(source_of(t) + ": world type 'tabular' needs key '" + path +
                        ".path': an HDF5 file with dataset 'q' (e.g. from `stagesim export-world`) "
                        "or a .npy matrix, users × items");
    const TableNoise noise = o.noise;
    if (!o.sigma_path.empty() && noise != TableNoise::gaussian)
      throw ConfigError(key_location(t, path, "sigma_path") +
                        " only applies to noise = "
                        "\"gaussian\"; remove it or set " +
                        path + ".noise = \"gaussian\"");
    const std::string file = ctx.data_path(o.path);
    const std::string sigma_file = ctx.data_path(o.sigma_path);
    const std::string where = key_location(t, path, "path");
    auto load = [&] {
      return load_data(where, [&] {
        RewardTable table;
        table.q = read_table(file, o.q_dataset);
        if (!sigma_file.empty()) {
          table.sigma = read_table(sigma_file, o.sigma_dataset.empty() ? "sigma" : o.sigma_dataset);
        } else if (noise == TableNoise::gaussian && file_has(file, o.sigma_dataset)) {
          table.sigma = read_table(file, o.sigma_dataset);
        }
        // Ranking scores for late-stage rankers, when the file has them (export-world writes
        // them for worlds that rank by something other than q).
        if (file_has(file, "score")) table.score = read_table(file, "score");
        if (table.score.size() > 0 &&
            (table.score.rows() != table.q.rows() || table.score.cols() != table.q.cols()))
          throw data::DataError(file,
                                "dataset score is " + std::to_string(table.score.rows()) + " x " +
                                    std::to_string(table.score.cols()) + " but q is " +
                                    std::to_string(table.q.rows()) + " x " +
                                    std::to_string(table.q.cols()),
                                "write score with q's shape or remove it");
        if (std::string bad = finish_reward_table(table); !bad.empty())
          throw data::DataError(sigma_file.empty() ? file : file + " / " + sigma_file, bad,
                                "fix the table");
        return table;
      });
    };
    // Keyed by everything that decides the content, so each table is read once per process.
    const std::string key =
        "tabular\n" + file + "\n" + o.q_dataset + "\n" +
        (noise == TableNoise::gaussian ? sigma_file + "\n" + o.sigma_dataset : std::string("-"));
    std::shared_ptr<const RewardTable> table = ctx.cache
                                                   ? ctx.cache->get<RewardTable>(key, load)
                                                   : std::make_shared<const RewardTable>(load());
    if (std::string bad = check_noise_fit(*table, noise); !bad.empty())
      throw ConfigError(key_location(t, path, "noise") + ": " + file + ": " + bad +
                        "; fix the table or choose another noise model");
    return tabular_world_build(table, TableNoiseSpec{noise, o.noise_std});
  };
  return e;
}

}  // namespace stagesim
