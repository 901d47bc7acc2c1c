// The strategic-parameter learners on problem A (the worked example with noise) and small
// problems: convergence of PASTO's averaged iterate, the baselines, the simplex helpers,
// reproducibility and common random numbers.
#include <gtest/gtest.h>

#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <memory>

#include "environments/strategic_problem.hpp"
#include "learners/strategic/concave_ucb.hpp"
#include "learners/strategic/fixed_parameter.hpp"
#include "learners/strategic/learner_options.hpp"
#include "learners/strategic/optimum.hpp"
#include "learners/strategic/pasto.hpp"
#include "learners/strategic/rounds.hpp"
#include "learners/strategic/scgd.hpp"
#include "learners/strategic/simplex.hpp"
#include "learners/strategic/ucb.hpp"

namespace stagesim::strategic {
namespace {

// Problem A: the worked example with the soft guardrail (λ = 10) and Gaussian noise 0.5 on both
// metrics. f* = 1 + 1/(4λ) at p_1 = ½ + 1/(4λ); the vertices give 2 − λ = −8 and 0.
Problem problem_a(double noise = 0.5) {
  Problem p = worked_example_problem();
  p.objective.form = ObjectiveForm::soft;
  p.objective.lambda = 10;
  p.noise_std = Eigen::Vector2d::Constant(noise);
  return p;
}

struct Summary {
  double mean = 0, se = 0;
};
Summary summarise(const std::vector<double>& v) {
  Summary s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.se = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
  return s;
}

// Final f(U p̄) of `reps` independent runs.
template <class Make>
std::vector<double> final_values(const Problem& pr, Make make, std::int64_t rounds, int buckets,
                                 int reps, std::uint64_t seed) {
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    std::unique_ptr<Learner> l = make();
    Rng choices(seed + 2 * r), noise(seed + 2 * r + 1);
    RoundsOptions o;
    o.rounds = rounds;
    o.buckets = buckets;
    o.record_at = {rounds};
    out.push_back(run_rounds(pr, *l, o, choices, noise).deployed_value.back());
  }
  return out;
}

double best_deterministic(const Problem& pr) {
  return pr.objective.value(pr.mean.col(best_single_parameter(pr.mean, pr.objective)));
}

class ProblemA : public ::testing::TestWithParam<std::vector<double>> {};

TEST_P(ProblemA, PastoAveragedIterateNearOptimumAndAboveEveryDeterministicChoice) {
  const Problem pr = problem_a(0.5);
  const double f_star = 1.0 + 0.25 / pr.objective.lambda;
  ASSERT_NEAR(solve_mixture(pr.mean, pr.objective).value, f_star, 1e-10);
  const Eigen::VectorXd initial = Eigen::Map<const Eigen::VectorXd>(GetParam().data(), 2);
  const auto values = final_values(
      pr,
      [&] {
        return std::make_unique<Pasto>(2, pr.objective, PastoOptions{0.05, 0, 0.1}, initial);
      },
      4000, 1, 40, 100);
  const Summary s = summarise(values);
  EXPECT_NEAR(s.mean, f_star, 0.1);
  // Every deterministic parameter: f(e_1) = −8, f(e_2) = 0.
  const double det = best_deterministic(pr);
  EXPECT_EQ(det, 0.0);
  EXPECT_GT(s.mean - det, 3 * s.se) << "mean " << s.mean << " se " << s.se;
  for (double v : values) EXPECT_GT(v, det);
}

// From the uniform start (already f = 1) and from a start far on the infeasible side (f = −4.4).
INSTANTIATE_TEST_SUITE_P(Starts, ProblemA,
                         ::testing::Values(std::vector<double>{0.5, 0.5},
                                           std::vector<double>{0.9, 0.1}));

TEST(ProblemA, ScgdAndConcaveBanditApproachTheOptimumToo) {
  const Problem pr = problem_a(0.5);
  const double f_star = 1.0 + 0.25 / pr.objective.lambda;
  const Eigen::Vector2d start(0.9, 0.1);
  const Summary scgd = summarise(final_values(
      pr,
      [&] {
        return std::make_unique<Scgd>(2, pr.objective, ScgdOptions{0.5, 1.0, 0.1}, start);
      },
      4000, 1, 20, 300));
  EXPECT_NEAR(scgd.mean, f_star, 0.15);
  const Summary cb = summarise(final_values(
      pr, [&] { return std::make_unique<ConcaveUcb>(2, pr.objective, pr.noise_std); }, 4000, 1, 20,
      500));
  EXPECT_NEAR(cb.mean, f_star, 0.15);
  EXPECT_GT(cb.mean, 3 * cb.se);
}

TEST(DeterministicUcb, FindsTheBestSingleParameter) {
  // Five parameters, soft guardrail; the best single one is clear of the runner-up by > 0.3.
  Problem pr;
  pr.mean.resize(2, 5);
  pr.mean << 1.0, 0.9, 0.6, 0.2, 1.5,  //
      0.0, 0.6, 0.9, 1.0, -0.5;
  pr.metrics = {"x", "y"};
  pr.objective.form = ObjectiveForm::soft;
  pr.objective.thresholds = Eigen::VectorXd::Constant(1, 0.5);
  pr.objective.lambda = 10;
  pr.noise_std = Eigen::Vector2d::Constant(0.5);
  const int best = best_single_parameter(pr.mean, pr.objective);
  ASSERT_EQ(best, 1);  // f = 0.9, 0.6, 0.2, 1.5 − 10 = −8.5, 1 − 2.5
  int found = 0;
  for (int r = 0; r < 10; ++r) {
    Ucb ucb(5, pr.objective, pr.noise_std);
    Rng c(r), n(100 + r);
    RoundsOptions o;
    o.rounds = 1000;
    o.buckets = 10;
    run_rounds(pr, ucb, o, c, n);
    found += ucb.deployed()[best] == 1.0;
    EXPECT_EQ(ucb.deployed().sum(), 1.0);
  }
  EXPECT_GE(found, 9);
}

TEST(DeterministicUcb, SpreadsBucketsOverUnexploredParametersFirst) {
  Objective obj;
  obj.form = ObjectiveForm::primary;
  Ucb ucb(4, obj, Eigen::VectorXd::Ones(1));
  std::vector<int> arms(10);
  Rng rng(1);
  ucb.choose(rng, arms);
  std::vector<int> counts(4, 0);
  for (int a : arms) ++counts[a];
  EXPECT_EQ(counts, (std::vector<int>{3, 3, 2, 2}));
}

TEST(Oracle, IsTheBestSingleParameterAndNeverMoves) {
  const Problem pr = problem_a(0.5);
  LearnerContext c{2, pr.objective, &pr.mean, pr.noise_std};
  LearnerOptions o;
  o.learner = LearnerKind::oracle;
  auto l = make_learner(o, c);
  Rng a(1), b(2);
  RoundsOptions ro;
  ro.rounds = 50;
  ro.record_at = {0, 50};
  const RoundsRecord rec = run_rounds(pr, *l, ro, a, b);
  EXPECT_EQ(rec.deployed_value, (std::vector<double>{0.0, 0.0}));
  c.mean = nullptr;
  EXPECT_THROW(make_learner(o, c), std::invalid_argument);
}

TEST(Factory, BuildsEveryKindAndRejectsMisfits) {
  const Problem pr = problem_a();
  LearnerContext c{2, pr.objective, &pr.mean, pr.noise_std};
  for (const std::string& kind : learner_kinds().names()) {
    LearnerOptions o;
    o.learner = *learner_kinds().find(kind);
    EXPECT_NO_THROW(make_learner(o, c)) << kind;
  }
  LearnerOptions o;
  o.initial = {1, 2, 3};
  EXPECT_THROW(make_learner(o, c), std::invalid_argument);
  o.initial = {1, 0};
  EXPECT_THROW(make_learner(o, c), std::invalid_argument);  // PASTO: log 0
  o.learner = LearnerKind::scgd;
  EXPECT_NO_THROW(make_learner(o, c));
  o.learner = LearnerKind::fixed;
  o.parameter = 2;
  EXPECT_THROW(make_learner(o, c), std::invalid_argument);
  EXPECT_FALSE(learner_kinds().find("tasco"));
}

TEST(Rounds, ReproducibleAndCommonNoiseAcrossLearners) {
  Rng draw(3);
  Problem pr = uniform_problem(20, 3, -1, 1, draw);
  pr.objective.thresholds = Eigen::VectorXd::Constant(2, 0.5);
  pr.noise_std = Eigen::Vector3d::Constant(0.3);
  RoundsOptions o;
  o.rounds = 200;
  o.buckets = 10;
  o.record_at = {0, 100, 200};
  auto run = [&](std::uint64_t choice_seed) {
    Pasto p(20, pr.objective, {0.1, 0, 0.1});
    Rng c(choice_seed), n(77);
    return run_rounds(pr, p, o, c, n);
  };
  const RoundsRecord a = run(1), b = run(1), d = run(2);
  EXPECT_EQ(a.deployed_value, b.deployed_value);
  EXPECT_EQ(a.deployed, b.deployed);
  EXPECT_NE(a.deployed, d.deployed);

  // Two learners applying different parameters see the same noise in each (round, bucket).
  struct Spy final : Learner {
    Spy(int k, const Problem& p) : k_(k), pr_(p), v_(Eigen::VectorXd::Zero(p.parameters())) {}
    void choose(Rng&, std::span<int> arms) override {
      for (std::size_t q = 0; q < arms.size(); ++q) arms[q] = (k_ + static_cast<int>(q)) % 20;
    }
    void update(std::span<const int> arms, const Eigen::Ref<const Eigen::MatrixXd>& obs) override {
      for (std::size_t q = 0; q < arms.size(); ++q)
        noise.push_back(obs.col(static_cast<Eigen::Index>(q)) - pr_.mean.col(arms[q]));
    }
    const Eigen::VectorXd& deployed() const override { return v_; }
    const Eigen::VectorXd& current() const override { return v_; }
    std::int64_t rounds() const override { return 0; }
    int k_;
    const Problem& pr_;
    Eigen::VectorXd v_;
    std::vector<Eigen::VectorXd> noise;
  };
  Spy s1(0, pr), s2(7, pr);
  Rng c1(1), n1(5), c2(2), n2(5);
  o.record_at.clear();
  run_rounds(pr, s1, o, c1, n1);
  run_rounds(pr, s2, o, c2, n2);
  ASSERT_EQ(s1.noise.size(), 2000u);
  for (std::size_t i = 0; i < s1.noise.size(); ++i)
    ASSERT_TRUE(s1.noise[i].isApprox(s2.noise[i], 1e-12)) << i;
}

TEST(Simplex, ProjectionIsTheClosestPointOfTheSimplex) {
  Rng rng(8);
  boost::random::uniform_real_distribution<double> u(-2, 2);
  for (int trial = 0; trial < 200; ++trial) {
    Eigen::VectorXd v(6);
    for (int i = 0; i < 6; ++i) v[i] = u(rng);
    Eigen::VectorXd p = v;
    project_onto_simplex(p);
    ASSERT_NEAR(p.sum(), 1.0, 1e-12);
    ASSERT_GE(p.minCoeff(), 0.0);
    // Optimality of a Euclidean projection onto a convex set: (v − p)ᵀ(q − p) <= 0 for every
    // point q of the set; checking the vertices suffices.
    for (int k = 0; k < 6; ++k) EXPECT_LE((v - p).dot(Eigen::VectorXd::Unit(6, k) - p), 1e-12);
  }
  Eigen::VectorXd inside(3);
  inside << 0.2, 0.3, 0.5;
  Eigen::VectorXd same = inside;
  project_onto_simplex(same);
  EXPECT_TRUE(same.isApprox(inside, 1e-15));
}

TEST(Simplex, SamplerFrequenciesMatchTheDistribution) {
  Eigen::VectorXd p(4);
  p << 0.1, 0.0, 0.6, 0.3;
  IndexSampler s;
  s.set(p);
  Rng rng(4);
  std::vector<int> counts(4, 0);
  const int n = 100000;
  for (int i = 0; i < n; ++i) ++counts[s.draw(rng)];
  EXPECT_EQ(counts[1], 0);
  for (int k : {0, 2, 3}) {
    const double se = std::sqrt(p[k] * (1 - p[k]) / n);
    EXPECT_NEAR(counts[k] / double(n), p[k], 4 * se) << k;
  }
}

}  // namespace
}  // namespace stagesim::strategic
