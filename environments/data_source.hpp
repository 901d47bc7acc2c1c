#pragma once
// Helpers for worlds that read dataset files while their [world] table is parsed: the readers'
// DataError becomes an IoError (exit code 3) prefixed with the experiment key that named the file,
// so the one-line message says both where the path was given and what is wrong with the file.
#include <string>
#include <utility>

#include <toml++/toml.h>

#include "environments/data/data_error.hpp"
#include "sim/errors.hpp"
#include "sim/options.hpp"

namespace stagesim {

// "FILE:LINE:COL: key 'world.path'" for key `key` of table `t` found at key path `path`.
inline std::string key_location(const toml::table& t, const std::string& path,
                                const std::string& key) {
  const toml::node* n = t.get(key);
  return (n ? source_of(*n) : source_of(t)) + ": key '" + path + "." + key + "'";
}

// Runs `load`; a DataError is rethrown as IoError("<where>: <file>[:line]: what; fix").
template <class F>
auto load_data(const std::string& where, F&& load) -> decltype(load()) {
  try {
    return std::forward<F>(load)();
  } catch (const data::DataError& e) {
    throw IoError(where + ": " + e.what());
  }
}

// Lower-case file extension with the dot (".npy"), for choosing a reader.
inline std::string extension_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot);
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace stagesim
