// Worlds built from datasets: tabular (q/σ tables), KuaiRec, the multi-label bandit (files and the
// synthetic generator), `stagesim export-world`, the Fig. 4 synthetic experiment, and the one-line
// errors on malformed data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <Eigen/QR>

#include "environments/data/hdf5_array.hpp"
#include "environments/data/npy.hpp"
#include "environments/data/npz.hpp"
#include "environments/multilabel_data.hpp"
#include "environments/synthetic_multilabel.hpp"
#include "sim/output.hpp"
#include "tests/test_util.hpp"

namespace stagesim {
namespace {

namespace fs = std::filesystem;
using test::run_command;

std::string fixture(const std::string& rel) {
  return test::source_dir() + "/tests/fixtures/" + rel;
}

// An experiment around one [world] table (TOML text), with a random stage that needs nothing.
Experiment parse_world(const std::string& world, const std::string& data_dir = "",
                       std::vector<std::string> sets = {}) {
  LoadOptions lo;
  lo.data_dir = data_dir;
  lo.set = std::move(sets);
  const std::string text = "[experiment]\nreplications = 3\nhorizon = 10\ncheckpoints = 1\n" +
                           world + "\n[stages.policy]\ntype = \"random\"\n";
  return parse_experiment(text, "test.toml", lo, builtin_registry());
}

std::unique_ptr<World> make_world(const Experiment& ex, std::size_t config = 0,
                                  std::uint64_t rep = 0) {
  const Config& c = ex.configs.at(config);
  return c.world.make(StreamKey{ex.seed, c.world_scope, rep});
}

std::string sh(const fs::path& p) {
  return "'" + p.string() + "'";
}  // shell-quoted

// Exit code and the number of output lines of a failing CLI call; the message must name `file`.
void expect_one_line_error(const test::CommandResult& r, int code, const std::string& file) {
  EXPECT_EQ(r.exit_code, code) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("stagesim: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
}

// ---- tabular world: file formats, noise models, validation
// ---------------------------------------

class TabularWorldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("tabular");
    q_ = data::DenseMatrix<double>(3, 4);
    sigma_ = data::DenseMatrix<double>(3, 4);
    for (int u = 0; u < 3; ++u)
      for (int a = 0; a < 4; ++a) {
        q_(u, a) = 0.1 + 0.2 * a + 0.05 * u;  // in (0, 1): valid for every noise model
        sigma_(u, a) = 0.05 + 0.1 * u + 0.02 * a;
      }
    h5_ = dir_ / "world.h5";
    data::write_hdf5_matrix<double>(h5_, "q", q_);
    data::write_hdf5_matrix<double>(h5_, "sigma", sigma_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Samples rewards of every (user, item) cell and checks mean and variance against the model.
  void check_moments(const std::string& noise_toml, std::function<double(int, int)> variance,
                     int requests = 24000) {
    SCOPED_TRACE(noise_toml);
    Experiment ex =
        parse_world("[world]\ntype = \"tabular\"\npath = \"" + h5_.string() + "\"\n" + noise_toml);
    auto w = make_world(ex, 0, 7);
    EXPECT_EQ(w->dim(), 0);
    EXPECT_EQ(w->num_items(), 4);
    std::vector<double> sum(12, 0), sum2(12, 0), n(12, 0);
    std::vector<int> per_user(3, 0);
    Request req;
    for (int i = 0; i < requests; ++i) {
      w->next(req, 1);
      ASSERT_GE(req.user, 0);
      ASSERT_LT(req.user, 3);
      ASSERT_EQ(req.mean.size(), 4);
      EXPECT_EQ(req.features.size(), 0);
      ++per_user[req.user];
      for (int a = 0; a < 4; ++a) {
        ASSERT_EQ(req.mean[a], q_(req.user, a));
        const double r = w->reward(req, a, 0);
        const int c = static_cast<int>(req.user) * 4 + a;
        sum[c] += r;
        sum2[c] += r * r;
        n[c] += 1;
      }
    }
    for (int u = 0; u < 3; ++u)  // users drawn uniformly
      EXPECT_NEAR(per_user[u], requests / 3.0, 5 * std::sqrt(requests * (1 / 3.0) * (2 / 3.0)));
    for (int u = 0; u < 3; ++u)
      for (int a = 0; a < 4; ++a) {
        const int c = u * 4 + a;
        const double m = sum[c] / n[c];
        const double v = (sum2[c] - n[c] * m * m) / (n[c] - 1);
        const double var = variance(u, a);
        // Tolerances of 5 standard errors: of the mean sqrt(var / n); of the sample variance
        // sqrt((mu4 - var²) / n) with mu4 = 3 var² (Gaussian) or the Bernoulli fourth moment.
        const double p = q_(u, a);
        const double mu4 = noise_toml.find("bernoulli") != std::string::npos
                               ? p * (1 - p) * (1 - 3 * p + 3 * p * p)
                               : 3 * var * var;
        EXPECT_NEAR(m, q_(u, a), 5 * std::sqrt(var / n[c]) + 1e-12) << u << "," << a;
        // (plus the O(var / n) term that dominates when mu4 = var², e.g. Bernoulli(1/2)).
        EXPECT_NEAR(v, var,
                    5 * std::sqrt(std::max(mu4 - var * var, 0.0) / n[c]) + 25 * var / n[c] + 1e-12)
            << u << "," << a;
      }
  }

  fs::path dir_, h5_;
  data::DenseMatrix<double> q_, sigma_;
};

TEST_F(TabularWorldTest, NoiseModelsHaveTheStatedMeansAndVariances) {
  check_moments("noise = \"none\"", [](int, int) { return 0.0; });
  check_moments("noise = \"gaussian\"",  // the file's σ table
                [&](int u, int a) { return sigma_(u, a) * sigma_(u, a); });
  check_moments("noise = \"gaussian\"\nsigma_dataset = \"\"\nnoise_std = 0.2",
                [](int, int) { return 0.04; });
  check_moments("noise = \"multiplicative\"\nnoise_std = 0.3",
                [&](int u, int a) { return q_(u, a) * q_(u, a) * 0.09; });
  check_moments("noise = \"bernoulli\"", [&](int u, int a) { return q_(u, a) * (1 - q_(u, a)); });
}

TEST_F(TabularWorldTest, ReadsNpyNpzAndSeparateSigmaFilesAndExposesTables) {
  data::write_npy<double>(dir_ / "q.npy", q_);
  data::write_npy<double>(dir_ / "sigma.npy", sigma_);
  // float32 HDF5 is accepted too.
  data::DenseMatrix<float> qf(q_.rows, q_.cols);
  for (std::size_t i = 0; i < q_.values.size(); ++i)
    qf.values[i] = static_cast<float>(q_.values[i]);
  data::write_hdf5_matrix<float>(dir_ / "qf.h5", "q", qf);
  {
    std::vector<std::pair<std::string, std::vector<unsigned char>>> members;
    const std::int64_t shape[2] = {3, 4};
    members.emplace_back("q", data::encode_npy<double>(q_.values, shape));
    data::write_npz(dir_ / "q.npz", members);
  }
  for (const char* world_text :
       {"path = \"q.npy\"\nsigma_path = \"sigma.npy\"", "path = \"world.h5\"",
        "path = \"q.npz\"\nnoise_std = 0.5", "path = \"qf.h5\"\nnoise = \"none\""}) {
    const std::string world = world_text;
    SCOPED_TRACE(world);
    Experiment ex = parse_world("[world]\ntype = \"tabular\"\n" + world, dir_.string());
    auto w = make_world(ex);
    const World::Tables t = w->tables();
    ASSERT_NE(t.q, nullptr);
    ASSERT_EQ(t.q->rows(), 3);
    ASSERT_EQ(t.q->cols(), 4);
    for (int u = 0; u < 3; ++u)
      for (int a = 0; a < 4; ++a) {
        if (world.find("qf.h5") != std::string::npos)
          EXPECT_EQ((*t.q)(u, a), static_cast<double>(static_cast<float>(q_(u, a))));
        else
          EXPECT_EQ((*t.q)(u, a), q_(u, a));
      }
    const bool with_sigma =
        world.find("sigma") != std::string::npos || world == "path = \"world.h5\"";
    ASSERT_EQ(t.sigma != nullptr, with_sigma);
    if (t.sigma) {
      EXPECT_EQ((*t.sigma)(2, 3), sigma_(2, 3));
    }
  }
}

TEST_F(TabularWorldTest, OneTableIsLoadedOncePerProcess) {
  // A grid of three noise levels: three configurations, one table in memory.
  Experiment ex = parse_world("[world]\ntype = \"tabular\"\npath = \"" + h5_.string() +
                              "\"\nsigma_dataset = \"\"\n[grid]\n\"world.noise_std\" = [0.1, 0.2, "
                              "0.3]");
  ASSERT_EQ(ex.configs.size(), 3u);
  auto a = make_world(ex, 0), b = make_world(ex, 2);
  EXPECT_EQ(a->tables().q, b->tables().q);
  EXPECT_NE(ex.configs[0].world_scope, ex.configs[2].world_scope);
}

TEST_F(TabularWorldTest, RejectsTablesThatDoNotFitTheNoiseModel) {
  data::DenseMatrix<double> big = q_;
  big(1, 2) = 1.5;
  data::write_hdf5_matrix<double>(dir_ / "big.h5", "q", big);
  try {
    parse_world("[world]\ntype = \"tabular\"\npath = \"big.h5\"\nnoise = \"bernoulli\"",
                dir_.string());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("big.h5"), std::string::npos) << m;
    EXPECT_NE(m.find("q[1, 2] = 1.5"), std::string::npos) << m;
  }
  data::write_hdf5_matrix<double>(dir_ / "bad_sigma.h5", "q", q_);
  data::write_hdf5_matrix<double>(dir_ / "bad_sigma.h5", "sigma", data::DenseMatrix<double>(2, 4));
  EXPECT_THROW(parse_world("[world]\ntype = \"tabular\"\npath = \"bad_sigma.h5\"", dir_.string()),
               IoError);
  EXPECT_THROW(parse_world("[world]\ntype = \"tabular\"\npath = \"world.h5\"\nnoise = "
                           "\"multiplicative\"\nsigma_path = \"world.h5\"",
                           dir_.string()),
               ConfigError);
  EXPECT_THROW(parse_world("[world]\ntype = \"tabular\""), ConfigError);
}

// ---- KuaiRec world
// ---------------------------------------------------------------------------------

// small_matrix.csv of the fixtures by hand: users 14, 3, 7, 21 × videos 148, 36, 1001, 5, 77 in
// order of first appearance; user 3 / video 148 has watch_ratio nan -> play/video = 4000/8000;
// user 7 / video 36 has no watch ratio at all -> 0; user 7 / video 1001 = 12 is clipped to 10.
const double kKuaiRecQ[4][5] = {{1.2734, 0.8, 0.0, 6.0, 0.0},
                                {0.5, 2.5, 0.2, 0.0, 3.0},
                                {0.0, 0.0, 10.0, 2.2, 0.0},
                                {0.4601, 0.0, 0.0, 1.0, 0.5}};

TEST(KuaiRecWorld, DenseTableFromBothLayouts) {
  for (const std::string dir : {"kuairec", "kuairec_nested"}) {
    SCOPED_TRACE(dir);
    // Relative data_dir, resolved against --data-dir.
    Experiment ex =
        parse_world("[world]\ntype = \"kuairec\"\ndata_dir = \"" + dir + "\"", fixture(""));
    auto w = make_world(ex);
    EXPECT_EQ(w->num_items(), 5);
    EXPECT_EQ(w->dim(), 0);
    const World::Tables t = w->tables();
    ASSERT_NE(t.q, nullptr);
    EXPECT_EQ(t.sigma, nullptr);
    ASSERT_EQ(t.q->rows(), 4);
    for (int u = 0; u < 4; ++u)
      for (int a = 0; a < 5; ++a) EXPECT_EQ((*t.q)(u, a), kKuaiRecQ[u][a]) << u << "," << a;
  }
  Experiment unclipped = parse_world("[world]\ntype = \"kuairec\"\ndata_dir = \"" +
                                     fixture("kuairec") + "\"\nclip = 0");
  EXPECT_EQ((*make_world(unclipped)->tables().q)(2, 2), 12.0);
}

TEST(KuaiRecWorld, MultiplicativeNoiseAroundTheRow) {
  Experiment ex =
      parse_world("[world]\ntype = \"kuairec\"\ndata_dir = \"" + fixture("kuairec") + "\"");
  auto w = make_world(ex);
  Request req;
  double s = 0, s2 = 0;
  const int n = 20000;
  int seen = 0;
  for (int i = 0; i < n; ++i) {
    w->next(req, 2);
    if (req.user != 0) continue;  // row 0, video 5: q = 6
    ++seen;
    ASSERT_EQ(req.mean[3], 6.0);
    const double r = w->reward(req, 3, 1);
    s += r;
    s2 += r * r;
  }
  const double m = s / seen, v = s2 / seen - m * m;
  const double var = 36 * 0.09;  // q² · 0.3²
  EXPECT_NEAR(m, 6.0, 5 * std::sqrt(var / seen));
  EXPECT_NEAR(v, var, 5 * var * std::sqrt(2.0 / seen));
}

// ---- multi-label bandit world
// ----------------------------------------------------------------------

// Index of the product whose feature row equals row `a` of the request.
int product_of(const MultilabelData& d, const Request& req, int a) {
  for (std::int64_t p = 0; p < d.features.rows; ++p) {
    bool same = true;
    for (std::int64_t j = 0; j < d.features.cols && same; ++j)
      same = static_cast<double>(d.features(p, j)) == req.features(a, j);
    if (same) return static_cast<int>(p);
  }
  return -1;
}

bool has(const MultilabelData& d, int p, int c) {
  const auto l = d.categories.labels[p];
  return std::find(l.begin(), l.end(), c) != l.end();
}

bool overlap(const MultilabelData& d, int p, int q) {
  for (int c : d.categories.labels[p])
    if (has(d, q, c)) return true;
  return false;
}

// Checks every round of `w` against the rule, identifying products by their feature rows (they are
// distinct in the data used here). Returns the target category (target_category) or -1.
int check_rule(World& w, const MultilabelData& d, const std::string& rule, int rounds,
               bool use_sample_request = false) {
  std::set<int> targets;
  for (int c = 0; c < static_cast<int>(d.categories.original.size()); ++c) targets.insert(c);
  Request req;
  Rng rng(99);
  for (int t = 0; t < rounds; ++t) {
    if (use_sample_request)
      EXPECT_TRUE(w.sample_request(req, 1, rng));
    else
      w.next(req, 1);
    const int k = w.num_items();
    EXPECT_EQ(req.features.rows(), k);
    EXPECT_EQ(req.features.cols(), d.features.cols);
    std::vector<int> products;
    for (int a = 0; a < k; ++a) {
      const int p = product_of(d, req, a);
      EXPECT_GE(p, 0);
      if (p < 0) return -2;
      products.push_back(p);
      EXPECT_EQ(w.reward(req, a, 0), req.mean[a]);  // deterministic
      EXPECT_TRUE(req.mean[a] == 0.0 || req.mean[a] == 1.0);
      if (rule == "category_arms") {
        EXPECT_EQ(req.mean[a], has(d, p, a) ? 1.0 : 0.0);
      } else if (rule == "target_category") {
        for (auto it = targets.begin(); it != targets.end();)
          it = (has(d, p, *it) == (req.mean[a] == 1.0)) ? std::next(it) : targets.erase(it);
      }
    }
    if (rule != "category_arms") {  // distinct products
      std::set<int> distinct(products.begin(), products.end());
      EXPECT_EQ(distinct.size(), products.size());
    }
    if (rule == "query_overlap") {  // some query product explains every arm's reward
      bool found = false;
      for (int q = 0; q < d.features.rows && !found; ++q) {
        bool all = true;
        for (int a = 0; a < k && all; ++a) all = overlap(d, products[a], q) == (req.mean[a] == 1.0);
        found = all;
      }
      EXPECT_TRUE(found) << "round " << t;
    }
  }
  if (rule != "target_category") return -1;
  EXPECT_EQ(targets.size(), 1u);
  return targets.empty() ? -2 : *targets.begin();
}

TEST(MultilabelWorld, FixtureFilesGiveTheKeptLabelsAndRules) {
  // Fixture: 8 products, labels 0..9; frequencies 3:6, then 0, 1, 7: 2 each (ties: lower id
  // first). first_rank = 1, categories = 3 keeps 3, 0, 1 -> new ids 0, 1, 2.
  const std::string base = "[world]\ntype = \"multilabel_bandit\"\nfeatures = \"" +
                           fixture("amazoncat/embeddings_f4.npy") +
                           "\"\nfirst_rank = 1\n"
                           "categories = 3\nfeature_dims = 2\n";
  for (const std::string labels : {"amazoncat/train.txt", "amazoncat/labels_csr.npz"}) {
    SCOPED_TRACE(labels);
    MultilabelFiles files{fixture("amazoncat/embeddings_f4.npy"), "", 2, fixture(labels)};
    const MultilabelData d = PrepareMultilabel(ReadMultilabelFiles(files), {1, 3});
    EXPECT_EQ(d.categories.original, (std::vector<std::int32_t>{3, 0, 1}));
    const std::vector<std::vector<int>> kept = {{0, 1}, {0}, {}, {1, 2}, {0}, {0}, {0}, {0, 2}};
    for (int p = 0; p < 8; ++p) {
      const auto l = d.categories.labels[p];
      EXPECT_EQ(std::vector<int>(l.begin(), l.end()), kept[p]) << p;
    }
    EXPECT_EQ(d.stats.positives, 10);
    EXPECT_DOUBLE_EQ(d.stats.positive_rate, 10.0 / 24.0);
    EXPECT_DOUBLE_EQ(d.stats.no_label_share, 1.0 / 8.0);
    EXPECT_EQ(d.features.cols, 2);
    EXPECT_EQ(d.features(3, 1), 0.625f);

    for (const std::string rule : {"target_category", "category_arms", "query_overlap"}) {
      SCOPED_TRACE(rule);
      Experiment ex = parse_world(base + "labels = \"" + fixture(labels) + "\"\nitems = 3\n" +
                                  "reward = \"" + rule + "\"");
      EXPECT_EQ(ex.configs[0].world.dim, 2);
      auto w = make_world(ex);
      check_rule(*w, d, rule, 60);
    }
  }
  // The same features from an .npz member (float64, converted) and from HDF5.
  const fs::path dir = test::scratch_dir("ml_features");
  data::write_hdf5_matrix<float>(dir / "f.h5", "features",
                               data::read_npy_matrix<float>(fixture("amazoncat/embeddings_f4.npy")));
  const RawMultilabel want = ReadMultilabelFiles(
      {fixture("amazoncat/embeddings_f4.npy"), "", 2, fixture("amazoncat/train.txt")});
  for (const MultilabelFiles& f :
       {MultilabelFiles{fixture("amazoncat/arrays_deflated.npz"), "embeddings", 2,
                        fixture("amazoncat/train.txt")},
        MultilabelFiles{(dir / "f.h5").string(), "", 2, fixture("amazoncat/train.txt")}}) {
    SCOPED_TRACE(f.features);
    const RawMultilabel got = ReadMultilabelFiles(f);
    EXPECT_EQ(got.features.cols, 2);
    EXPECT_EQ(got.features.values, want.features.values);
    EXPECT_EQ(got.labels.ids, want.labels.ids);
  }
  Experiment b =
      parse_world("[world]\ntype = \"multilabel_bandit\"\nfeatures = \"" + (dir / "f.h5").string() +
                  "\"\nfirst_rank = 1\ncategories = 3\n"
                  "feature_dims = 2\nlabels = \"" +
                  fixture("amazoncat/train.txt") + "\"\nitems = 3");
  EXPECT_EQ(b.configs[0].world.dim, 2);
  fs::remove_all(dir);
}

SyntheticMultilabelOptions small_synthetic(std::int64_t products) {
  SyntheticMultilabelOptions o;
  o.products = products;
  o.dim = 24;
  return o;
}

TEST(MultilabelWorld, SyntheticStatisticsAreThePapers) {
  SyntheticMultilabelOptions o = small_synthetic(20000);
  const MultilabelData d = PrepareMultilabel(generate_synthetic_multilabel(o), {3, 100});
  EXPECT_EQ(d.stats.categories, 100);
  EXPECT_NEAR(d.stats.positive_rate, 0.1073, 0.005);
  EXPECT_NEAR(d.stats.top_share, 0.1922, 0.01);
  EXPECT_NEAR(d.stats.bottom_share, 0.1985, 0.01);
  EXPECT_LT(d.stats.no_label_share, 0.05);
  EXPECT_GT(d.stats.no_label_share, 0.01);
  // A fixed data set: the same seed gives the same data, another seed other data.
  const RawMultilabel a = generate_synthetic_multilabel(small_synthetic(500));
  const RawMultilabel b = generate_synthetic_multilabel(small_synthetic(500));
  EXPECT_EQ(a.features.values, b.features.values);
  EXPECT_EQ(a.labels.ids, b.labels.ids);
  SyntheticMultilabelOptions o2 = small_synthetic(500);
  o2.seed = 2;
  EXPECT_NE(generate_synthetic_multilabel(o2).labels.ids, a.labels.ids);
  EXPECT_FALSE(check_synthetic_multilabel(o).size());
  o.signal = 0.9;
  EXPECT_TRUE(check_synthetic_multilabel(o).size());  // signal + shared > 1
}

TEST(MultilabelWorld, SyntheticLabelsAreLearnableFromTheFeatures) {
  // A least-squares fit of one frequent category on the features beats the base rate clearly.
  const RawMultilabel raw = generate_synthetic_multilabel(small_synthetic(4000));
  const MultilabelData d = PrepareMultilabel(raw, {3, 100});
  Eigen::MatrixXd x(d.features.rows, d.features.cols);
  Eigen::VectorXd y(d.features.rows);
  for (Eigen::Index p = 0; p < x.rows(); ++p) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) x(p, j) = d.features(p, j);
    y[p] = has(d, static_cast<int>(p), 0) ? 1.0 : 0.0;
  }
  const Eigen::VectorXd yc = y.array() - y.mean();
  const Eigen::VectorXd beta = x.colPivHouseholderQr().solve(yc);
  const double r2 = 1.0 - (yc - x * beta).squaredNorm() / yc.squaredNorm();
  EXPECT_GT(r2, 0.2);
}

TEST(MultilabelWorld, SyntheticWorldFollowsTheRewardRules) {
  const std::string base =
      "[world]\ntype = \"multilabel_bandit\"\nsource = \"synthetic\"\nproducts = 300\ndim = 24\n"
      "feature_dims = 12\ndata_seed = 5\n";
  SyntheticMultilabelOptions o = small_synthetic(300);
  o.seed = 5;
  RawMultilabel raw = generate_synthetic_multilabel(o);
  raw.features = LeadingColumns(std::move(raw.features), 12);
  const MultilabelData d = PrepareMultilabel(std::move(raw), {3, 100});
  std::map<int, int> targets;
  for (const std::string rule : {"target_category", "category_arms", "query_overlap"}) {
    SCOPED_TRACE(rule);
    const std::string items = rule == "category_arms" ? "100" : "20";
    Experiment ex = parse_world(base + "reward = \"" + rule + "\"\nitems = " + items);
    for (std::uint64_t rep = 0; rep < 3; ++rep) {
      auto w = make_world(ex, 0, rep);
      const int target = check_rule(*w, d, rule, 40);
      if (rule == "target_category") ++targets[target];
      check_rule(*w, d, rule, 5, /*use_sample_request=*/true);
    }
  }
  EXPECT_GE(targets.size(), 2u);  // a different category per replication (here: 3 of them)
}

TEST(MultilabelWorld, GeneratedDataWrittenToFilesLoadsIdentically) {
  const fs::path dir = test::scratch_dir("ml_files");
  SyntheticMultilabelOptions o = small_synthetic(400);
  const RawMultilabel raw = generate_synthetic_multilabel(o);
  WriteMultilabelFiles(raw, (dir / "features.npy").string(), (dir / "labels.npz").string());
  WriteMultilabelFiles(raw, (dir / "features.h5").string(), (dir / "labels.txt").string());
  const MultilabelData want = PrepareMultilabel(raw, {3, 100});
  for (const auto& [f, l] : std::vector<std::pair<std::string, std::string>>{
           {"features.npy", "labels.npz"}, {"features.h5", "labels.txt"}}) {
    SCOPED_TRACE(f + " + " + l);
    const MultilabelData got = PrepareMultilabel(
        ReadMultilabelFiles({(dir / f).string(), "", 0, (dir / l).string()}), {3, 100});
    EXPECT_EQ(got.features.values, want.features.values);
    EXPECT_EQ(got.categories.labels.ids, want.categories.labels.ids);
    EXPECT_EQ(got.categories.labels.offsets, want.categories.labels.offsets);
    EXPECT_EQ(got.categories.original, want.categories.original);
  }
  // The file-based world serves exactly what the synthetic one serves.
  Experiment syn = parse_world(
      "[world]\ntype = \"multilabel_bandit\"\nsource = \"synthetic\"\nproducts = 400\ndim = 24\n"
      "items = 10");
  Experiment fil = parse_world(
      "[world]\ntype = \"multilabel_bandit\"\nfeatures = \"features.npy\"\nlabels = "
      "\"labels.npz\"\nitems = 10",
      dir.string());
  // Streams follow the world configuration, which differs; compare served data, not draws.
  Request r;
  make_world(fil)->next(r, 1);
  for (int a = 0; a < 10; ++a) EXPECT_GE(product_of(want, r, a), 0);
  EXPECT_EQ(syn.configs[0].world.dim, fil.configs[0].world.dim);
  // SciPy reads our CSR archive (when Debian's python3-scipy is installed).
  const auto py = run_command(
      "/usr/bin/python3 -c \"import scipy.sparse as s, numpy as n; "
      "m = s.load_npz('" +
      (dir / "labels.npz").string() +
      "'); "
      "f = n.load('" +
      (dir / "features.npy").string() +
      "'); "
      "print(m.shape[0], m.shape[1], m.nnz, f.shape[0], f.shape[1])\"");
  if (py.exit_code == 0) {
    EXPECT_EQ(py.output, std::to_string(raw.labels.size()) + " " + std::to_string(o.labels) + " " +
                             std::to_string(raw.labels.ids.size()) + " 400 24\n");
  }
  fs::remove_all(dir);
}

TEST(MultilabelWorld, StatisticsArePrintedOncePerProcess) {
  ::testing::internal::CaptureStderr();
  Registry reg = builtin_registry();
  LoadOptions lo;
  parse_experiment(
      "[world]\ntype = \"multilabel_bandit\"\nsource = \"synthetic\"\nproducts = 200\ndim = 8\n"
      "items = 5\n[stages.p]\ntype = \"random\"\n[grid]\n\"world.items\" = [5, 6, 7]",
      "t.toml", lo, reg);
  const std::string err = ::testing::internal::GetCapturedStderr();
  std::size_t count = 0;
  for (std::size_t at = err.find("positive rate"); at != std::string::npos;
       at = err.find("positive rate", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << err;
  EXPECT_NE(err.find("paper 10.73"), std::string::npos);
}

TEST(MultilabelWorld, ConfigurationErrors) {
  const std::string syn =
      "[world]\ntype = \"multilabel_bandit\"\nsource = \"synthetic\"\n"
      "products = 100\ndim = 8\n";
  EXPECT_THROW(parse_world(syn + "labels = \"x.txt\""), ConfigError);  // files key
  EXPECT_THROW(parse_world("[world]\ntype = \"multilabel_bandit\"\nsignal = 0.5"), ConfigError);
  EXPECT_THROW(parse_world("[world]\ntype = \"multilabel_bandit\""), ConfigError);  // no files
  EXPECT_THROW(parse_world(syn + "reward = \"category_arms\"\nitems = 10"), ConfigError);
  EXPECT_THROW(parse_world(syn + "items = 101"), ConfigError);  // more arms than products
  EXPECT_THROW(parse_world(syn + "feature_dims = 9"), ConfigError);
  // category_arms needs as many kept categories as arms: the fixture keeps 7 from rank 3.
  EXPECT_THROW(
      parse_world("[world]\ntype = \"multilabel_bandit\"\nfeatures = \"" +
                  fixture("amazoncat/embeddings_f4.npy") + "\"\nlabels = \"" +
                  fixture("amazoncat/train.txt") + "\"\nreward = \"category_arms\"\nitems = 100"),
      ConfigError);
  // Stages that need features are fine here, unlike on the featureless tabular worlds.
  EXPECT_NO_THROW(parse_experiment(syn + "items = 5\n[stages.p]\ntype = \"linucb\"\n", "t.toml", {},
                                   builtin_registry()));
}

// ---- export-world and the CLI
// ----------------------------------------------------------------------

TEST(ExportWorld, KuaiRecToTabularRoundTripThroughTheCli) {
  const fs::path dir = test::scratch_dir("export");
  const std::string bin = test::stagesim_binary();
  test::write_file(dir / "kuairec.toml",
                   "[world]\ntype = \"kuairec\"\ndata_dir = \"kuairec_nested\"\n"
                   "[stages.p]\ntype = \"random\"\n");
  auto r = run_command(bin + " export-world " + sh(dir / "kuairec.toml") + " --data-dir " +
                       sh(fixture("")) + " --out " + sh(dir / "out/kuairec.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 users x 5 items"), std::string::npos) << r.output;
  test::write_file(dir / "tabular.toml",
                   "[world]\ntype = \"tabular\"\npath = \"out/kuairec.h5\"\nnoise = "
                   "\"multiplicative\"\nnoise_std = 0.3\n[stages.p]\ntype = \"random\"\n");
  r = run_command(bin + " export-world " + sh(dir / "tabular.toml") + " --data-dir " + sh(dir) +
                  " --out " + sh(dir / "again.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto a = data::read_hdf5_matrix<double>(dir / "out/kuairec.h5", "q");
  const auto b = data::read_hdf5_matrix<double>(dir / "again.h5", "q");
  EXPECT_EQ(a.values, b.values);
  ASSERT_EQ(a.rows, 4);
  for (int u = 0; u < 4; ++u)
    for (int i = 0; i < 5; ++i) EXPECT_EQ(a(u, i), kKuaiRecQ[u][i]);
  EXPECT_FALSE(data::hdf5_has_dataset(dir / "again.h5", "sigma"));
  EXPECT_EQ(read_string_attribute((dir / "again.h5").string(), "world_type"), "tabular");
  EXPECT_FALSE(fs::exists(dir / "again.h5.tmp"));

  // q and σ survive a tabular → export → tabular trip bit for bit.
  data::DenseMatrix<double> q(5, 7), s(5, 7);
  for (int u = 0; u < 5; ++u)
    for (int i = 0; i < 7; ++i) {
      q(u, i) = std::sin(u * 7.0 + i) / 3.0;
      s(u, i) = 0.1 + 0.01 * (u + i);
    }
  data::write_hdf5_matrix<double>(dir / "qs.h5", "q", q);
  data::write_hdf5_matrix<double>(dir / "qs.h5", "sigma", s);
  test::write_file(dir / "qs.toml",
                   "[experiment]\nreplications = 3\n[world]\ntype = "
                   "\"tabular\"\npath = \"qs.h5\"\n[stages.p]\ntype = \"random\"\n");
  r = run_command(bin + " export-world " + sh(dir / "qs.toml") + " --data-dir " + sh(dir) +
                  " --out " + sh(dir / "qs_out.h5") + " --replication 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(data::read_hdf5_matrix<double>(dir / "qs_out.h5", "q").values, q.values);
  EXPECT_EQ(data::read_hdf5_matrix<double>(dir / "qs_out.h5", "sigma").values, s.values);
  Experiment e1 = parse_world("[world]\ntype = \"tabular\"\npath = \"qs.h5\"", dir.string());
  Experiment e2 = parse_world("[world]\ntype = \"tabular\"\npath = \"qs_out.h5\"", dir.string());
  auto w1 = make_world(e1), w2 = make_world(e2);
  EXPECT_EQ(*w1->tables().sigma, *w2->tables().sigma);

  // Worlds without a table, and out-of-range tasks, are one-line errors.
  test::write_file(dir / "linear.toml",
                   "[world]\ntype = \"linear\"\n[stages.p]\ntype = "
                   "\"random\"\n");
  r = run_command(bin + " export-world " + sh(dir / "linear.toml") + " --out " + sh(dir / "x.h5"));
  expect_one_line_error(r, 2, "linear.toml");
  EXPECT_NE(r.output.find("no fixed"), std::string::npos);
  r = run_command(bin + " export-world " + sh(dir / "qs.toml") + " --data-dir " + sh(dir) +
                  " --out " + sh(dir / "x.h5") + " --task 1");
  expect_one_line_error(r, 2, "qs.toml");
  r = run_command(bin + " export-world " + sh(dir / "qs.toml") + " --data-dir " + sh(dir));
  EXPECT_EQ(r.exit_code, 2);
  fs::remove_all(dir);
}

TEST(DatasetErrors, MalformedDataGivesOneLineNamingTheFile) {
  const fs::path dir = test::scratch_dir("malformed");
  const std::string bin = test::stagesim_binary();
  auto run_world = [&](const std::string& name, const std::string& world) {
    test::write_file(dir / (name + ".toml"),
                     "[world]\n" + world + "\n[stages.p]\ntype = \"random\"\n");
    return run_command(bin + " check " + sh(dir / (name + ".toml")));
  };
  const std::string mal = fixture("malformed/");
  expect_one_line_error(run_world("npy", "type = \"tabular\"\npath = \"" + mal + "truncated.npy\""),
                        3, "truncated.npy");
  expect_one_line_error(
      run_world("missing", "type = \"tabular\"\npath = \"" + (dir / "nope.h5").string() + "\""), 3,
      "nope.h5");
  expect_one_line_error(
      run_world("big_endian", "type = \"tabular\"\npath = \"" + mal + "big_endian.npy\""), 3,
      "big_endian.npy");
  // A KuaiRec directory whose small_matrix.csv has a bad number: file and line.
  fs::create_directories(dir / "kuairec");
  fs::copy_file(mal + "small_matrix_bad_number.csv", dir / "kuairec/small_matrix.csv");
  auto r =
      run_world("kuairec", "type = \"kuairec\"\ndata_dir = \"" + (dir / "kuairec").string() + "\"");
  expect_one_line_error(r, 3, "small_matrix.csv:");
  for (const std::string f : {"amazoncat_truncated_line.txt", "amazoncat_label_out_of_range.txt",
                              "csr_bad_index.npz", "not_a_zip.npz"}) {
    SCOPED_TRACE(f);
    expect_one_line_error(run_world("ml", "type = \"multilabel_bandit\"\nfeatures = \"" +
                                              fixture("amazoncat/embeddings_f4.npy") +
                                              "\"\nlabels = \"" + mal + f + "\"\nitems = 2"),
                          3, f);
  }
  // Row counts that disagree between the feature and label files.
  data::write_npy<float>(dir / "five.npy", data::DenseMatrix<float>(5, 3, 0.5f));
  r = run_world("rows", "type = \"multilabel_bandit\"\nfeatures = \"" +
                            (dir / "five.npy").string() + "\"\nlabels = \"" +
                            fixture("amazoncat/train.txt") + "\"\nitems = 2");
  expect_one_line_error(r, 3, "train.txt");
  EXPECT_NE(r.output.find("five.npy"), std::string::npos);
  // Content that contradicts the configuration: exit code 2, naming the file.
  data::DenseMatrix<double> q(2, 2, 3.0);
  data::write_hdf5_matrix<double>(dir / "q3.h5", "q", q);
  expect_one_line_error(
      run_world("bern", "type = \"tabular\"\npath = \"" + (dir / "q3.h5").string() +
                            "\"\nnoise = \"bernoulli\""),
      2, "q3.h5");
  fs::remove_all(dir);
}

// ---- the Fig. 4 pipeline on synthetic data, end to end
// ----------------------------------------------

TEST(Fig4Synthetic, RunsEndToEndThroughTheCli) {
  const fs::path dir = test::scratch_dir("fig4");
  const std::string out = (dir / "fig4.h5").string();
  const std::string file = test::source_dir() + "/experiments/two_stage/fig4_synthetic.toml";
  // The experiment as shipped, scaled down further so the test takes a few seconds.
  auto r = run_command(test::stagesim_binary() + " run " + sh(file) + " --out " + sh(out) +
                       " --threads 2 --quiet --set experiment.replications=2"
                       " --set experiment.horizon=300 --set experiment.checkpoints=3"
                       " --set 'world.items=[100]' --set 'stages.nominators.replicas=[2, 5]'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("positive rate"), std::string::npos) << r.output;
  const auto variants = read_string_dataset(out, "tasks/variant");
  ASSERT_EQ(variants.size(), 2u * 4u * 6u);
  const Dataset regret = read_dataset(out, "metrics/regret");
  const Dataset random = read_dataset(out, "metrics/random_regret");
  const Dataset rn = read_dataset(out, "metrics/regret_nominators");
  const Dataset rr = read_dataset(out, "metrics/regret_ranker");
  ASSERT_EQ(regret.shape.size(), 3u);
  const std::size_t reps = regret.shape[1], cps = regret.shape[2];
  const Dataset s = read_dataset(out, "tasks/grid/stages.nominators.features");
  // Regret / random regret: below 1 (the systems learn), and worse with misspecification
  // (d/s = 10, s = 4) than without (s = d = 40), as in the paper.
  std::map<double, std::pair<double, int>> by_s;
  double ratio_two_stage = 0;
  int n_two_stage = 0;
  for (std::size_t t = 0; t < variants.size(); ++t)
    for (std::size_t rep = 0; rep < reps; ++rep) {
      const std::size_t i = (t * reps + rep) * cps + cps - 1;
      EXPECT_GE(regret.values[i], 0);
      EXPECT_GT(random.values[i], 0);
      const double ratio = regret.values[i] / random.values[i];
      by_s[s.values[t]].first += ratio;
      ++by_s[s.values[t]].second;
      if (variants[t].find('+') != std::string::npos) {  // R = R^N + R^R
        EXPECT_NEAR(rn.values[i] + rr.values[i], regret.values[i], 1e-9 * random.values[i]);
        ratio_two_stage += ratio;
        ++n_two_stage;
      } else {
        EXPECT_TRUE(std::isnan(rn.values[i]));
      }
    }
  EXPECT_LT(ratio_two_stage / n_two_stage, 0.97);
  ASSERT_EQ(by_s.size(), 4u);
  EXPECT_LT(by_s[40].first / by_s[40].second, by_s[4].first / by_s[4].second);

  // The plot script, when Debian's python3 has h5py and matplotlib.
  if (run_command("/usr/bin/python3 -c 'import h5py, matplotlib'").exit_code == 0) {
    r = run_command("/usr/bin/python3 " + test::source_dir() + "/plots/two_stage_fig4.py " +
                    sh(out) + " -o " + sh(dir / "fig4.png") + " --csv " + sh(dir / "fig4.csv"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(fs::exists(dir / "fig4.png"));
    std::ifstream csv(dir / "fig4.csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_EQ(header, "quantity,K,N,system,d_over_s,mean,se");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stagesim
