#pragma once
// Enumerated options: one table per enumeration maps each value to its name. The same table
// validates the string in an experiment file, converts it to the enum, writes the name back to the
// resolved configuration and lists the choices in `stagesim list`, so no second place turns
// strings into values (and nothing silently falls back to a default).
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stagesim {

template <class E>
class EnumTable {
 public:
  // Names in the order `stagesim list` shows them. A value may have several names (aliases); the
  // first is the one written back.
  EnumTable(std::initializer_list<std::pair<const char*, E>> entries) {
    for (const auto& [n, v] : entries) entries_.emplace_back(n, v);
  }

  std::optional<E> find(std::string_view name) const {
    for (const auto& [n, v] : entries_)
      if (n == name) return v;
    return std::nullopt;
  }
  const std::string& name(E value) const {
    for (const auto& [n, v] : entries_)
      if (v == value) return n;
    throw std::logic_error("EnumTable: a value without a name");
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.first);
    return out;
  }

 private:
  std::vector<std::pair<std::string, E>> entries_;
};

}  // namespace stagesim
