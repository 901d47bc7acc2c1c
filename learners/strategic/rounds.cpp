#include "learners/strategic/rounds.hpp"

#include <boost/random/normal_distribution.hpp>
#include <stdexcept>

namespace stagesim::strategic {

RoundsRecord run_rounds(const Problem& problem, Learner& learner, const RoundsOptions& o,
                        Rng& choices, Rng& noise) {
  if (o.buckets < 1) throw std::invalid_argument("run_rounds: at least one bucket per round");
  for (std::size_t i = 0; i < o.record_at.size(); ++i)
    if (o.record_at[i] < 0 || o.record_at[i] > o.rounds ||
        (i && o.record_at[i] < o.record_at[i - 1]))
      throw std::invalid_argument("run_rounds: record_at must ascend within 0..rounds");
  const int m = problem.metric_count();
  RoundsRecord rec;
  std::vector<int> arms(static_cast<std::size_t>(o.buckets));
  Eigen::MatrixXd obs(m, o.buckets), z(m, o.buckets);
  Eigen::VectorXd v(m);
  boost::random::normal_distribution<double> n01;
  std::size_t next = 0;
  auto record = [&]() {
    v.noalias() = problem.mean * learner.deployed();
    rec.deployed_value.push_back(problem.objective.value(v));
    rec.deployed_violation.push_back(problem.objective.violation(v));
    v.noalias() = problem.mean * learner.current();
    rec.current_value.push_back(problem.objective.value(v));
    rec.current_violation.push_back(problem.objective.violation(v));
  };
  for (std::int64_t t = 0;; ++t) {
    while (next < o.record_at.size() && o.record_at[next] == t) {
      record();
      ++next;
      if (o.on_record) o.on_record(t);
    }
    if (t == o.rounds) break;
    learner.choose(choices, arms);
    for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = n01(noise);
    for (int q = 0; q < o.buckets; ++q)
      problem.observe(arms[static_cast<std::size_t>(q)], z.col(q).data(), obs.col(q).data());
    learner.update(arms, obs);
  }
  rec.deployed = learner.deployed();
  rec.current = learner.current();
  return rec;
}

}  // namespace stagesim::strategic
