// The KuaiRec world (early-stage-pg spec §8): q = the dense users × videos watch-ratio table of
// small_matrix.csv (clipped to [0, clip], users/videos re-indexed in order of first appearance,
// missing cells 0), r = q·(1 + ε), ε ~ N(0, 0.3²). A tabular world built from the CSV.
#include <cstdio>

#include "environments/data/kuairec.hpp"
#include "environments/data_source.hpp"
#include "environments/tabular.hpp"
#include "sim/memory.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

const EnumTable<data::DuplicatePolicy> kDuplicates{{"first", data::DuplicatePolicy::kFirst},
                                                  {"last", data::DuplicatePolicy::kLast},
                                                  {"mean", data::DuplicatePolicy::kMean},
                                                  {"max", data::DuplicatePolicy::kMax}};

struct KuaiRecOpts {
  std::string data_dir;
  std::string matrix = "small_matrix.csv";
  double clip = 10.0;
  data::DuplicatePolicy duplicates = data::DuplicatePolicy::kMean;
  TableNoise noise = TableNoise::multiplicative;
  double noise_std = 0.3;
};

OptionGroup<KuaiRecOpts> options() {
  OptionGroup<KuaiRecOpts> g;
  g.add("data_dir", &KuaiRecOpts::data_dir,
        "KuaiRec directory: the CSVs themselves, or data/, KuaiRec/data/ or \"KuaiRec 2.0\"/data/ "
        "beneath it; relative paths are resolved against --data-dir")
      .add("matrix", &KuaiRecOpts::matrix,
           "interaction file that becomes q (small_matrix.csv: 1,411 users x 3,327 videos, "
           "99.6 % dense; big_matrix.csv works too but is 16 % dense)")
      .add("clip", &KuaiRecOpts::clip, "clip watch_ratio to [0, clip] (0 = no clipping)",
           at_least<double>(0))
      .add("duplicates", &KuaiRecOpts::duplicates,
           "repeated (user, video) rows (re-watches in big_matrix): keep the first, last, mean or "
           "max watch ratio",
           kDuplicates)
      .add("noise", &KuaiRecOpts::noise,
           "reward noise: multiplicative (q·(1 + noise_std·z)), gaussian (q + noise_std·z) or none",
           table_noise_names(/*with_bernoulli=*/false))
      .add("noise_std", &KuaiRecOpts::noise_std,
           "std of ε (multiplicative) or of the noise (gaussian)", at_least<double>(0));
  return g;
}

}  // namespace

WorldEntry kuairec_world_entry() {
  const OptionGroup<KuaiRecOpts> g = options();
  WorldEntry e;
  e.type = "kuairec";
  e.help =
      "KuaiRec v2: q = dense users × videos watch-ratio table of small_matrix.csv, "
      "multiplicative noise; each request draws a user uniformly";
  e.params = g.info();
  e.parse = [g](const toml::table& t, const std::string& path, toml::table& resolved,
                const ParseContext& ctx) {
    const KuaiRecOpts o = g.parse(t, path, "world type 'kuairec'", {"type"});
    g.write(o, resolved);
    if (o.data_dir.empty())
      throw ConfigError(source_of(t) + ": world type 'kuairec' needs key '" + path +
                        ".data_dir': the directory of the downloaded KuaiRec CSVs (see "
                        "docs/datasets.md)");
    const std::string root = ctx.data_path(o.data_dir);
    const std::string where = key_location(t, path, "data_dir");
    auto load = [&] {
      return load_data(where, [&] {
        const auto csv = data::kuairec_file(root, o.matrix);
        data::DenseOptions d;
        if (o.clip > 0) d.clip = o.clip;
        d.duplicates = o.duplicates;
        d.max_bytes = available_memory_bytes() / 2;  // the table is copied once into q
        const data::DenseTable<double> dense = data::load_kuairec_dense<double>(csv, d);
        // Printed once per process: the cache runs this loader once.
        std::fprintf(stderr, "stagesim: %s\n", dense.summary.report().c_str());
        if (dense.values.rows == 0 || dense.values.cols == 0)
          throw data::DataError(csv.string(), "no interactions with a watch ratio",
                                "point data_dir at the KuaiRec data");
        RewardTable table;
        table.q = Eigen::Map<const RowMatrix>(dense.values.values.data(), dense.values.rows,
                                              dense.values.cols);
        if (std::string bad = finish_reward_table(table); !bad.empty())
          throw data::DataError(csv.string(), bad, "check the watch_ratio column");
        return table;
      });
    };
    char clip[32];
    std::snprintf(clip, sizeof clip, "%.17g", o.clip);
    const std::string key =
        "kuairec\n" + root + "\n" + o.matrix + "\n" + clip + "\n" + kDuplicates.name(o.duplicates);
    std::shared_ptr<const RewardTable> table = ctx.cache
                                                   ? ctx.cache->get<RewardTable>(key, load)
                                                   : std::make_shared<const RewardTable>(load());
    return tabular_world_build(table, TableNoiseSpec{o.noise, o.noise_std});
  };
  return e;
}

}  // namespace stagesim
