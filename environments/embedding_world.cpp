// The synthetic embedding world of the CA-PG paper (early-stage-pg spec §2): unit user and item
// embeddings, f(u, a) = scaler · x_uᵀ M0 e_a, expected reward q = softplus(f) + 1, reward noise
// N(0, σ(u, a)²) with σ = sigmoid(x_uᵀ W_σ e_a + 1). The q, σ and f tables are computed once per
// world seed (by default fixed across replications, as in the paper) and served as a tabular world;
// late-stage rankers rank by f.
#include "environments/generators/embedding_world.hpp"
#include "environments/tabular.hpp"
#include "sim/memory.hpp"
#include "sim/registry.hpp"

namespace stagesim {
namespace {

struct EmbeddingOpts {
  int64_t users = 1000;
  int64_t items = 1000;
  int64_t dim = 10;
  double reward_scaler = 10.0;
  bool items_equal_users = true;
  int64_t world_seed = 0;
  int64_t repeat_user = 1;
};

}  // namespace

WorldEntry embedding_world_entry() {
  OptionGroup<EmbeddingOpts> g;
  g.add("users", &EmbeddingOpts::users, "number of users", between<int64_t>(1, kMaxCount))
      .add("items", &EmbeddingOpts::items, "number of items", between<int64_t>(2, kMaxCount))
      .add("dim", &EmbeddingOpts::dim, "embedding dimension", between<int64_t>(1, kMaxCount))
      .add("reward_scaler", &EmbeddingOpts::reward_scaler, "f = scaler · x_uᵀ M0 e_a",
           greater_than<double>(0))
      .add("items_equal_users", &EmbeddingOpts::items_equal_users,
           "reproduce the reference code's quirk: item embeddings drawn with the user seed and "
           "shape, so e_i = x_i (needs users = items)")
      .add("world_seed", &EmbeddingOpts::world_seed,
           "seed of the embeddings and projections: the world is the same in every replication "
           "(only initialisation, batches and noise vary, as in the paper)",
           at_least<int64_t>(0))
      .add("repeat_user", &EmbeddingOpts::repeat_user,
           "consecutive requests per drawn user (GRPO rollout groups; 1 = independent users)",
           between<int64_t>(1, kMaxCount));
  return make_entry<WorldBuild>(
      "world", "embedding",
      "CA-PG synthetic world: q = softplus(10·x_uᵀ M0 e_a) + 1 over users × items, Gaussian noise",
      g, [](const EmbeddingOpts& o, const ParseContext& ctx) {
        if (o.items_equal_users && o.users != o.items)
          throw KeyError("items_equal_users",
                         "= true needs users = items (got " + std::to_string(o.users) + " and " +
                             std::to_string(o.items) +
                             "); set items_equal_users = false for other shapes");
        auto load = [o] {
          // q, σ and the scores, users × items doubles each (the set-up makes no temporaries).
          const double bytes =
              3.0 * 8.0 * static_cast<double>(o.users) * static_cast<double>(o.items);
          if (const double avail = available_memory_bytes(); bytes > avail)
            throw KeyError("users",
                           "= " + std::to_string(o.users) +
                               " with items = " + std::to_string(o.items) + " needs " +
                               format_bytes(bytes) + " for the world's users × items tables, but " +
                               format_bytes(avail) + " are available; lower users or items");
          pg::EmbeddingWorldOptions w;
          w.n_users = static_cast<int>(o.users);
          w.n_items = static_cast<int>(o.items);
          w.dim = static_cast<int>(o.dim);
          w.reward_scaler = o.reward_scaler;
          w.items_equal_users = o.items_equal_users;
          pg::EmbeddingWorld e =
              pg::make_embedding_world(static_cast<std::uint64_t>(o.world_seed), w);
          // The tables move (no copies), and the scores are computed into their storage, so the
          // set-up peak equals the steady state: q, σ and the scores.
          RewardTable t;
          t.q = std::move(e.tables.q);
          t.sigma = std::move(e.tables.sigma);
          // The late-stage ranker's scores: the logits f themselves.
          t.score.resize(e.users.rows(), e.items.rows());
          t.score.noalias() = o.reward_scaler * (e.users * e.projection * e.items.transpose());
          finish_reward_table(t);
          return t;
        };
        const std::string key =
            "embedding\n" + std::to_string(o.users) + "\n" + std::to_string(o.items) + "\n" +
            std::to_string(o.dim) + "\n" + format_number(o.reward_scaler) + "\n" +
            std::to_string(o.items_equal_users) + "\n" + std::to_string(o.world_seed);
        std::shared_ptr<const RewardTable> table =
            ctx.cache ? ctx.cache->get<RewardTable>(key, load)
                      : std::make_shared<const RewardTable>(load());
        // Gaussian noise with the σ table (the scalar std is unused when a σ table exists).
        return tabular_world_build(table, TableNoiseSpec{TableNoise::gaussian, 0},
                                   static_cast<int>(o.repeat_user));
      });
}

}  // namespace stagesim
