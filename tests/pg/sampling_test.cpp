#include <gtest/gtest.h>

#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "learners/pg/pl_mixture.hpp"
#include "pg_test_util.hpp"

namespace stagesim::pg {
namespace {

TEST(SlotBlocks, FirstRemainderBlocksGetOneMore) {
  EXPECT_EQ(slot_block_sizes(10, 3), (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(slot_block_sizes(10, 1), (std::vector<int>{10}));
  EXPECT_EQ(slot_block_sizes(2, 3), (std::vector<int>{1, 1, 0}));
  const std::vector<int> blocks{2, 1};
  EXPECT_EQ(slot_models(blocks), (std::vector<int>{0, 0, 1}));
}

// Six items, K = 3: all 120 ordered lists. The sample counts are compared with the exact
// sequential-PL probabilities by Pearson's chi-square (df = 119, every expected count >= 60) at
// α = 1e-3: a correct sampler fails for a random seed with probability 1e-3, and with the fixed
// seed the result is deterministic. The same counts are also tested against a wrong law (every
// slot using model 0), which must be rejected: the test has power against a block-order bug.
struct ChiSquareCase {
  SamplerKind kind;
  std::vector<int> blocks;
};

class ListDistribution : public ::testing::TestWithParam<ChiSquareCase> {};

double chi_square(const std::map<std::vector<int>, int>& counts,
                  const std::vector<std::vector<double>>& logits, const std::vector<int>& models,
                  int n_samples, int* n_cells) {
  double stat = 0.0;
  *n_cells = 0;
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) {
      for (int c = 0; c < 6; ++c) {
        if (a == b || b == c || a == c) continue;
        const std::vector<int> list{a, b, c};
        const double expected = n_samples * testing::exact_list_probability(logits, models, list);
        const auto it = counts.find(list);
        const double observed = it == counts.end() ? 0.0 : it->second;
        stat += (observed - expected) * (observed - expected) / expected;
        ++*n_cells;
      }
    }
  }
  return stat;
}

TEST_P(ListDistribution, MatchesExactPlackettLuce) {
  const ChiSquareCase& param = GetParam();
  const int n_models = static_cast<int>(param.blocks.size());
  const std::vector<std::vector<double>> logits = {{1.2, 0.4, 0.0, -0.5, 0.9, -1.0},
                                                   {-0.8, 1.0, 0.3, 0.6, -0.2, 0.1},
                                                   {0.0, -0.4, 1.1, -1.0, 0.5, 0.7}};
  std::vector<RowMatrixXd> rows(static_cast<std::size_t>(n_models), RowMatrixXd(1, 6));
  for (int m = 0; m < n_models; ++m) {
    for (int b = 0; b < 6; ++b) rows[m](0, b) = logits[m][b];
  }
  RowSoftmax softmax;
  softmax.compute(rows, 0);
  CandidateSampler sampler(6);
  Rng rng(20240601);
  constexpr int kSamples = 200000;
  std::map<std::vector<int>, int> counts;
  std::vector<int> out(3);
  for (int i = 0; i < kSamples; ++i) {
    sampler.sample(param.kind, softmax, param.blocks, rng, out);
    ++counts[out];
  }
  EXPECT_EQ(counts.size(), 120u);  // every list distinct and valid
  const std::vector<std::vector<double>> used(logits.begin(), logits.begin() + n_models);
  int cells = 0;
  const double stat = chi_square(counts, used, slot_models(param.blocks), kSamples, &cells);
  const boost::math::chi_squared law(cells - 1);
  const double critical = boost::math::quantile(boost::math::complement(law, 1e-3));
  EXPECT_LT(stat, critical);
  if (n_models > 1) {
    const std::vector<int> wrong_models(3, 0);
    EXPECT_GT(chi_square(counts, used, wrong_models, kSamples, &cells), critical);
  }
}

INSTANTIATE_TEST_SUITE_P(Samplers, ListDistribution,
                         ::testing::Values(ChiSquareCase{SamplerKind::kSequential, {3}},
                                           ChiSquareCase{SamplerKind::kSequential, {2, 1}},
                                           ChiSquareCase{SamplerKind::kSequential, {1, 1, 1}},
                                           ChiSquareCase{SamplerKind::kGumbelTopK, {3}},
                                           ChiSquareCase{SamplerKind::kGumbelTopK, {2, 1}},
                                           ChiSquareCase{SamplerKind::kGumbelTopK, {1, 1, 1}},
                                           // The float32 noise (counter-based uniforms, log_float)
                                           // truncates Gumbel to [−4.5, 15.9] and quantises U to
                                           // 2^-24: far below this test's resolution at gaps < 3.
                                           ChiSquareCase{SamplerKind::kGumbelTopKFloat32, {3}},
                                           ChiSquareCase{SamplerKind::kGumbelTopKFloat32, {2, 1}},
                                           ChiSquareCase{SamplerKind::kGumbelTopKFloat32,
                                                         {1, 1, 1}}),
                         // Readable names: sampler and slot blocks, e.g. Sequential_2_1.
                         [](const ::testing::TestParamInfo<ChiSquareCase>& info) {
                           std::string name =
                               info.param.kind == SamplerKind::kSequential   ? "Sequential"
                               : info.param.kind == SamplerKind::kGumbelTopK ? "GumbelTopK"
                                                                             : "GumbelTopKFloat32";
                           for (int b : info.param.blocks) name += "_" + std::to_string(b);
                           return name;
                         });

// Logit gaps beyond double range relative to the row maximum: the sequential sampler refills its
// tree relative to the remaining maximum. Items 1 and 2 sit 1000 nats below item 0 with odds 3:1.
TEST(CandidateSampler, SequentialHandlesHugeGaps) {
  std::vector<RowMatrixXd> logits(1, RowMatrixXd::Constant(1, 8, -3000.0));
  logits[0](0, 0) = 0.0;
  logits[0](0, 1) = -1000.0;
  logits[0](0, 2) = -1000.0 - std::log(3.0);
  RowSoftmax softmax;
  softmax.compute(logits, 0);
  CandidateSampler sampler(8);
  Rng rng(9);
  const std::vector<int> blocks{3};
  std::vector<int> out(3);
  int second_is_1 = 0;
  constexpr int kSamples = 20000;
  for (int i = 0; i < kSamples; ++i) {
    sampler.sample(SamplerKind::kSequential, softmax, blocks, rng, out);
    ASSERT_EQ(out[0], 0);
    ASSERT_EQ(std::set<int>(out.begin(), out.end()).size(), 3u);
    second_is_1 += out[1] == 1;
  }
  // Binomial(20000, 0.75): sd = 61; 5 sd.
  EXPECT_NEAR(second_is_1, 0.75 * kSamples, 5 * 61.2);
}

TEST(CandidateSampler, GreedyTakesTopPerBlockWithoutRepeats) {
  std::vector<RowMatrixXd> logits(2, RowMatrixXd(1, 5));
  logits[0] << 5, 4, 3, 2, 1;
  logits[1] << 0, 9, 1, 8, 2;  // its best item 1 is already taken by block 0
  CandidateSampler sampler(5);
  std::vector<int> out(4);
  const std::vector<int> blocks{2, 2};
  sampler.greedy(logits, 0, blocks, out);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 3, 4}));
}

// The float32 reference noise lives in [−4.5, 15.9]: an item 25 nats below the rest is never drawn
// (exact PL would draw it with probability ~1e-11 per slot, never in 10^5 draws either, so we
// check the property directly on the noise range through an item 21 nats down).
TEST(CandidateSampler, Float32GumbelNoiseIsBounded) {
  std::vector<RowMatrixXd> logits(1, RowMatrixXd::Zero(1, 4));
  logits[0](0, 3) = -21.0;
  RowSoftmax softmax;
  softmax.compute(logits, 0);
  CandidateSampler sampler(4);
  Rng rng(1);
  const std::vector<int> blocks{1};
  std::vector<int> out(1);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 100000; ++i) {
    sampler.sample(SamplerKind::kGumbelTopKFloat32, softmax, blocks, rng, out);
    ++counts[out[0]];
  }
  EXPECT_EQ(counts[3], 0);
  for (int b = 0; b < 3; ++b) EXPECT_NEAR(counts[b], 100000 / 3.0, 5 * 149.0);  // binomial sd
}

}  // namespace
}  // namespace stagesim::pg
