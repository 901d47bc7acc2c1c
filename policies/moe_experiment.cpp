#include "policies/moe_experiment.hpp"

#include <omp.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "environments/data/hdf5_array.hpp"
#include "environments/multilabel_bandit.hpp"
#include "policies/moe/fig5.hpp"
#include "sim/errors.hpp"

namespace stagesim {
namespace {

struct MoeExperimentOpts {
  std::string name;
  std::string description;
  int64_t seed = 1;
  int64_t replications = 1;
};

struct MoeOpts {
  double sigma = 0.3;
  double learning_rate = 1e-3;
  int64_t batch = 256;
  int64_t max_epochs = 20;
  int64_t patience = 3;
  int64_t test_users = 50000;
  double validation_share = 0.1;
  int64_t k = 5;
  int64_t model_threads = 1;
};

struct GridOpts {
  std::vector<int64_t> experts = {10};
  std::vector<int64_t> item_dim = {10};
  std::vector<int64_t> per_item = {1000};
  std::vector<int64_t> subset = {400};
};

Allowed<std::vector<int64_t>> positive_list() {
  Allowed<std::vector<int64_t>> a;
  a.text_override = "a non-empty list of integers >= 1";
  a.check = [](const std::vector<int64_t>& v) {
    bool ok = !v.empty();
    for (int64_t x : v) ok = ok && x >= 1;
    return ok ? std::string() : std::string("a non-empty list of integers >= 1");
  };
  return a;
}

const toml::table& table_at(const toml::table& doc, const char* key) {
  static const toml::table empty;
  const toml::node* n = doc.get(key);
  if (!n) return empty;
  if (!n->is_table())
    throw ConfigError(source_of(*n) + ": '" + key + "' must be a table, e.g. [" + key + "]");
  return *n->as_table();
}

}  // namespace

std::size_t run_moe_experiment(const std::string& path, const LoadOptions& load,
                               const MoeRunOptions& run) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open the experiment file; check the path");
  std::stringstream text;
  text << in.rdbuf();
  toml::table doc;
  try {
    doc = toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source_of(e.source()) +
                      ": TOML syntax error: " + std::string(e.description()));
  }
  if (!load.set.empty())
    throw ConfigError(
        "stagesim moe: --set is not supported for MoE experiments yet; edit a copy "
        "of " +
        path);
  const std::vector<std::string> top = {"experiment", "world", "moe", "grid"};
  for (const auto& [k, v] : doc)
    if (std::find(top.begin(), top.end(), std::string(k.str())) == top.end())
      throw_unknown_key(k, std::string(k.str()), "MoE experiments", top, &v);

  OptionGroup<MoeExperimentOpts> eg;
  eg.add("name", &MoeExperimentOpts::name, "name (default: the file name)")
      .add("description", &MoeExperimentOpts::description, "free text")
      .add("seed", &MoeExperimentOpts::seed, "master seed", at_least<int64_t>(0))
      .add("replications", &MoeExperimentOpts::replications, "seeds per grid point",
           at_least<int64_t>(1));
  MoeExperimentOpts eo = eg.parse(table_at(doc, "experiment"), "experiment", "");
  if (load.seed) eo.seed = static_cast<int64_t>(*load.seed);

  OptionGroup<MoeOpts> mg;
  mg.add("sigma", &MoeOpts::sigma, "σ of the Gaussian experts", greater_than<double>(0))
      .add("learning_rate", &MoeOpts::learning_rate, "Adam learning rate", greater_than<double>(0))
      .add("batch", &MoeOpts::batch, "mini-batch size", at_least<int64_t>(1))
      .add("max_epochs", &MoeOpts::max_epochs, "epochs at most", at_least<int64_t>(1))
      .add("patience", &MoeOpts::patience, "early stopping: epochs without validation progress",
           at_least<int64_t>(1))
      .add("test_users", &MoeOpts::test_users, "held-out products for P@k / R@k",
           at_least<int64_t>(1))
      .add("validation_share", &MoeOpts::validation_share,
           "share of the training examples kept for early stopping", between<double>(0, 0.9))
      .add("k", &MoeOpts::k, "k of precision@k and recall@k", at_least<int64_t>(1))
      .add("model_threads", &MoeOpts::model_threads,
           "OpenMP threads over experts inside one model (grid points also run in parallel)",
           at_least<int64_t>(1));
  const MoeOpts mo = mg.parse(table_at(doc, "moe"), "moe", "");

  OptionGroup<GridOpts> gg;
  gg.add("experts", &GridOpts::experts, "N: experts (nominators)", positive_list())
      .add("item_dim", &GridOpts::item_dim, "d_e: item embedding dimension", positive_list())
      .add("per_item", &GridOpts::per_item, "c: training examples per item", positive_list())
      .add("subset", &GridOpts::subset, "s: feature columns each expert sees", positive_list());
  const GridOpts go = gg.parse(table_at(doc, "grid"), "grid", "");

  const toml::node* wn = doc.get("world");
  if (!wn || !wn->is_table() || wn->as_table()->get("type") == nullptr ||
      wn->as_table()->get("type")->value<std::string>() != "multilabel_bandit")
    throw ConfigError(path +
                      ": needs a [world] table with type = \"multilabel_bandit\" naming "
                      "the products (source = \"synthetic\" or feature and label files)");
  DataCache cache;
  ParseContext ctx;
  ctx.data_dir = load.data_dir;
  ctx.cache = &cache;
  std::shared_ptr<const MultilabelData> d = multilabel_world_data(*wn->as_table(), "world", ctx);
  const int items = static_cast<int>(d->categories.original.size());
  const moe::LabeledProducts data = moe::FromMultilabel(d->features, d->categories.labels, items);
  for (int64_t s : go.subset)
    if (s > d->features.cols)
      throw ConfigError(source_of(*table_at(doc, "grid").get("subset")) +
                        ": key 'grid.subset' has " + std::to_string(s) + " but the products have " +
                        std::to_string(d->features.cols) + " feature columns");

  struct Task {
    moe::Fig5Point point;
    std::size_t grid = 0, rep = 0;
  };
  std::vector<Task> tasks;
  std::vector<moe::Fig5Point> points;
  for (int64_t n : go.experts)
    for (int64_t de : go.item_dim)
      for (int64_t c : go.per_item)
        for (int64_t s : go.subset)
          points.push_back({static_cast<int>(n), static_cast<int>(de), static_cast<int>(c),
                            static_cast<int>(s)});
  const std::size_t R = static_cast<std::size_t>(eo.replications);
  for (std::size_t g = 0; g < points.size(); ++g)
    for (std::size_t r = 0; r < R; ++r) tasks.push_back({points[g], g, r});

  // [grid point, replication] per metric; each task writes its own cells.
  const char* names[] = {"P_moe",    "P_moe_se",    "R_moe",    "R_moe_se",
                         "P_random", "P_random_se", "R_random", "R_random_se"};
  std::vector<data::DenseMatrix<double>> out(8, data::DenseMatrix<double>(points.size(), R, 0.0));
  std::exception_ptr error;
  std::size_t done = 0;
  if (run.threads > 0) omp_set_num_threads(run.threads);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(tasks.size()); ++i) {
    const Task& t = tasks[static_cast<std::size_t>(i)];
    try {
      moe::Fig5Options fo;
      fo.sigma = mo.sigma;
      fo.train.batch = static_cast<int>(mo.batch);
      fo.train.learning_rate = mo.learning_rate;
      fo.train.max_epochs = static_cast<int>(mo.max_epochs);
      fo.train.patience = static_cast<int>(mo.patience);
      fo.test_users = mo.test_users;
      fo.validation_share = mo.validation_share;
      fo.k = static_cast<int>(mo.k);
      fo.threads = static_cast<int>(mo.model_threads);
      // Seeds from (master seed, grid point, replication): independent of scheduling.
      fo.seed = hash_combine(hash_combine(static_cast<std::uint64_t>(eo.seed), t.grid), t.rep);
      const moe::Fig5Result res = moe::RunFig5Point(data, t.point, fo);
      const double v[8] = {res.moe.precision, res.moe.precision_se, res.moe.recall,
                           res.moe.recall_se, res.random.precision, res.random.precision_se,
                           res.random.recall, res.random.recall_se};
      for (int m = 0; m < 8; ++m) out[m](static_cast<std::int64_t>(t.grid), t.rep) = v[m];
    } catch (const std::exception& e) {
#pragma omp critical(stagesim_moe)
      if (!error)
        error = std::make_exception_ptr(ConfigError(
            path + ": grid point N=" + std::to_string(t.point.experts) + ", d_e=" +
            std::to_string(t.point.item_dim) + ", c=" + std::to_string(t.point.per_item) +
            ", s=" + std::to_string(t.point.subset) + " failed: " + e.what()));
    }
#pragma omp critical(stagesim_moe)
    {
      ++done;
      if (run.progress) std::printf("moe: %zu/%zu tasks\n", done, tasks.size());
    }
  }
  if (error) std::rethrow_exception(error);

  const std::string tmp = run.out + ".tmp";
  std::filesystem::remove(tmp);
  try {
    data::DenseMatrix<double> grid(points.size(), 4);
    for (std::size_t g = 0; g < points.size(); ++g) {
      grid(g, 0) = points[g].experts;
      grid(g, 1) = points[g].item_dim;
      grid(g, 2) = points[g].per_item;
      grid(g, 3) = points[g].subset;
    }
    data::WriteHdf5Matrix<double>(tmp, "grid", grid);  // columns: N, d_e, c, s
    for (int m = 0; m < 8; ++m) data::WriteHdf5Matrix<double>(tmp, names[m], out[m]);
  } catch (const std::exception& e) {
    throw IoError(run.out + ": cannot write the results (" + e.what() + ")");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, run.out, ec);
  if (ec)
    throw IoError(run.out + ": cannot move the finished file into place (" + ec.message() + ")");
  return tasks.size();
}

}  // namespace stagesim
