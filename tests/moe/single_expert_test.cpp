// With one expert the gating is constant (p = 1), so the MoE objective is the expert's scaled
// negative squared error −(r − r̂)²/(2σ²): same value, same gradient, hence same optimum.
#include <gtest/gtest.h>

#include "moe_test_util.hpp"
#include "environments/generators/labeled_products.hpp"
#include "learners/moe/trainer.hpp"

namespace stagesim::moe {
namespace {

TEST(MoeSingleExpert, ObjectiveAndGradientAreSquaredError) {
  Rng rng(3);
  MoeConfig c;
  c.features = 5;
  c.items = 4;
  c.item_dim = 2;
  c.subsets = {{0, 2, 4}};
  c.sigma = 0.4;
  MoeModel model(c, rng);
  test::Scramble(model, 0.8, rng);
  const test::Batch b = test::RandomBatch(12, 5, 4, rng);

  models::ParameterSet grad = model.params().zeros_like();
  const double obj = model.objective(b.z, b.items, b.rewards, &grad);

  // The squared-error model written out independently.
  const RowMatrixXd& W = model.params()[model.w_index(0)];
  const RowMatrixXd& E = model.params()[model.e_index(0)];
  const double s2 = c.sigma * c.sigma;
  double sse = 0;
  RowMatrixXd gW = RowMatrixXd::Zero(W.rows(), W.cols());
  RowMatrixXd gE = RowMatrixXd::Zero(E.rows(), E.cols());
  for (int i = 0; i < 12; ++i) {
    const Eigen::VectorXd x = select_columns(b.z.row(i), c.subsets[0]).transpose();
    const Eigen::VectorXd v = W * x;
    const int a = b.items[static_cast<std::size_t>(i)];
    const double err = b.rewards[static_cast<std::size_t>(i)] - E.row(a).dot(v);
    sse += err * err;
    gW += (err / s2 / 12) * E.row(a).transpose() * x.transpose();
    gE.row(a) += (err / s2 / 12) * v.transpose();
  }
  EXPECT_NEAR(obj, -sse / 12 / (2 * s2), 1e-12);
  EXPECT_LT((grad[model.w_index(0)] - gW).norm(), 1e-12 * (1 + gW.norm()));
  EXPECT_LT((grad[model.e_index(0)] - gE).norm(), 1e-12 * (1 + gE.norm()));
  EXPECT_EQ(grad[model.g_index()].norm(), 0.0);  // log p ≡ 0 whatever G and h are
  EXPECT_EQ(grad[model.h_index()].norm(), 0.0);

  // The same expert behind a fixed pool holding every item is the same model.
  MoeConfig fixed = c;
  fixed.fixed_pool_of_item = {0, 0, 0, 0};
  MoeModel pooled(fixed, rng);
  pooled.params() = model.params();
  models::ParameterSet grad2 = pooled.params().zeros_like();
  EXPECT_NEAR(pooled.objective(b.z, b.items, b.rewards, &grad2), obj, 1e-12);
  EXPECT_LT((grad2[model.w_index(0)] - grad[model.w_index(0)]).norm(), 1e-12);
  EXPECT_LT((grad2[model.e_index(0)] - grad[model.e_index(0)]).norm(), 1e-12);
  EXPECT_LT((model.scores(b.z) - pooled.scores(b.z)).norm(), 1e-12);
}

TEST(MoeSingleExpert, TrainingReducesSquaredError) {
  // Training the single-expert MoE is least squares: the validation objective (= −MSE/(2σ²))
  // must improve substantially on data a rank-d_e model fits.
  Rng rng(5);
  LabeledProducts data;
  data.items = 3;
  data.features = RowMatrixXf::Zero(2000, 4);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  for (Eigen::Index i = 0; i < data.features.size(); ++i)
    data.features.data()[i] = static_cast<float>(normal(rng));
  Examples ex;
  for (std::int64_t u = 0; u < 2000; ++u)
    for (int a = 0; a < 3; ++a)
      ex.push_back(u, a, (a + 1) * 0.5 * data.features(u, a) - 0.3 * data.features(u, 3));
  data.labels.assign(2000, {});
  const auto [train, val] = split_examples(ex, 0.2, rng);
  MoeConfig c;
  c.features = 4;
  c.items = 3;
  c.item_dim = 3;
  c.subsets = {{0, 1, 2, 3}};
  MoeModel model(c, rng);
  const double before = mean_objective(model, data, val);
  TrainOptions o;
  o.learning_rate = 1e-2;
  o.max_epochs = 15;
  const TrainReport r = train_moe(model, data, train, val, o, rng);
  const double after = mean_objective(model, data, val);
  EXPECT_GT(r.epochs, 0);
  EXPECT_LT(-after * 2 * c.sigma * c.sigma, 0.02 * (-before * 2 * c.sigma * c.sigma))
      << "MSE before " << -before * 2 * 0.09 << " after " << -after * 2 * 0.09;
}

}  // namespace
}  // namespace stagesim::moe
