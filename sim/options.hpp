#pragma once
// Typed option groups: each world, stage and metric declares its parameters once (name, type,
// default, range, help) next to its code. The same declaration validates experiment files, fills in
// defaults, writes the resolved values to the output file, and prints `stagesim list`.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "sim/enum_table.hpp"
#include "sim/errors.hpp"
#include "sim/printable.hpp"

namespace stagesim {

// "FILE:LINE:COL" of a TOML node, or of the key that names it.
std::string source_of(const toml::source_region& r);
std::string source_of(const toml::node& n);
// Location of key `key` of table `t`, or of `t` itself when the key is not set.
std::string key_source(const toml::table& t, const std::string& key);

// One row of `stagesim list`.
struct ParamInfo {
  std::string name;
  std::string type;
  std::string default_text;
  std::string range_text;
  std::string help;
};

// Closest candidate by edit distance, for "did you mean" hints ("" when nothing is close).
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// Throws the standard "unknown key" error for `key` found at `path` (a dotted key path).
// `value` locates the error when the key itself has no position (keys set by grids or --set).
[[noreturn]] void throw_unknown_key(const toml::key& key, const std::string& path,
                                    const std::string& owner,
                                    const std::vector<std::string>& allowed,
                                    const toml::node* value = nullptr);

std::string format_number(double v);

// "a, b, c": for lists of allowed names in error messages.
inline std::string join_words(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// Conversions between TOML nodes and C++ values, with range checks. Specialised below.
template <class T>
struct OptionTraits;

template <>
struct OptionTraits<double> {
  static constexpr const char* type_name = "float";
  static std::optional<double> read(const toml::node& n) {
    if (auto v = n.value_exact<double>()) return *v;
    if (auto v = n.value_exact<int64_t>()) return static_cast<double>(*v);
    return std::nullopt;
  }
  static void write(toml::table& t, const std::string& key, double v) {
    t.insert_or_assign(key, v);
  }
  static std::string text(double v) { return format_number(v); }
};

template <>
struct OptionTraits<int64_t> {
  static constexpr const char* type_name = "integer";
  static std::optional<int64_t> read(const toml::node& n) { return n.value_exact<int64_t>(); }
  static void write(toml::table& t, const std::string& key, int64_t v) {
    t.insert_or_assign(key, v);
  }
  static std::string text(int64_t v) { return std::to_string(v); }
};

template <>
struct OptionTraits<bool> {
  static constexpr const char* type_name = "boolean";
  static std::optional<bool> read(const toml::node& n) { return n.value_exact<bool>(); }
  static void write(toml::table& t, const std::string& key, bool v) { t.insert_or_assign(key, v); }
  static std::string text(bool v) { return v ? "true" : "false"; }
};

template <>
struct OptionTraits<std::string> {
  static constexpr const char* type_name = "string";
  static std::optional<std::string> read(const toml::node& n) {
    return n.value_exact<std::string>();
  }
  static void write(toml::table& t, const std::string& key, const std::string& v) {
    t.insert_or_assign(key, v);
  }
  static std::string text(const std::string& v) { return "\"" + v + "\""; }
};

template <class E>
struct OptionTraits<std::vector<E>> {
  static constexpr const char* type_name = "array";
  static std::optional<std::vector<E>> read(const toml::node& n) {
    const toml::array* a = n.as_array();
    if (!a) return std::nullopt;
    std::vector<E> out;
    for (const toml::node& e : *a) {
      auto v = OptionTraits<E>::read(e);
      if (!v) return std::nullopt;
      out.push_back(std::move(*v));
    }
    return out;
  }
  static toml::array to_array(const std::vector<E>& v) {
    toml::array a;
    for (const E& e : v) {
      if constexpr (requires { OptionTraits<E>::to_array(e); })
        a.push_back(OptionTraits<E>::to_array(e));
      else
        a.push_back(e);
    }
    return a;
  }
  static void write(toml::table& t, const std::string& key, const std::vector<E>& v) {
    t.insert_or_assign(key, to_array(v));
  }
  static std::string text(const std::vector<E>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + OptionTraits<E>::text(v[i]);
    return s + "]";
  }
};

// Allowed values of an option: a numeric interval or a custom check.
template <class T>
struct Allowed {
  std::optional<double> min, max;
  bool min_open = false, max_open = false;
  // Custom check: returns an empty string when fine, else what is allowed.
  std::function<std::string(const T&)> check;
  std::string text_override;

  std::string text() const {
    if (!text_override.empty()) return text_override;
    if (min && max)
      return std::string(min_open ? "(" : "[") + format_number(*min) + ", " + format_number(*max) +
             (max_open ? ")" : "]");
    if (min) return std::string(min_open ? "> " : ">= ") + format_number(*min);
    if (max) return std::string(max_open ? "< " : "<= ") + format_number(*max);
    return "";
  }
  // Empty string when `v` is allowed.
  std::string violation(const T& v) const {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      double x = static_cast<double>(v);
      if (!std::isfinite(x) || (min && (min_open ? x <= *min : x < *min)) ||
          (max && (max_open ? x >= *max : x > *max)))
        return text();
    }
    if (check) return check(v);
    return "";
  }
};

// The largest count a component stores as `int` (items, dimensions, keep, replicas, ...).
constexpr double kMaxCount = 2147483647.0;

template <class T>
Allowed<T> at_least(double lo) {
  Allowed<T> a;
  a.min = lo;
  return a;
}
template <class T>
Allowed<T> greater_than(double lo) {
  Allowed<T> a;
  a.min = lo;
  a.min_open = true;
  return a;
}
template <class T>
Allowed<T> between(double lo, double hi) {
  Allowed<T> a;
  a.min = lo;
  a.max = hi;
  return a;
}
// Enumerated strings have no Allowed<std::string> form: declare an enum and an EnumTable (see
// OptionGroup::add), so validation and conversion are one table.

// The declared options of one component. `Opts` is a plain struct whose member initialisers are
// the defaults.
template <class Opts>
class OptionGroup {
 public:
  template <class T>
  OptionGroup& add(std::string name, T Opts::*member, std::string help, Allowed<T> allowed = {}) {
    Field f;
    f.info.name = name;
    f.info.type = OptionTraits<T>::type_name;
    f.info.default_text = OptionTraits<T>::text(Opts{}.*member);
    f.info.range_text = allowed.text();
    f.info.help = std::move(help);
    f.read = [name, member, allowed](Opts& o, const toml::node& n, const std::string& path) {
      auto v = OptionTraits<T>::read(n);
      if (!v)
        throw ConfigError(source_of(n) + ": key '" + path + "' must be " +
                          article(OptionTraits<T>::type_name) + describe_allowed(allowed) +
                          ", got " + describe(n));
      if (std::string bad = allowed.violation(*v); !bad.empty())
        throw ConfigError(source_of(n) + ": key '" + path + "' = " + describe(n) +
                          " is out of range; allowed: " + bad);
      o.*member = std::move(*v);
    };
    f.write = [name, member](const Opts& o, toml::table& t) {
      OptionTraits<T>::write(t, name, o.*member);
    };
    fields_.push_back(std::move(f));
    return *this;
  }

  // An enumerated option: a string converted through `table` (see sim/enum_table.hpp).
  template <class E>
    requires std::is_enum_v<E>
  OptionGroup& add(std::string name, E Opts::*member, std::string help, EnumTable<E> table) {
    Field f;
    f.info.name = name;
    f.info.type = "string";
    f.info.default_text = "\"" + table.name(Opts{}.*member) + "\"";
    std::string choices = "one of ";
    const std::vector<std::string> names = table.names();
    for (std::size_t i = 0; i < names.size(); ++i) choices += (i ? ", \"" : "\"") + names[i] + "\"";
    f.info.range_text = choices;
    f.info.help = std::move(help);
    f.read = [member, table, choices](Opts& o, const toml::node& n, const std::string& path) {
      auto s = n.value_exact<std::string>();
      if (!s)
        throw ConfigError(source_of(n) + ": key '" + path + "' must be a string (" + choices +
                          "), got " + describe(n));
      auto v = table.find(*s);
      if (!v) {
        const std::string hint = closest_match(*s, table.names());
        throw ConfigError(source_of(n) + ": key '" + path + "' = " + describe(n) +
                          " is not allowed" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                          "; allowed: " + choices);
      }
      o.*member = *v;
    };
    f.write = [name, member, table](const Opts& o, toml::table& t) {
      t.insert_or_assign(name, table.name(o.*member));
    };
    fields_.push_back(std::move(f));
    return *this;
  }

  // Reads every key of `t` (which must all be declared, except those in `ignore`) into an Opts
  // that starts from the defaults. `path` is the dotted key path of `t`, `owner` names the
  // component for messages ("stage type 'linucb'").
  Opts parse(const toml::table& t, const std::string& path, const std::string& owner,
             const std::vector<std::string>& ignore = {}) const {
    Opts o{};
    for (const auto& [key, node] : t) {
      std::string k(key.str());
      if (std::find(ignore.begin(), ignore.end(), k) != ignore.end()) continue;
      const Field* f = find(k);
      if (!f) {
        std::vector<std::string> allowed;
        for (const Field& g : fields_) allowed.push_back(g.info.name);
        throw_unknown_key(key, path.empty() ? k : path + "." + k, owner, allowed, &node);
      }
      f->read(o, node, path.empty() ? k : path + "." + k);
    }
    return o;
  }

  void write(const Opts& o, toml::table& out) const {
    for (const Field& f : fields_) f.write(o, out);
  }
  std::vector<ParamInfo> info() const {
    std::vector<ParamInfo> v;
    for (const Field& f : fields_) v.push_back(f.info);
    return v;
  }

 private:
  struct Field {
    ParamInfo info;
    std::function<void(Opts&, const toml::node&, const std::string&)> read;
    std::function<void(const Opts&, toml::table&)> write;
  };
  const Field* find(const std::string& k) const {
    for (const Field& f : fields_)
      if (f.info.name == k) return &f;
    return nullptr;
  }
  static std::string article(const std::string& t) {
    return (t == "integer" || t == "array") ? "an " + t : "a " + t;
  }
  template <class T>
  static std::string describe_allowed(const Allowed<T>& a) {
    std::string s = a.text();
    return s.empty() ? "" : " (" + s + ")";
  }
  static std::string describe(const toml::node& n);

  std::vector<Field> fields_;
};

// The text of a node for messages: its value, and its TOML type when that is what is wrong.
std::string describe_node(const toml::node& n);

template <class Opts>
std::string OptionGroup<Opts>::describe(const toml::node& n) {
  return describe_node(n);
}

}  // namespace stagesim
