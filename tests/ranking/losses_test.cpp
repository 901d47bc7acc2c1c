// Every FS-LTR loss against central finite differences, on the loss functions themselves and
// through the MF scorer on the shared models module; padding is masked.
#include <gtest/gtest.h>

#include <boost/random/normal_distribution.hpp>
#include <vector>

#include "learners/ranking/losses.hpp"
#include "learners/ranking/ltr_learner.hpp"
#include "learners/ranking/mf_scorer.hpp"
#include "models/gradient_check.hpp"

namespace stagesim::ranking {
namespace {

using Loss = std::function<double(std::span<const double>, std::span<double>)>;

// FD on the scores of one group.
void expect_fd(const std::vector<double>& s0, const Loss& f) {
  RowMatrixXd s = Eigen::Map<const RowMatrixXd>(s0.data(), 1, static_cast<Eigen::Index>(s0.size()));
  std::vector<double> g(s0.size());
  f(std::span<const double>(s.data(), s0.size()), g);
  RowMatrixXd analytic = Eigen::Map<RowMatrixXd>(g.data(), 1, static_cast<Eigen::Index>(g.size()));
  std::vector<double> scratch(s0.size());
  RowMatrixXd* p = &s;
  const auto rep = models::check_gradient(
      std::span<RowMatrixXd* const>(&p, 1), std::span<const RowMatrixXd>(&analytic, 1),
      [&] { return f(std::span<const double>(s.data(), s0.size()), scratch); });
  EXPECT_TRUE(rep.passed()) << rep.summary();
  EXPECT_GT(rep.analytic_abs_sum[0], 1e-3);
}

const std::vector<double> kScores = {0.3, -1.2, 0.8, 0.05, -0.4, 1.7, 0.6};
const std::vector<double> kLabels = {5, 4, 2, 1, 0, 0, 2};
const std::vector<std::uint8_t> kMask = {1, 1, 1, 1, 1, 0, 1};

TEST(RankingLosses, FiniteDifferencesOnScores) {
  expect_fd(kScores, [](auto s, auto g) { return bpr_loss(s, kMask, g); });
  expect_fd(kScores, [](auto s, auto g) { return softmax_loss(s, kMask, g); });
  const std::vector<double> y = {1, 0, 1, 0, 0, 1, 1};
  expect_fd(kScores, [&](auto s, auto g) { return bce_loss(s, y, kMask, g); });
  expect_fd(kScores, [](auto s, auto g) { return ranknet_loss(s, kLabels, kMask, g); });
  // LambdaRank weights are constant between rank changes; the probes (h = 1e-5) change no rank.
  expect_fd(kScores, [](auto s, auto g) { return lambdarank_loss(s, kLabels, kMask, g); });
  const std::vector<std::uint8_t> top = {1, 0, 1, 0, 1, 1, 0};
  expect_fd(kScores, [&](auto s, auto g) { return topk_distillation_loss(s, top, kMask, g); });
  const std::vector<double> t = {0.1, 0.2, -0.3, 0.4, 0.0, 2.0, -1.0};
  expect_fd(kScores, [&](auto s, auto g) { return mse_loss(s, t, kMask, g); });
}

TEST(RankingLosses, HandValues) {
  std::vector<double> g(2);
  const std::vector<double> s = {1.0, 0.0};
  const std::vector<double> l = {1.0, 0.0};
  EXPECT_NEAR(ranknet_loss(s, l, {}, g), std::log1p(std::exp(-1.0)), 1e-14);
  EXPECT_NEAR(bpr_loss(s, {}, g), std::log1p(std::exp(-1.0)), 1e-14);
  EXPECT_NEAR(softmax_loss(s, {}, g), -1.0 + std::log(std::exp(1.0) + 1.0), 1e-14);
  // Correctly ordered pair of gains 1 and 0: swapping changes NDCG by 1 − 1/log2(3).
  EXPECT_NEAR(lambdarank_loss(s, l, {}, g),
              (1.0 - 1.0 / std::log2(3.0)) * std::log1p(std::exp(-1.0)), 1e-14);
  std::int64_t pairs = 0;
  std::vector<double> g7(7);
  ranknet_loss(kScores, kLabels, kMask, g7, &pairs);
  // Valid labels {5, 4, 2, 1, 0, 2}: ordered pairs with L_a > L_b.
  EXPECT_EQ(pairs, 5 + 4 + 2 + 1 + 2);
}

// Padding: appending masked entries (with arbitrary scores and labels) changes neither the loss
// nor the gradient of the real entries, and the padded entries get gradient 0.
TEST(RankingLosses, PaddingIsMasked) {
  const std::vector<double> s = {0.3, -1.2, 0.8, 0.05}, l = {5, 4, 2, 0};
  const std::vector<double> sp = {0.3, -1.2, 0.8, 0.05, 9.0, -9.0}, lp = {5, 4, 2, 0, 0, 7};
  const std::vector<std::uint8_t> mp = {1, 1, 1, 1, 0, 0};
  std::vector<double> g(4), gp(6);
  for (int which = 0; which < 4; ++which) {
    double a = 0, b = 0;
    switch (which) {
      case 0:
        a = ranknet_loss(s, l, {}, g), b = ranknet_loss(sp, lp, mp, gp);
        break;
      case 1:
        a = lambdarank_loss(s, l, {}, g), b = lambdarank_loss(sp, lp, mp, gp);
        break;
      case 2:
        a = bpr_loss(s, {}, g), b = bpr_loss(sp, mp, gp);
        break;
      case 3:
        a = softmax_loss(s, {}, g), b = softmax_loss(sp, mp, gp);
        break;
    }
    EXPECT_DOUBLE_EQ(a, b) << which;
    for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(g[i], gp[i]) << which << " " << i;
    EXPECT_EQ(gp[4], 0.0);
    EXPECT_EQ(gp[5], 0.0);
  }
  // A fake negative (padding left unmasked with label 0) would change the gradient: the test can
  // fail.
  const std::vector<std::uint8_t> unmasked = {1, 1, 1, 1, 1, 1};
  ranknet_loss(sp, std::vector<double>{5, 4, 2, 0, 0, 0}, unmasked, gp);
  ranknet_loss(s, l, {}, g);
  EXPECT_NE(g[0], gp[0]);
}

// Through the MF scorer: the group loss of a batch of groups against FD on the embeddings, by the
// pair path (pair_scores / pair_backward) and by the group path training uses (group_scores /
// group_backward, which adds into zeroed gradients).
TEST(RankingLosses, FiniteDifferencesThroughMfScorer) {
  for (int run = 0; run < 14; ++run) {
    const bool grouped = run >= 7;
    const int variant = run % 7;
    const LtrMethod m = variant == 6 ? LtrMethod::kRankFlow : static_cast<LtrMethod>(variant);
    MfScorer mf({3, 7, 4, 0.5, 0.5});
    Rng rng(11);
    mf.init(rng);
    LtrOptions o;
    o.method = m;
    o.distill_samples = 2;
    if (variant == 6) o.rankflow_alpha = 0.3, o.distill_weight = 0.7;  // with the MSE term
    const std::vector<double> teacher = {0, 0, 0, 0.5, -0.2, 1.0, 0.3, 0, 0, 0, 2.0, -1.0, 0, 0};
    o.sampled_negatives = 2;
    const int self = m == LtrMethod::kRankFlow ? 3 : 7;
    // Two groups of 7 entries, the second with padding.
    const std::vector<int> users = {0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2};
    const std::vector<int> items = {1, 2, 3, 4, 5, 6, 0, 6, 5, 4, 3, 2, 0, 0};
    std::vector<double> labels = {5, 4, 2, 1, 0, 0, 2, 5, 2, 1, 0, 0, 0, 0};
    if (m == LtrMethod::kBce || m == LtrMethod::kBpr || m == LtrMethod::kSsm ||
        m == LtrMethod::kRankFlow)
      labels = {1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0};
    const std::vector<std::uint8_t> mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    const std::vector<std::uint8_t> top = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    const std::vector<int> group_users = {0, 2};
    auto loss = [&](models::ParameterSet* grad) {
      Eigen::VectorXd s, d(14);
      if (grouped)
        mf.group_scores(group_users, items, 7, s);
      else
        mf.pair_scores(users, items, s);
      double total = 0;
      std::vector<double> g(7);
      for (int k = 0; k < 2; ++k) {
        total += group_loss(o, self, std::span<const double>(s.data() + 7 * k, 7),
                            std::span<const double>(labels).subspan(7 * k, 7),
                            Mask(mask).subspan(7 * k, 7),
                            std::span<const std::uint8_t>(top).subspan(7 * k, 7), g,
                            std::span<const double>(teacher).subspan(7 * k, 7));
        for (int e = 0; e < 7; ++e) d[7 * k + e] = g[e];
      }
      if (grad && grouped) {
        *grad = mf.params().zeros_like();
        mf.group_backward(d, *grad);
      } else if (grad) {
        mf.pair_backward(users, items, d, *grad);
      }
      return total;
    };
    const auto rep = models::check_gradient(mf.params(), loss);
    EXPECT_TRUE(rep.passed()) << variant << (grouped ? " grouped" : "") << ": " << rep.summary();
    EXPECT_GT(rep.analytic_abs_sum[0] + rep.analytic_abs_sum[1], 1e-3);
  }
}

}  // namespace
}  // namespace stagesim::ranking
