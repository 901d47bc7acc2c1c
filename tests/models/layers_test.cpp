// Dense layers, MLPs and two-tower scorers: worked forward values and the hand-written backward
// passes against central finite differences, for every activation, with respect to parameters and
// inputs.
#include <gtest/gtest.h>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <string>

#include "models/gradient_check.hpp"
#include "models/mlp.hpp"
#include "models/two_tower.hpp"

namespace stagesim::models {
namespace {

constexpr Activation kAll[] = {Activation::kIdentity, Activation::kRelu, Activation::kTanh,
                               Activation::kSigmoid};

RowMatrixXd normal_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double sd = 1.0) {
  RowMatrixXd m(rows, cols);
  fill_normal(m, sd, rng);
  return m;
}

// A loss that weighs every output entry differently: L = Σ w ⊙ y, so ∂L/∂y = w.
double weighted_sum(const RowMatrixXd& y, const RowMatrixXd& w) {
  return y.cwiseProduct(w).sum();
}

TEST(Activation, NamesRoundTripAndValues) {
  for (Activation a : kAll) EXPECT_EQ(activation_from_name(activation_name(a)), a);
  EXPECT_FALSE(activation_from_name("softplus").has_value());
  RowMatrixXd x(1, 4);
  x << -2.0, 0.0, 0.5, 800.0;
  RowMatrixXd r = x, t = x, s = x;
  apply_activation(Activation::kRelu, r);
  apply_activation(Activation::kTanh, t);
  apply_activation(Activation::kSigmoid, s);
  EXPECT_EQ(r, (RowMatrixXd(1, 4) << 0.0, 0.0, 0.5, 800.0).finished());
  EXPECT_DOUBLE_EQ(t(0, 2), std::tanh(0.5));
  EXPECT_DOUBLE_EQ(s(0, 0), 1.0 / (1.0 + std::exp(2.0)));
  EXPECT_EQ(s(0, 1), 0.5);
  EXPECT_EQ(s(0, 3), 1.0);  // no overflow
  RowMatrixXd big(1, 1);
  big << -800.0;
  apply_activation(Activation::kSigmoid, big);
  EXPECT_GE(big(0, 0), 0.0);
  EXPECT_LT(big(0, 0), 1e-300);
}

TEST(Dense, WorkedExample) {
  ParameterSet p;
  Dense layer(p, "d", {2, 2, Activation::kIdentity, true});
  p[layer.weight_index()] << 1.0, 2.0, 3.0, 4.0;
  p[layer.bias_index()] << 0.5, -1.0;
  RowMatrixXd x(2, 2), y;
  x << 1.0, -1.0, 0.0, 2.0;
  layer.forward(p, x, y);
  EXPECT_EQ(y, (RowMatrixXd(2, 2) << -0.5, -2.0, 4.5, 7.0).finished());
  // dy = ones: dW = dyᵀx = column sums of x per row, db = (2, 2), dx = dy W.
  ParameterSet g = p.zeros_like();
  RowMatrixXd dy = RowMatrixXd::Ones(2, 2), dx;
  layer.backward(p, x, y, dy, g, &dx);
  EXPECT_EQ(g[layer.weight_index()], (RowMatrixXd(2, 2) << 1.0, 1.0, 1.0, 1.0).finished());
  EXPECT_EQ(g[layer.bias_index()], (RowMatrixXd(1, 2) << 2.0, 2.0).finished());
  EXPECT_EQ(dx, (RowMatrixXd(2, 2) << 4.0, 6.0, 4.0, 6.0).finished());
  // accumulate adds a second batch's gradient.
  RowMatrixXd dy2 = RowMatrixXd::Ones(2, 2);
  layer.backward(p, x, y, dy2, g, nullptr, /*accumulate=*/true);
  EXPECT_EQ(g[layer.bias_index()], (RowMatrixXd(1, 2) << 4.0, 4.0).finished());
  EXPECT_THROW(Dense(p, "bad", {0, 2}), std::invalid_argument);
}

// FD check of a Dense layer's W, b and input gradients.
void check_dense(Activation a, bool bias) {
  Rng rng(11);
  ParameterSet p;
  Dense layer(p, "d", {4, 3, a, bias});
  layer.init(p, rng, 0.8);
  if (bias) fill_normal(p[layer.bias_index()], 0.5, rng);
  const std::size_t xi = p.add("x", normal_matrix(5, 4, rng));  // the input, probed like a weight
  const RowMatrixXd w = normal_matrix(5, 3, rng);
  const auto r = check_gradient(p, [&](ParameterSet* g) {
    RowMatrixXd y;
    layer.forward(p, p[xi], y);
    if (g != nullptr) {
      RowMatrixXd dy = w;
      layer.backward(p, p[xi], y, dy, *g, &(*g)[xi]);
    }
    return weighted_sum(y, w);
  });
  EXPECT_TRUE(r.passed()) << activation_name(a) << " bias " << bias << ": " << r.summary();
  for (std::size_t t = 0; t < r.analytic_abs_sum.size(); ++t)
    EXPECT_GT(r.analytic_abs_sum[t], 1e-2) << r.names[t];
}

TEST(Dense, BackwardMatchesFiniteDifferencesForEveryActivation) {
  for (Activation a : kAll)
    for (bool bias : {true, false}) check_dense(a, bias);
}

TEST(Mlp, IdentityWhenEmptyAndBadSpecs) {
  ParameterSet p;
  Mlp id(p, "id", {3, {}, {}});
  Mlp::Cache c;
  RowMatrixXd x = RowMatrixXd::Ones(2, 3);
  EXPECT_EQ(&id.forward(p, x, c), &x);
  EXPECT_EQ(id.outputs(), 3);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_THROW(Mlp(p, "bad", {3, {4}, {}}), std::invalid_argument);
  EXPECT_THROW(Mlp(p, "bad", {3, {4, 0}, {Activation::kRelu, Activation::kRelu}}),
               std::invalid_argument);
}

TEST(Mlp, BackwardMatchesFiniteDifferencesForEveryActivation) {
  // Each activation as the hidden one and as the output one (e.g. a tanh-bounded actor).
  for (Activation hidden : kAll) {
    for (Activation out : kAll) {
      Rng rng(21);
      ParameterSet p;
      Mlp mlp(p, "mlp", {4, {5, 3, 2}, {hidden, hidden, out}});
      mlp.init(p, rng);
      for (const Dense& l : mlp.layers()) fill_normal(p[l.bias_index()], 0.3, rng);
      const std::size_t xi = p.add("x", normal_matrix(6, 4, rng));
      const RowMatrixXd w = normal_matrix(6, 2, rng);
      Mlp::Cache cache;
      const auto r = check_gradient(p, [&](ParameterSet* g) {
        const RowMatrixXd& y = mlp.forward(p, p[xi], cache);
        const double l = weighted_sum(y, w);
        if (g != nullptr) mlp.backward(p, p[xi], cache, w, *g, &(*g)[xi]);
        return l;
      });
      EXPECT_TRUE(r.passed()) << activation_name(hidden) << "/" << activation_name(out) << ": "
                              << r.summary();
      EXPECT_EQ(r.checked, p.scalar_count());
      for (std::size_t t = 0; t < r.analytic_abs_sum.size(); ++t)
        EXPECT_GT(r.analytic_abs_sum[t], 1e-3) << r.names[t];
    }
  }
}

TEST(Mlp, TanhOutputIsBounded) {
  Rng rng(3);
  ParameterSet p;
  Mlp actor(p, "actor", {3, {8, 2}, {Activation::kRelu, Activation::kTanh}});
  actor.init(p, rng);
  Mlp::Cache c;
  const RowMatrixXd x = normal_matrix(50, 3, rng, 10.0);
  const RowMatrixXd& y = actor.forward(p, x, c);
  EXPECT_LE(y.cwiseAbs().maxCoeff(), 1.0);
}

TEST(L2Normalize, UnitRowsAndZeroRow) {
  RowMatrixXd x(2, 2), unit;
  x << 3.0, 4.0, 0.0, 0.0;
  Eigen::VectorXd norms;
  l2_normalize_rows(x, unit, norms);
  EXPECT_DOUBLE_EQ(unit(0, 0), 0.6);
  EXPECT_DOUBLE_EQ(unit(0, 1), 0.8);
  EXPECT_EQ(norms(0), 5.0);
  EXPECT_TRUE(unit.row(1).isZero());
}

struct TowerCase {
  std::string name;
  TowerKind user, item;
  TwoTowerScore score;
  bool normalize;
  double temperature;
};

TowerSpec tower_spec(TowerKind kind, int ids, int features, bool normalize) {
  TowerSpec s;
  s.kind = kind;
  s.ids = ids;
  s.dim = 3;
  s.mlp = {features, {4, 3}, {Activation::kTanh, Activation::kIdentity}};
  s.l2_normalize = normalize;
  return s;
}

class TwoTowerGradient : public ::testing::TestWithParam<TowerCase> {};

// score_matrix and pair_scores, with ids repeated in the batch, against finite differences of all
// parameters of both towers.
TEST_P(TwoTowerGradient, MatchesFiniteDifferences) {
  const TowerCase& c = GetParam();
  Rng rng(31);
  ParameterSet p;
  TwoTowerSpec spec{tower_spec(c.user, 6, 5, c.normalize), tower_spec(c.item, 7, 4, c.normalize),
                    c.score, c.temperature};
  TwoTower model(p, "tt", spec);
  model.init(p, rng);
  for (RowMatrixXd& t : p) fill_normal(t, 0.7, rng);  // biases too
  const std::vector<int> user_ids{0, 3, 3, 5}, item_ids{6, 1, 1, 0};
  const RowMatrixXd user_features = normal_matrix(4, 5, rng);
  const RowMatrixXd item_features = normal_matrix(4, 4, rng);
  const auto input = [&](TowerKind k, const std::vector<int>& ids, const RowMatrixXd& f) {
    return k == TowerKind::kEmbedding ? TowerInput::of_ids(ids) : TowerInput::of_features(f);
  };
  const TowerInput users = input(c.user, user_ids, user_features);
  const TowerInput items = input(c.item, item_ids, item_features);
  TwoTower::Cache cache;
  const RowMatrixXd w = normal_matrix(4, 4, rng);
  const Eigen::VectorXd wp = normal_matrix(4, 1, rng);
  for (bool pairs : {false, true}) {
    const auto r = check_gradient(p, [&](ParameterSet* g) {
      double l;
      if (pairs) {
        Eigen::VectorXd s(4);
        model.pair_scores(p, users, items, cache, s);
        l = s.dot(wp);
        if (g != nullptr) model.pair_scores_backward(p, users, items, cache, wp, *g);
      } else {
        RowMatrixXd s;
        model.score_matrix(p, users, items, cache, s);
        l = weighted_sum(s, w);
        if (g != nullptr) model.score_matrix_backward(p, users, items, cache, w, *g);
      }
      return l;
    });
    EXPECT_TRUE(r.passed()) << c.name << (pairs ? " pairs: " : " matrix: ") << r.summary();
    EXPECT_GT(r.analytic_abs_sum[0], 1e-2) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Towers, TwoTowerGradient,
    ::testing::Values(TowerCase{"EmbeddingDot", TowerKind::kEmbedding, TowerKind::kEmbedding,
                                TwoTowerScore::kDot, false, 1.0},
                      TowerCase{"EmbeddingDotTemperature", TowerKind::kEmbedding,
                                TowerKind::kEmbedding, TwoTowerScore::kDot, false, 0.6},
                      TowerCase{"EmbeddingNormalized", TowerKind::kEmbedding, TowerKind::kEmbedding,
                                TwoTowerScore::kDot, true, 1.0},
                      TowerCase{"EmbeddingCosine", TowerKind::kEmbedding, TowerKind::kEmbedding,
                                TwoTowerScore::kCosine, false, 0.5},
                      TowerCase{"MlpUserEmbeddingItem", TowerKind::kMlp, TowerKind::kEmbedding,
                                TwoTowerScore::kDot, false, 1.3},
                      TowerCase{"MlpBothCosine", TowerKind::kMlp, TowerKind::kMlp,
                                TwoTowerScore::kCosine, false, 1.0},
                      TowerCase{"MlpBothNormalizedTemperature", TowerKind::kMlp, TowerKind::kMlp,
                                TwoTowerScore::kDot, true, 0.7}),
    [](const auto& info) { return info.param.name; });

// Scoring against the whole item table (all_rows) gives the same scores and gradients as listing
// every id, and with an unnormalised table no copy is made.
TEST(TwoTower, AllRowsEqualsEveryId) {
  for (bool normalize : {false, true}) {
    Rng rng(41);
    ParameterSet p;
    TwoTowerSpec spec{tower_spec(TowerKind::kEmbedding, 5, 0, normalize),
                      tower_spec(TowerKind::kEmbedding, 6, 0, normalize), TwoTowerScore::kDot, 0.8};
    TwoTower model(p, "tt", spec);
    model.init(p, rng);
    const std::vector<int> users{4, 0, 4}, all{0, 1, 2, 3, 4, 5};
    TwoTower::Cache c1, c2;
    RowMatrixXd s1, s2;
    model.score_matrix(p, TowerInput::of_ids(users), TowerInput::all(), c1, s1);
    model.score_matrix(p, TowerInput::of_ids(users), TowerInput::of_ids(all), c2, s2);
    EXPECT_LT((s1 - s2).cwiseAbs().maxCoeff(), 1e-15);
    if (!normalize) {
      EXPECT_EQ(c1.v, &p[model.item_tower().embedding()->index()]);
    }
    const RowMatrixXd d = normal_matrix(3, 6, rng);
    ParameterSet g1 = p.zeros_like(), g2 = p.zeros_like();
    model.score_matrix_backward(p, TowerInput::of_ids(users), TowerInput::all(), c1, d, g1);
    model.score_matrix_backward(p, TowerInput::of_ids(users), TowerInput::of_ids(all), c2, d, g2);
    for (std::size_t t = 0; t < g1.size(); ++t)
      EXPECT_LT((g1[t] - g2[t]).cwiseAbs().maxCoeff(), 1e-14) << t;
  }
}

TEST(TwoTower, NormalizedEmbeddingsHaveUnitNormAndBadInputsThrow) {
  Rng rng(5);
  ParameterSet p;
  TowerSpec mf = tower_spec(TowerKind::kEmbedding, 20, 0, true);
  mf.dim = 64;  // matrix-factorisation embeddings as the full-stage LTR pre-ranker uses them
  TwoTower model(p, "mf", {mf, mf, TwoTowerScore::kDot, 1.0});
  model.init(p, rng);
  TwoTower::Cache c;
  const std::vector<int> ids{0, 7, 19};
  model.embed(p, TowerInput::of_ids(ids), TowerInput::all(), c);
  EXPECT_LT((c.u->rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-15);
  EXPECT_LT((c.v->rowwise().norm().array() - 1.0).abs().maxCoeff(), 1e-15);
  RowMatrixXd s;
  model.score_matrix(p, TowerInput::of_ids(ids), TowerInput::all(), c, s);
  EXPECT_LE(s.cwiseAbs().maxCoeff(), 1.0 + 1e-15);  // cosines
  const std::vector<int> bad{20};
  EXPECT_THROW(model.score_matrix(p, TowerInput::of_ids(bad), TowerInput::all(), c, s),
               std::invalid_argument);
  RowMatrixXd f = RowMatrixXd::Ones(1, 3);
  EXPECT_THROW(model.score_matrix(p, TowerInput::of_features(f), TowerInput::all(), c, s),
               std::invalid_argument);
  TowerSpec narrow = mf;
  narrow.dim = 8;
  EXPECT_THROW(TwoTower(p, "bad", {mf, narrow}), std::invalid_argument);
}

}  // namespace
}  // namespace stagesim::models
