// Every check reports and carries on: a user fixing a scenario wants the whole list at once.
#include "scenarios/yaml_checker.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "scenarios/text_formats.hpp"

namespace factorysim::scenarios {
namespace {

/// Lower case without '_' and '-', so that "ratedPower" and "rated-power" meet "rated_power".
std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '_' && c != '-') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <typename Range>
std::string_view closest(std::string_view name, const Range& known) {
  const std::string folded = fold(name);
  std::string_view best;
  std::size_t best_distance = std::string::npos;
  for (std::string_view k : known) {
    const std::string fk = fold(k);
    std::size_t d = edit_distance(folded, fk);
    // A missing or extra unit suffix ("rated_power" for "rated_power_kw") is a near miss too.
    const bool prefix = folded.size() >= 3 && fk.size() >= 3 &&
                        (fk.starts_with(folded) || folded.starts_with(fk));
    const std::size_t limit = std::max<std::size_t>(1, std::min(folded.size(), fk.size()) / 3);
    if (d > limit && !prefix) continue;
    if (prefix) d = std::min(d, limit);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string{s} + "\""; }

std::string format_bound(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string range_message(const number_range& r) {
  const bool has_min = r.min > -1e299;
  const bool has_max = r.max < 1e299;
  if (has_min && has_max) {
    if (!r.min_exclusive && !r.max_exclusive)
      return "must be between " + format_bound(r.min) + " and " + format_bound(r.max);
    return std::string("must be ") + (r.min_exclusive ? "> " : ">= ") + format_bound(r.min) +
           " and " + (r.max_exclusive ? "< " : "<= ") + format_bound(r.max);
  }
  if (has_min) return std::string("must be ") + (r.min_exclusive ? "> " : ">= ") + format_bound(r.min);
  return std::string("must be ") + (r.max_exclusive ? "< " : "<= ") + format_bound(r.max);
}

bool in_range(double v, const number_range& r) {
  if (r.min_exclusive ? !(v > r.min) : !(v >= r.min)) return false;
  if (r.max_exclusive ? !(v < r.max) : !(v <= r.max)) return false;
  return true;
}

std::optional<double> to_double(const std::string& s) {
  double v = 0;
  const char* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  if (r.ec != std::errc{} || r.ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::string join_path(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string{key};
  std::string out;
  out.reserve(path.size() + 1 + key.size());
  out.append(path).push_back('.');
  out.append(key);
  return out;
}

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return in_quotes(n.Scalar());
    default: return "nothing";
  }
}

std::string_view closest_key(std::string_view key, std::initializer_list<std::string_view> known) {
  return closest(key, known);
}

std::string_view closest_name(std::string_view name, const std::vector<std::string_view>& known) {
  return closest(name, known);
}

void yaml_checker::report(const YAML::Mark& mark, const std::string& path, std::string message) {
  scenario_problem p;
  p.file = file_;
  p.line = mark.is_null() ? 0 : mark.line + 1;
  p.column = mark.is_null() ? 0 : mark.column + 1;
  p.path = path;
  p.message = std::move(message);
  problems_.push_back(std::move(p));
}

void yaml_checker::report(const YAML::Node& node, const std::string& path, std::string message) {
  report(node.IsDefined() ? node.Mark() : YAML::Mark::null_mark(), path, std::move(message));
}

bool yaml_checker::check_map(const YAML::Node& node, const std::string& path,
                             std::initializer_list<std::string_view> known) {
  if (!node.IsMap()) {
    report(node, path, "must be a map, got " + describe(node));
    return false;
  }
  std::unordered_set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      report(key, path, "keys must be plain names, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string key_path = join_path(path, name);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string message = "unknown key " + in_quotes(name);
      if (const auto suggestion = closest(name, known); !suggestion.empty())
        message += " (did you mean " + in_quotes(suggestion) + "?)";
      report(key, key_path, std::move(message));
    } else if (!seen.insert(name).second) {
      report(key, key_path, "duplicate key " + in_quotes(name));
    }
  }
  return true;
}

bool yaml_checker::check_list(const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) return true;
  report(node, path, "must be a list, got " + describe(node));
  return false;
}

YAML::Node yaml_checker::field(const YAML::Node& map, std::string_view key,
                               const std::string& path, bool required) {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        YAML::Node value = it->second;
        // An empty value ("key:") takes the position of whatever token follows it, often on
        // the next line; the key is where the user has to look.
        if (value.IsNull()) {
          report(it->first, join_path(path, key), "must have a value (write \"\" for empty text)");
          return YAML::Node{YAML::NodeType::Undefined};
        }
        return value;
      }
    if (required) report(map, join_path(path, key), "missing required key");
  }
  return YAML::Node{YAML::NodeType::Undefined};
}

std::optional<std::string> yaml_checker::string_value(const YAML::Node& n, const std::string& path,
                                                      bool allow_empty) {
  if (!n.IsScalar()) {
    report(n, path, "must be a text, got " + describe(n));
    return std::nullopt;
  }
  if (!allow_empty && n.Scalar().empty()) {
    report(n, path, "must not be empty");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<double> yaml_checker::number_value(const YAML::Node& n, const std::string& path,
                                                 number_range range) {
  const auto v = n.IsScalar() ? to_double(n.Scalar()) : std::nullopt;
  if (!v) {
    report(n, path, "must be a number, got " + describe(n));
    return std::nullopt;
  }
  if (!in_range(*v, range)) {
    report(n, path, range_message(range) + ", got " + n.Scalar());
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> yaml_checker::integer_value(const YAML::Node& n,
                                                        const std::string& path,
                                                        number_range range) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc{} && r.ptr == s.data() + s.size()) {
      if (!in_range(static_cast<double>(v), range)) {
        report(n, path, range_message(range) + ", got " + s);
        return std::nullopt;
      }
      return v;
    }
    if (to_double(s)) {
      report(n, path, "must be a whole number, got " + s);
      return std::nullopt;
    }
  }
  report(n, path, "must be a whole number, got " + describe(n));
  return std::nullopt;
}

std::optional<std::uint64_t> yaml_checker::unsigned_value(const YAML::Node& n,
                                                          const std::string& path) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc{} && r.ptr == s.data() + s.size()) return v;
  }
  report(n, path, "must be a whole number between 0 and 18446744073709551615, got " + describe(n));
  return std::nullopt;
}

std::optional<bool> yaml_checker::bool_value(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  report(n, path, "must be true or false, got " + describe(n));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> yaml_checker::duration_value(
    const YAML::Node& n, const std::string& path, std::chrono::milliseconds min,
    std::chrono::milliseconds max) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (const auto ms = parse_duration_ms(s)) {
      const auto whole = parse_duration(s);
      if (!whole) {
        report(n, path, "must be a whole number of milliseconds, got " + in_quotes(s));
        return std::nullopt;
      }
      if (*whole < min) {
        report(n, path, "must be at least " + format_duration(min) + ", got " + in_quotes(s));
        return std::nullopt;
      }
      if (*whole > max) {
        report(n, path, "must be at most " + format_duration(max) + ", got " + in_quotes(s));
        return std::nullopt;
      }
      return whole;
    }
  }
  report(n, path,
         "must be a duration such as \"90s\", \"15m\", \"2h\", \"1d\" or a number of seconds, "
         "got " + describe(n));
  return std::nullopt;
}

std::optional<machines::sim_time> yaml_checker::time_value(const YAML::Node& n,
                                                           const std::string& path) {
  if (n.IsScalar())
    if (const auto t = parse_rfc3339(n.Scalar())) return t;
  report(n, path, "must be an RFC 3339 time such as 2024-06-01T00:00:00Z, got " + describe(n));
  return std::nullopt;
}

std::optional<std::string> yaml_checker::uuid_value(const YAML::Node& n, const std::string& path) {
  if (n.IsScalar() && is_uuid(n.Scalar())) return normalize_uuid(n.Scalar());
  report(n, path, "must be a uuid (8-4-4-4-12 hex digits), got " + describe(n));
  return std::nullopt;
}

std::optional<std::string> yaml_checker::get_string(const YAML::Node& map, std::string_view key,
                                                    const std::string& path, bool required,
                                                    bool allow_empty) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return string_value(n, join_path(path, key), allow_empty);
}

std::optional<double> yaml_checker::get_number(const YAML::Node& map, std::string_view key,
                                               const std::string& path, number_range range,
                                               bool required) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return number_value(n, join_path(path, key), range);
}

std::optional<std::int64_t> yaml_checker::get_integer(const YAML::Node& map, std::string_view key,
                                                      const std::string& path,
                                                      number_range range, bool required) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return integer_value(n, join_path(path, key), range);
}

std::optional<bool> yaml_checker::get_bool(const YAML::Node& map, std::string_view key,
                                           const std::string& path) {
  const YAML::Node n = field(map, key, path);
  if (!n.IsDefined()) return std::nullopt;
  return bool_value(n, join_path(path, key));
}

std::optional<std::chrono::milliseconds> yaml_checker::get_duration(
    const YAML::Node& map, std::string_view key, const std::string& path,
    std::chrono::milliseconds min, bool required) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return duration_value(n, join_path(path, key), min);
}

std::optional<machines::sim_time> yaml_checker::get_time(const YAML::Node& map,
                                                         std::string_view key,
                                                         const std::string& path, bool required) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return time_value(n, join_path(path, key));
}

std::optional<std::string> yaml_checker::get_uuid(const YAML::Node& map, std::string_view key,
                                                  const std::string& path, bool required) {
  const YAML::Node n = field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  return uuid_value(n, join_path(path, key));
}

}  // namespace factorysim::scenarios
