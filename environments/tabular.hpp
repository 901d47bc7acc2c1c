#pragma once
// Tabular worlds (datasets.md §3): the expected reward of every (user, item) is a fixed dense
// users × items table q, optionally with a table σ of noise standard deviations. Each request draws
// a user uniformly; the oracle is q's row, viewed in place. Shared by the "tabular" world (tables
// from HDF5/.npy files, e.g. exported by `stagesim export-world`) and the "kuairec" world.
#include <memory>
#include <string>

#include "sim/enum_table.hpp"
#include "sim/world.hpp"

namespace stagesim {

struct RewardTable {
  RowMatrix q;                  // users × items expected rewards
  RowMatrix sigma;              // users × items noise standard deviations; empty = none
  RowMatrix score;              // users × items scores late-stage rankers rank by; empty = q
  double q_min = 0, q_max = 0;  // set by finish_reward_table
};

// How realised rewards scatter around q:
//   none            r = q
//   gaussian        r = q + s·z,      s = σ(u, a) when a σ table is loaded, else `std`
//   multiplicative  r = q·(1 + std·z)
//   bernoulli       r = 1{v < q}      (q must lie in [0, 1])
// with z ~ N(0, 1) and v ~ U(0, 1) drawn per slate position from the world's "noise" stream (the
// same draws for every system: common random numbers).
enum class TableNoise { none, gaussian, multiplicative, bernoulli };

struct TableNoiseSpec {
  TableNoise kind = TableNoise::gaussian;
  double std = 0.1;
};

// The names of the noise models in experiment files ("none", "gaussian", ...).
EnumTable<TableNoise> table_noise_names(bool with_bernoulli = true);

// Validates a freshly loaded table (q finite, σ finite and >= 0 with q's shape) and records q's
// range; returns "" when fine, else what is wrong (one line naming the first offending cell).
// Runs once, in the cached loader.
std::string finish_reward_table(RewardTable& t);

// "" when q fits the noise model, else what is wrong (bernoulli needs every q in [0, 1]). Cheap
// unless it fails: runs for every configuration that uses the table.
std::string check_noise_fit(const RewardTable& t, TableNoise noise);

struct WorldBuild;

// What builds a tabular world over `table` (shared by the tabular, kuairec and embedding worlds).
WorldBuild tabular_world_build(std::shared_ptr<const RewardTable> table, TableNoiseSpec noise,
                               int repeat_user = 1);

class TabularWorld final : public World {
 public:
  // repeat_user: each drawn user makes this many consecutive requests (GRPO rollout groups).
  TabularWorld(std::shared_ptr<const RewardTable> table, TableNoiseSpec noise, const StreamKey& key,
               int repeat_user = 1);

  int num_items() const override { return static_cast<int>(table_->q.cols()); }
  int dim() const override { return 0; }  // no item features: stages learn from ids
  void next(Request& req, int slate) override;
  bool sample_request(Request& req, int slate, Rng& rng) const override {
    draw(req, slate, draw_user(rng), rng);
    return true;
  }
  double reward(const Request& req, int item, int pos) const override;
  Tables tables() const override;

 private:
  int draw_user(Rng& rng) const;
  void draw(Request& req, int slate, int user, Rng& noise) const;

  std::shared_ptr<const RewardTable> table_;
  TableNoiseSpec noise_;
  bool sigma_table_;
  Rng contexts_, noise_rng_;
  int repeat_, left_ = 0, user_ = 0;
};

}  // namespace stagesim
