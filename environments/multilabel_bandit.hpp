#pragma once
// The products of a "multilabel_bandit" world, for offline learners that train on the same data
// (e.g. the MoE pool trainer of the pool_learning job).
#include <memory>
#include <string>

#include "environments/multilabel_data.hpp"
#include "sim/registry.hpp"

namespace stagesim {

// Validates the data-source keys of a [world] table of type multilabel_bandit found at `path` and
// loads its products (through ctx.cache). ConfigError / IoError as for the world.
std::shared_ptr<const MultilabelData> multilabel_world_data(const toml::table& t,
                                                            const std::string& path,
                                                            const ParseContext& ctx);

}  // namespace stagesim
