#include "sim/registry.hpp"

namespace stagesim {

void StageContext::fail(const std::string& key, const std::string& message) const {
  const std::string where = table ? key_source(*table, key) : path;
  throw ConfigError(where + ": key '" + path + "." + key + "' " + message);
}

}  // namespace stagesim
