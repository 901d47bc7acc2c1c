// The `pool_learning` job (two-stage spec §7): a Mixture-of-Experts of N two-tower nominators with
// a learned softmax gating (a soft pool allocation) vs the same experts on a fixed random pool
// allocation, trained on the products of the experiment's [world] (type multilabel_bandit: the
// AmazonCat-13K files or their synthetic stand-in) and compared by precision@k and recall@k on
// held-out products. One task = one (N, d_e, c, s) point × replication; a [grid] sweeps them.
// Outputs: the scores (with standard errors over the test products), epochs, the validation
// objective per epoch, and the distilled item → pool assignments (for `pools = ...`).
//
// Seeding: each task draws from hash_combine(hash_combine(master seed, task index),
// replication), the derivation `stagesim moe` used, so Fig. 5 numbers are unchanged by the move
// onto the engine (a grid point keeps its seed as long as the grid's order does).
#include <cstdint>
#include <limits>

#include "environments/multilabel_bandit.hpp"
#include "environments/generators/labeled_products.hpp"
#include "learners/moe/pool_learning.hpp"
#include "sim/errors.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct PoolLearningOpts {
  int64_t experts = 10;
  int64_t item_dim = 10;
  int64_t per_item = 1000;
  int64_t subset = 400;
  double sigma = 0.3;
  double learning_rate = 1e-3;
  int64_t batch = 256;
  int64_t max_epochs = 20;
  int64_t patience = 3;
  int64_t test_users = 50000;
  double validation_share = 0.1;
  int64_t k = 5;
  int64_t model_threads = 1;
  bool evaluate_distilled = false;
};

OptionGroup<PoolLearningOpts> options() {
  OptionGroup<PoolLearningOpts> g;
  g.add("experts", &PoolLearningOpts::experts, "N: experts (nominators, pools)",
        at_least<int64_t>(1))
      .add("item_dim", &PoolLearningOpts::item_dim, "d_e: item embedding dimension",
           at_least<int64_t>(1))
      .add("per_item", &PoolLearningOpts::per_item, "c: training examples per item",
           at_least<int64_t>(1))
      .add("subset", &PoolLearningOpts::subset,
           "s: feature columns each expert sees (a random subset of the products' d)",
           at_least<int64_t>(1))
      .add("sigma", &PoolLearningOpts::sigma, "σ of the Gaussian experts", greater_than<double>(0))
      .add("learning_rate", &PoolLearningOpts::learning_rate, "Adam learning rate",
           greater_than<double>(0))
      .add("batch", &PoolLearningOpts::batch, "mini-batch size", at_least<int64_t>(1))
      .add("max_epochs", &PoolLearningOpts::max_epochs, "epochs at most", at_least<int64_t>(1))
      .add("patience", &PoolLearningOpts::patience,
           "early stopping: epochs without validation progress", at_least<int64_t>(1))
      .add("test_users", &PoolLearningOpts::test_users,
           "held-out products for P@k / R@k (drawn before any training example)",
           at_least<int64_t>(1))
      .add("validation_share", &PoolLearningOpts::validation_share,
           "share of the training examples kept for early stopping", between<double>(0, 0.9))
      .add("k", &PoolLearningOpts::k, "k of precision@k and recall@k", at_least<int64_t>(1))
      .add("model_threads", &PoolLearningOpts::model_threads,
           "OpenMP threads over experts inside one model (tasks already run in parallel)",
           at_least<int64_t>(1))
      .add("evaluate_distilled", &PoolLearningOpts::evaluate_distilled,
           "also retrain the experts on the distilled (hard) pools and score them: what the "
           "bandit pipeline gets from `pools = ...` (a third training run)");
  return g;
}

class PoolLearningJob final : public Job {
 public:
  PoolLearningJob(const PoolLearningOpts& o, std::shared_ptr<const moe::LabeledProducts> data)
      : o_(o), data_(std::move(data)) {}

  void run(JobContext& ctx) override {
    moe::PoolLearningOptions fo;
    fo.sigma = o_.sigma;
    fo.train.batch = static_cast<int>(o_.batch);
    fo.train.learning_rate = o_.learning_rate;
    fo.train.max_epochs = static_cast<int>(o_.max_epochs);
    fo.train.patience = static_cast<int>(o_.patience);
    fo.test_users = o_.test_users;
    fo.validation_share = o_.validation_share;
    fo.k = static_cast<int>(o_.k);
    fo.threads = static_cast<int>(o_.model_threads);
    fo.evaluate_distilled = o_.evaluate_distilled;
    fo.seed = hash_combine(hash_combine(ctx.master_seed(), ctx.task()), ctx.replication());
    fo.progress = [&] { ctx.advance(1); };
    const moe::PoolLearningPoint point{static_cast<int>(o_.experts), static_cast<int>(o_.item_dim),
                                       static_cast<int>(o_.per_item), static_cast<int>(o_.subset)};
    const moe::PoolLearningResult r = moe::run_pool_learning(*data_, point, fo);

    std::size_t out = 0;
    auto scores = [&](const moe::TopKMetrics& m) {
      for (double v : {m.precision, m.precision_se, m.recall, m.recall_se})
        ctx.output(out++)[0] = v;
    };
    scores(r.moe);
    scores(r.random);
    if (o_.evaluate_distilled) scores(r.distilled);
    ctx.output(out++)[0] = r.moe_train.epochs;
    ctx.output(out++)[0] = r.random_train.epochs;
    for (const auto* objective :
         {&r.moe_train.validation_objective, &r.random_train.validation_objective}) {
      std::span<double> curve = ctx.output(out++);  // NaN after early stopping
      for (std::size_t e = 0; e < objective->size() && e < curve.size(); ++e)
        curve[e] = (*objective)[e];
    }
    for (const auto* assignment :
         {&r.learned_assignment, &r.contribution_assignment, &r.random_assignment}) {
      std::span<double> pools = ctx.output(out++);
      for (std::size_t a = 0; a < assignment->size(); ++a) pools[a] = (*assignment)[a];
    }
  }

 private:
  PoolLearningOpts o_;
  std::shared_ptr<const moe::LabeledProducts> data_;
};

JobBuild build(const PoolLearningOpts& o, const ParseContext& ctx) {
  if (!ctx.world_table || !ctx.world_table->get("type") ||
      ctx.world_table->get("type")->value<std::string>() != "multilabel_bandit")
    throw KeyError("type",
                   "= \"pool_learning\" trains on the products of a [world] of type "
                   "\"multilabel_bandit\" (source = \"synthetic\", or the feature and label "
                   "files); add one");
  std::shared_ptr<const MultilabelData> d = multilabel_world_data(*ctx.world_table, "world", ctx);
  const int items = static_cast<int>(d->categories.original.size());
  const std::int64_t products = d->features.rows, dim = d->features.cols;
  if (o.subset > dim)
    throw KeyError("subset", "= " + std::to_string(o.subset) + " but the products have " +
                                 std::to_string(dim) + " feature columns; use at most " +
                                 std::to_string(dim));
  if (o.test_users >= products)
    throw KeyError("test_users", "= " + std::to_string(o.test_users) +
                                     " leaves no training products (the world has " +
                                     std::to_string(products) + "); lower it");
  if (o.k > items)
    throw KeyError("k", "= " + std::to_string(o.k) + " exceeds the " + std::to_string(items) +
                            " items (kept categories); lower it");
  // The float features are large (products × d): one converted copy per process, shared by every
  // configuration on the same products.
  auto load = [&] { return moe::from_multilabel(d->features, d->categories.labels, items); };
  const std::string key =
      "labeled_products\n" + std::to_string(reinterpret_cast<std::uintptr_t>(d.get()));
  std::shared_ptr<const moe::LabeledProducts> data =
      ctx.cache ? ctx.cache->get<moe::LabeledProducts>(key, load)
                : std::make_shared<const moe::LabeledProducts>(load());

  JobBuild b;
  b.make = [o, data] { return std::make_unique<PoolLearningJob>(o, data); };
  std::vector<double> epochs, item_ids;
  for (int64_t e = 1; e <= o.max_epochs; ++e) epochs.push_back(static_cast<double>(e));
  for (int a = 0; a < items; ++a) item_ids.push_back(a);
  b.axes = {{"epoch", "epochs", epochs}, {"item", "item id", item_ids}};
  const std::string k = std::to_string(o.k);
  auto model = [&](const std::string& tag, const std::string& what) {
    b.outputs.push_back({"P_" + tag, "fraction", "precision@" + k + " of " + what, {}});
    b.outputs.push_back({"P_" + tag + "_se",
                         "fraction",
                         "standard error of P_" + tag + " over the test products",
                         {}});
    b.outputs.push_back({"R_" + tag, "fraction", "recall@" + k + " of " + what, {}});
    b.outputs.push_back({"R_" + tag + "_se",
                         "fraction",
                         "standard error of R_" + tag + " over the test products",
                         {}});
  };
  model("moe", "the MoE with learned gating");
  model("random", "the same experts on random pools");
  if (o.evaluate_distilled) model("distilled", "the experts retrained on the distilled pools");
  b.outputs.push_back({"epochs_moe", "epochs", "epochs the MoE trained (early stopping)", {}});
  b.outputs.push_back({"epochs_random", "epochs", "epochs the random-pool model trained", {}});
  b.outputs.push_back({"validation_objective_moe",
                       "log-likelihood",
                       "MoE validation objective after each epoch (NaN after stopping)",
                       {"epoch"}});
  b.outputs.push_back({"validation_objective_random",
                       "log-likelihood",
                       "random-pool validation objective after each epoch",
                       {"epoch"}});
  b.outputs.push_back({"learned_pool",
                       "expert",
                       "item → expert with the largest average gate (the spec's distillation)",
                       {"item"}});
  b.outputs.push_back({"contribution_pool",
                       "expert",
                       "item → expert contributing most to the item's score",
                       {"item"}});
  b.outputs.push_back({"random_pool", "expert", "item → expert of the random baseline", {"item"}});
  // Per training example and epoch, fitted to the measured times in docs/moe.md (within ≈ 1.5×):
  // N experts' towers forward and back ≈ 1.5·d_e·s each, the gating ≈ 4·d each; early stopping
  // typically ends a model within patience + 4 epochs. Evaluation scores every test product.
  const double examples = static_cast<double>(o.per_item) * items;
  const double epochs_run = static_cast<double>(std::min<int64_t>(o.max_epochs, o.patience + 4));
  const double per_example = static_cast<double>(o.experts) *
                             (1.5 * o.item_dim * o.subset + 4.0 * static_cast<double>(dim));
  const int models = o.evaluate_distilled ? 3 : 2;
  b.cost = models * examples * epochs_run * per_example +
           models * static_cast<double>(o.test_users) * o.experts *
               (2.0 * o.item_dim * o.subset + 2.0 * items * o.item_dim);
  b.work = models;  // one step per trained model (the evaluation is part of the last)
  b.work_units = "models";
  return b;
}

}  // namespace

JobEntry pool_learning_job_entry() {
  return make_entry<JobBuild>(
      "job", "pool_learning",
      "MoE pool learning (learned gating) vs random pools: P@k / R@k on held-out products of a "
      "multilabel_bandit world",
      options(), build);
}

}  // namespace stagesim
