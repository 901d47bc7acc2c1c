// The multi-label bandit world (two-stage-bandits spec §6.2; AmazonCat-13K in Fig. 4): each round
// draws products uniformly as the arms, their feature rows are the contexts, and the reward is a
// deterministic 0/1 function of their labels, so the oracle means are the rewards themselves.
// Reward rules:
//   target_category  a category c, drawn per replication with probability ∝ its frequency;
//                    K distinct products per round; r = 1{c ∈ labels(product)}
//   category_arms    arm a = kept category a (K = categories); per round one product drawn
//                    uniformly for each arm; r = 1{a ∈ labels(product)}
//   query_overlap    a query product drawn per round and K distinct products;
//                    r = 1{labels(query) ∩ labels(product) ≠ ∅}
// Data: files (see multilabel_data.hpp) or the synthetic generator (synthetic_multilabel.hpp).
#include <algorithm>
#include <cstdio>
#include <numeric>

#include <boost/random/uniform_int_distribution.hpp>

#include "environments/data_source.hpp"
#include "environments/multilabel_bandit.hpp"
#include "environments/multilabel_data.hpp"
#include "environments/synthetic_multilabel.hpp"
#include "sim/memory.hpp"
#include "sim/registry.hpp"
#include "sim/select.hpp"

namespace stagesim {
namespace {

enum class Rule { target_category, category_arms, query_overlap };
enum class Source { files, synthetic };
const EnumTable<Source> kSources{{"files", Source::files}, {"synthetic", Source::synthetic}};
const EnumTable<Rule> kRules{{"target_category", Rule::target_category},
                             {"category_arms", Rule::category_arms},
                             {"query_overlap", Rule::query_overlap}};

struct MultilabelOpts {
  Source source = Source::files;
  std::string features;
  std::string features_dataset;
  std::string labels;
  int64_t feature_dims = 0;
  int64_t first_rank = 3;
  int64_t categories = 100;
  int64_t items = 100;
  Rule reward = Rule::target_category;
  // source = "synthetic"
  int64_t products = 20000;
  int64_t dim = 64;
  int64_t label_count = 150;
  int64_t data_seed = 1;
  double signal = 0.6;
  double shared = 0.25;
  double exponent = 1.547;
  double rank_offset = 16.0;
  double positive_rate = 0.1073;
};

const std::vector<std::string> kFileKeys = {"features", "features_dataset", "labels"};
const std::vector<std::string> kSyntheticKeys = {"products",  "dim",         "label_count",
                                                 "data_seed", "signal",      "shared",
                                                 "exponent",  "rank_offset", "positive_rate"};

Allowed<double> open_unit_interval() {
  Allowed<double> a = between<double>(0, 1);
  a.min_open = a.max_open = true;
  return a;
}

OptionGroup<MultilabelOpts> options() {
  OptionGroup<MultilabelOpts> g;
  g.add("source", &MultilabelOpts::source,
        "where the products come from: files (features + labels) or the synthetic generator",
        kSources)
      .add("features", &MultilabelOpts::features,
           "dense product features, one row per product: .npy, .npz or HDF5 (relative to "
           "--data-dir)")
      .add("features_dataset", &MultilabelOpts::features_dataset,
           "the .npz member / HDF5 dataset holding the features (\"\" = the only .npz member, or "
           "the HDF5 dataset \"features\")")
      .add("labels", &MultilabelOpts::labels,
           "product labels: Extreme Classification text (e.g. AmazonCat-13K train.txt) or a SciPy "
           "CSR .npz, products in the order of the feature rows")
      .add("feature_dims", &MultilabelOpts::feature_dims,
           "keep the first this many feature columns (paper: 400 of 768); 0 = all",
           at_least<int64_t>(0))
      .add("first_rank", &MultilabelOpts::first_rank,
           "rank (by frequency, 1 = most frequent) of the first kept category",
           at_least<int64_t>(1))
      .add("categories", &MultilabelOpts::categories, "number of kept categories, remapped by rank",
           at_least<int64_t>(1))
      .add("items", &MultilabelOpts::items,
           "arms per round K (category_arms: must equal categories)", at_least<int64_t>(1))
      .add("reward", &MultilabelOpts::reward,
           "reward rule: target_category, category_arms or query_overlap", kRules)
      .add("products", &MultilabelOpts::products, "synthetic: number of products",
           at_least<int64_t>(1))
      .add("dim", &MultilabelOpts::dim, "synthetic: feature columns generated",
           at_least<int64_t>(1))
      .add("label_count", &MultilabelOpts::label_count, "synthetic: categories generated",
           at_least<int64_t>(1))
      .add("data_seed", &MultilabelOpts::data_seed,
           "synthetic: seed of the data set (fixed across replications, unlike the world streams)",
           at_least<int64_t>(0))
      .add("signal", &MultilabelOpts::signal,
           "synthetic: share of a label score's variance explained by the features",
           between<double>(0, 1))
      .add("shared", &MultilabelOpts::shared,
           "synthetic: share from a hidden per-product factor (varies label counts)",
           between<double>(0, 1))
      .add("exponent", &MultilabelOpts::exponent,
           "synthetic: power-law exponent of category frequency vs rank", at_least<double>(0))
      .add("rank_offset", &MultilabelOpts::rank_offset,
           "synthetic: frequency ∝ (rank + rank_offset)^-exponent", greater_than<double>(-1))
      .add("positive_rate", &MultilabelOpts::positive_rate,
           "synthetic: mean frequency of the kept categories (paper 10.73 %)",
           open_unit_interval());
  return g;
}

class MultilabelBanditWorld final : public World {
 public:
  MultilabelBanditWorld(std::shared_ptr<const MultilabelData> d, Rule rule, int k,
                        const StreamKey& key)
      : data_(std::move(d)),
        rule_(rule),
        k_(k),
        n_(static_cast<int>(data_->features.rows)),
        dim_(static_cast<int>(data_->features.cols)),
        contexts_(key.stream("contexts")) {
    products_.resize(k_);
    if (rule_ != Rule::category_arms) {
      perm_.resize(n_);
      std::iota(perm_.begin(), perm_.end(), 0);
    }
    if (rule_ == Rule::target_category) {
      // Drawn once per replication from the world's construction stream, ∝ frequency.
      const auto& f = data_->categories.frequency;
      const std::int64_t total = std::accumulate(f.begin(), f.end(), std::int64_t{0});
      Rng init = key.stream("world");
      std::int64_t x = boost::random::uniform_int_distribution<std::int64_t>(0, total - 1)(init);
      target_ = 0;
      while (x >= f[target_]) x -= f[target_++];
    }
  }
  int num_items() const override { return k_; }
  int dim() const override { return dim_; }

  void next(Request& req, int slate) override { draw(req, slate, contexts_, &perm_, products_); }
  bool sample_request(Request& req, int slate, Rng& rng) const override {
    std::vector<int> products(k_);
    draw(req, slate, rng, nullptr, products);
    return true;
  }
  // Deterministic given the draw: the reward is the mean.
  double reward(const Request& req, int item, int) const override { return req.mean[item]; }

 private:
  // `perm` is the world's persistent permutation (next) or null (sample_request, which must not
  // change the world): then distinct products are drawn by rejection or a local shuffle.
  void draw(Request& req, int slate, Rng& rng, std::vector<int>* perm,
            std::vector<int>& products) const {
    int query = -1;
    if (rule_ == Rule::query_overlap) query = uniform_index(rng, n_);
    if (rule_ == Rule::category_arms) {
      for (int a = 0; a < k_; ++a) products[a] = uniform_index(rng, n_);
    } else if (perm) {
      // A partial Fisher–Yates step on a persistent permutation: O(K) per round, and uniform
      // whatever order the permutation was left in.
      for (int i = 0; i < k_; ++i) {
        std::swap((*perm)[i], (*perm)[i + uniform_index(rng, n_ - i)]);
        products[i] = (*perm)[i];
      }
    } else if (2 * static_cast<std::int64_t>(k_) <= n_) {
      for (int i = 0; i < k_; ++i) {
        int p;
        do p = uniform_index(rng, n_);
        while (std::find(products.begin(), products.begin() + i, p) != products.begin() + i);
        products[i] = p;
      }
    } else {
      std::vector<int> local(n_);
      std::iota(local.begin(), local.end(), 0);
      for (int i = 0; i < k_; ++i) {
        std::swap(local[i], local[i + uniform_index(rng, n_ - i)]);
        products[i] = local[i];
      }
    }
    req.features.resize(k_, dim_);
    req.mean_storage.resize(k_);
    const auto& labels = data_->categories.labels;
    for (int a = 0; a < k_; ++a) {
      const int p = products[a];
      const float* src = data_->features.row(p);
      double* dst = req.features.data() + static_cast<std::ptrdiff_t>(a) * dim_;
      for (int j = 0; j < dim_; ++j) dst[j] = src[j];
      const auto lp = labels[p];
      bool hit = false;
      switch (rule_) {
        case Rule::target_category:
          hit = std::binary_search(lp.begin(), lp.end(), target_);
          break;
        case Rule::category_arms:
          hit = std::binary_search(lp.begin(), lp.end(), a);
          break;
        case Rule::query_overlap: {
          const auto lq = labels[query];
          auto i = lp.begin();
          auto j = lq.begin();
          while (!hit && i != lp.end() && j != lq.end()) {
            if (*i < *j)
              ++i;
            else if (*j < *i)
              ++j;
            else
              hit = true;
          }
          break;
        }
      }
      req.mean_storage[a] = hit ? 1.0 : 0.0;
    }
    req.own_mean();
    req.noise.setZero(slate);
  }
  std::shared_ptr<const MultilabelData> data_;
  Rule rule_;
  int k_, n_, dim_;
  int target_ = -1;
  Rng contexts_;
  std::vector<int> perm_, products_;
};

std::string number_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

struct LoadedMultilabel {
  MultilabelOpts o;
  Rule rule;
  std::shared_ptr<const MultilabelData> d;
  std::string src;
};

// Parses and validates the data-source keys of a [world] table of this type and loads the
// products through the cache (shared with offline learners such as the MoE pool trainer).
LoadedMultilabel load_multilabel(const OptionGroup<MultilabelOpts>& g, const toml::table& t,
                                 const std::string& path, toml::table& resolved,
                                 const ParseContext& ctx) {
  const std::string owner = "world type 'multilabel_bandit'";
  const MultilabelOpts o = g.parse(t, path, owner, {"type"});
  const bool synthetic = o.source == Source::synthetic;
  const std::vector<std::string>& foreign = synthetic ? kFileKeys : kSyntheticKeys;
  for (const std::string& k : foreign)
    if (t.get(k))
      throw ConfigError(key_location(t, path, k) + " only applies to source = \"" +
                        (synthetic ? "files" : "synthetic") + "\"; remove it or set " + path +
                        ".source = \"" + (synthetic ? "files" : "synthetic") + "\"");
  g.write(o, resolved);
  for (const std::string& k : foreign) resolved.erase(k);  // the resolved table stays valid
  if (!synthetic && (o.features.empty() || o.labels.empty()))
    throw ConfigError(source_of(t) + ": " + owner + " with source = \"files\" needs keys '" + path +
                      ".features' (dense matrix, one row per product: .npy/.npz/.h5) "
                      "and '" +
                      path +
                      ".labels' (XC text or SciPy CSR .npz); or set source = "
                      "\"synthetic\"");
  const Rule rule = o.reward;
  if (rule == Rule::category_arms && o.items != o.categories)
    throw ConfigError(key_location(t, path, "items") + " = " + std::to_string(o.items) +
                      " but reward = \"category_arms\" has one arm per kept category; set "
                      "items = categories (" +
                      std::to_string(o.categories) + ")");
  SyntheticMultilabelOptions so;
  so.products = o.products;
  so.dim = o.dim;
  so.labels = o.label_count;
  so.seed = static_cast<std::uint64_t>(o.data_seed);
  so.signal = o.signal;
  so.shared = o.shared;
  so.exponent = o.exponent;
  so.rank_offset = o.rank_offset;
  so.positive_rate = o.positive_rate;
  so.first_rank = static_cast<int>(o.first_rank);
  so.count = static_cast<int>(o.categories);
  if (synthetic) {
    if (std::string bad = check_synthetic_multilabel(so); !bad.empty())
      throw ConfigError(source_of(t) + ": " + owner + " with source = \"synthetic\": " + bad);
    // Features (float), the label weights and the label lists, before anything is generated.
    const double bytes = 4.0 * static_cast<double>(o.products) * static_cast<double>(o.dim) +
                         8.0 * static_cast<double>(o.dim) * static_cast<double>(o.label_count) +
                         4.0 * static_cast<double>(o.products) *
                             static_cast<double>(o.label_count) * o.positive_rate;
    if (const double avail = available_memory_bytes(); bytes > avail)
      throw ConfigError(key_location(t, path, "products") + " = " + std::to_string(o.products) +
                        " with dim = " + std::to_string(o.dim) +
                        " and label_count = " + std::to_string(o.label_count) + " needs " +
                        format_bytes(bytes) + " to generate, but " + format_bytes(avail) +
                        " are available; lower products, dim or label_count");
    if (o.feature_dims > o.dim)
      throw ConfigError(key_location(t, path, "feature_dims") + " = " +
                        std::to_string(o.feature_dims) + " exceeds the generated dim = " +
                        std::to_string(o.dim) + "; lower it or raise " + path + ".dim");
  }
  const data::CategorySelection sel{static_cast<int>(o.first_rank), static_cast<int>(o.categories)};
  const MultilabelFiles files{ctx.data_path(o.features), o.features_dataset, o.feature_dims,
                              ctx.data_path(o.labels)};
  auto load = [&] {
    return load_data(source_of(t) + ": " + owner, [&] {
      RawMultilabel raw;
      std::string what;
      if (synthetic) {
        raw = generate_synthetic_multilabel(so);
        raw.features = LeadingColumns(std::move(raw.features), o.feature_dims);
        what = "synthetic multi-label data (data_seed " + std::to_string(o.data_seed) + ")";
      } else {
        raw = ReadMultilabelFiles(files);
        what = files.labels;
      }
      MultilabelData d = PrepareMultilabel(std::move(raw), sel);
      // Printed once per process: the cache runs this loader once.
      std::fprintf(stderr, "stagesim: %s: %lld products x %lld features. %s\n", what.c_str(),
                   static_cast<long long>(d.features.rows), static_cast<long long>(d.features.cols),
                   d.stats.report().c_str());
      return d;
    });
  };
  std::string key = "multilabel\n" + std::to_string(o.feature_dims) + "\n" +
                    std::to_string(o.first_rank) + "\n" + std::to_string(o.categories) + "\n";
  if (synthetic) {
    for (double v : {double(o.products), double(o.dim), double(o.label_count), double(o.data_seed),
                     o.signal, o.shared, o.exponent, o.rank_offset, o.positive_rate})
      key += number_text(v) + "\n";
  } else {
    key += files.features + "\n" + files.features_dataset + "\n" + files.labels;
  }
  std::shared_ptr<const MultilabelData> d = ctx.cache
                                                ? ctx.cache->get<MultilabelData>(key, load)
                                                : std::make_shared<const MultilabelData>(load());
  const auto kept = static_cast<int64_t>(d->categories.original.size());
  const std::string src = synthetic ? std::string("the synthetic data") : files.labels;
  if (kept == 0)
    throw ConfigError(key_location(t, path, "first_rank") + ": " + src +
                      " has no category "
                      "ranked " +
                      std::to_string(o.first_rank) + " or lower; lower first_rank");
  return {o, rule, d, src};
}

}  // namespace

WorldEntry multilabel_bandit_world_entry() {
  const OptionGroup<MultilabelOpts> g = options();
  WorldEntry e;
  e.type = "multilabel_bandit";
  e.help =
      "multi-label products as bandit arms (AmazonCat-13K, or synthetic): features = product "
      "rows, 0/1 rewards from the labels";
  e.params = g.info();
  e.parse = [g](const toml::table& t, const std::string& path, toml::table& resolved,
                const ParseContext& ctx) {
    const LoadedMultilabel loaded = load_multilabel(g, t, path, resolved, ctx);
    const MultilabelOpts& o = loaded.o;
    const Rule rule = loaded.rule;
    const std::shared_ptr<const MultilabelData>& d = loaded.d;
    const std::string& src = loaded.src;
    const auto kept = static_cast<int64_t>(d->categories.original.size());
    if (rule == Rule::category_arms && kept != o.items)
      throw ConfigError(key_location(t, path, "categories") + ": " + src + " keeps only " +
                        std::to_string(kept) +
                        " categories, but reward = \"category_arms\" "
                        "needs one per arm (items = " +
                        std::to_string(o.items) + ")");
    if (rule != Rule::category_arms && o.items > d->features.rows)
      throw ConfigError(key_location(t, path, "items") + " = " + std::to_string(o.items) +
                        " exceeds the " + std::to_string(d->features.rows) + " products of " + src +
                        "; arms are distinct products");
    const int k = static_cast<int>(o.items);
    WorldBuild b;
    b.make = [d, rule, k](const StreamKey& key) {
      return std::make_unique<MultilabelBanditWorld>(d, rule, k, key);
    };
    b.items = k;
    b.dim = static_cast<int>(d->features.cols);
    b.cost_per_request = 2.0 * static_cast<double>(k) * static_cast<double>(d->features.cols);
    b.replayable = true;
    b.bytes = 2.0 * 8.0 * static_cast<double>(k) * static_cast<double>(d->features.cols + 1);
    b.samples_requests = true;
    return b;
  };
  return e;
}

}  // namespace stagesim

namespace stagesim {

std::shared_ptr<const MultilabelData> multilabel_world_data(const toml::table& t,
                                                            const std::string& path,
                                                            const ParseContext& ctx) {
  toml::table resolved;
  return load_multilabel(options(), t, path, resolved, ctx).d;
}

}  // namespace stagesim
