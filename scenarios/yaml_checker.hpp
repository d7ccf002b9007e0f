#pragma once
/// Typed access to a yaml-cpp tree that never throws and never stops at the first problem:
/// every getter checks presence, type and range, records a scenario_problem with the node's
/// 1-based line and column, and returns nullopt so that the caller carries on. The schema
/// itself lives in scenario.cpp; this file only knows YAML and our small text formats.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "scenarios/scenario.hpp"

namespace factorysim::scenarios {

/// Inclusive or exclusive bounds of a number, for the "must be > 0, got -3" messages.
struct number_range {
  double min = -1e300;
  double max = 1e300;
  bool min_exclusive = false;
  bool max_exclusive = false;
};
inline constexpr number_range any_number{};
inline number_range at_least(double v) { return {v, 1e300, false, false}; }
inline number_range above(double v) { return {v, 1e300, true, false}; }
inline number_range between(double lo, double hi) { return {lo, hi, false, false}; }
inline number_range above_up_to(double lo, double hi) { return {lo, hi, true, false}; }

/// "a.b" / "a[2]" path building.
std::string join_path(const std::string& path, std::string_view key);
std::string index_path(const std::string& path, std::size_t index);

class yaml_checker {
 public:
  explicit yaml_checker(std::string file) : file_(std::move(file)) {}

  /// Records a problem at `node` (falls back to `fallback` when the node carries no mark).
  void report(const YAML::Node& node, const std::string& path, std::string message);
  void report(const YAML::Mark& mark, const std::string& path, std::string message);

  /// Checks that `node` is a map whose keys are all in `known` and appear once; reports
  /// unknown keys with the closest known key as a suggestion. False if not a map.
  bool check_map(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> known);
  /// Checks that `node` is a list. False (and reported) otherwise.
  bool check_list(const YAML::Node& node, const std::string& path);

  /// The value under `key`, or an undefined node. `required` reports a missing key at the map.
  YAML::Node field(const YAML::Node& map, std::string_view key, const std::string& path,
                   bool required = false);

  // Typed values of a present node; nullopt after a reported problem.
  std::optional<std::string> string_value(const YAML::Node& n, const std::string& path,
                                          bool allow_empty = true);
  std::optional<double> number_value(const YAML::Node& n, const std::string& path,
                                     number_range range = any_number);
  std::optional<std::int64_t> integer_value(const YAML::Node& n, const std::string& path,
                                            number_range range = any_number);
  std::optional<std::uint64_t> unsigned_value(const YAML::Node& n, const std::string& path);
  std::optional<bool> bool_value(const YAML::Node& n, const std::string& path);
  /// A duration (see parse_duration) of at least `min`.
  std::optional<std::chrono::milliseconds> duration_value(
      const YAML::Node& n, const std::string& path,
      std::chrono::milliseconds min = std::chrono::milliseconds{0},
      std::chrono::milliseconds max = std::chrono::hours{24 * 366 * 100});
  std::optional<machines::sim_time> time_value(const YAML::Node& n, const std::string& path);
  /// A uuid, returned in lower case.
  std::optional<std::string> uuid_value(const YAML::Node& n, const std::string& path);

  // Convenience: field() then the typed value; nullopt when absent (and not required).
  std::optional<std::string> get_string(const YAML::Node& map, std::string_view key,
                                        const std::string& path, bool required = false,
                                        bool allow_empty = true);
  std::optional<double> get_number(const YAML::Node& map, std::string_view key,
                                   const std::string& path, number_range range = any_number,
                                   bool required = false);
  std::optional<std::int64_t> get_integer(const YAML::Node& map, std::string_view key,
                                          const std::string& path,
                                          number_range range = any_number, bool required = false);
  std::optional<bool> get_bool(const YAML::Node& map, std::string_view key,
                               const std::string& path);
  std::optional<std::chrono::milliseconds> get_duration(
      const YAML::Node& map, std::string_view key, const std::string& path,
      std::chrono::milliseconds min = std::chrono::milliseconds{0}, bool required = false);
  std::optional<machines::sim_time> get_time(const YAML::Node& map, std::string_view key,
                                             const std::string& path, bool required = false);
  std::optional<std::string> get_uuid(const YAML::Node& map, std::string_view key,
                                      const std::string& path, bool required = false);

  const std::vector<scenario_problem>& problems() const noexcept { return problems_; }
  std::vector<scenario_problem> take_problems() noexcept { return std::move(problems_); }
  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
  std::vector<scenario_problem> problems_;
};

/// How a node looks in a message: "abc" for a scalar, "a list", "a map", "nothing".
std::string describe(const YAML::Node& n);
/// The known key closest to `key` (typos, missing units), or empty.
std::string_view closest_key(std::string_view key, std::initializer_list<std::string_view> known);
/// Same over any list of names.
std::string_view closest_name(std::string_view name, const std::vector<std::string_view>& known);

}  // namespace factorysim::scenarios
