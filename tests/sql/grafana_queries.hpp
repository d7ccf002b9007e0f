#pragma once
// The SQL of deploy/grafana's dashboards (panel targets, annotation queries, template
// variable queries) with Grafana's PostgreSQL macros filled in as its data source fills them
// (a 24-hour range, $__interval = 5 minutes). Shared by grafana_test.cpp (PostgreSQL) and
// timescale_test.cpp (TimescaleDB).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace factorysim::test::grafana {

inline const std::string from = "'2024-06-01T00:00:00Z'::timestamptz";
inline const std::string to = "'2024-06-02T00:00:00Z'::timestamptz";

// The argument text of a macro call starting at `open` (the '('), and the index past ')'.
inline std::pair<std::string, std::size_t> call_args(const std::string& s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) return {s.substr(open + 1, i - open - 1), i + 1};
  }
  throw std::runtime_error("unbalanced macro call in: " + s);
}

inline std::vector<std::string> split_top_level(const std::string& args) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (const char c : args) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.emplace_back();
      continue;
    }
    out.back() += c;
  }
  return out;
}

inline void replace_calls(
    std::string& s, const std::string& macro,
    const std::function<std::string(const std::vector<std::string>&)>& expand) {
  for (std::size_t at; (at = s.find(macro + "(")) != std::string::npos;) {
    const auto [args, end] = call_args(s, at + macro.size());
    s.replace(at, end - at, expand(split_top_level(args)));
  }
}

inline void replace_all(std::string& s, const std::string& what, const std::string& with) {
  // Searches on past each replacement: `with` may contain `what`.
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
    s.replace(at, what.size(), with);
}

// Grafana's PostgreSQL macros (docs: "Macros" of its PostgreSQL data source), a 24-hour range
// and a 5-minute $__interval.
inline std::string fill_macros(std::string sql, const std::string& factory,
                               const std::string& machine) {
  replace_calls(sql, "$__timeFilter",
                [](const auto& a) { return a.at(0) + " BETWEEN " + from + " AND " + to; });
  replace_calls(sql, "$__timeGroupAlias", [](const auto& a) {
    return "to_timestamp(floor(extract(epoch FROM " + a.at(0) + ") / 300) * 300) AS \"time\"";
  });
  replace_calls(sql, "$__timeGroup", [](const auto& a) {
    return "to_timestamp(floor(extract(epoch FROM " + a.at(0) + ") / 300) * 300)";
  });
  replace_calls(sql, "$__timeFrom", [](const auto&) { return from; });
  replace_calls(sql, "$__timeTo", [](const auto&) { return to; });
  replace_all(sql, "$__interval", "5m");
  replace_all(sql, "$factory", factory);
  replace_all(sql, "$machine", machine);
  replace_all(sql, "$signal", "power_kw");
  EXPECT_EQ(sql.find('$'), std::string::npos) << "unfilled macro or variable: " << sql;
  return sql;
}

/// One query of a dashboard and where it comes from.
struct query {
  std::string where;
  std::string sql;
  bool time_series = false;
};

inline std::vector<query> dashboard_queries() {
  std::vector<query> out;
  const auto dir = std::filesystem::path(FACTORYSIM_SOURCE_DIR) / "deploy/grafana/dashboards";
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    std::ifstream in(f.path());
    const auto d = nlohmann::json::parse(in);
    const std::string name = f.path().filename().string();
    for (const auto& v : d.at("templating").at("list"))
      out.push_back({name + " variable " + v.at("name").get<std::string>(), v.at("query"), false});
    for (const auto& p : d.at("panels"))
      for (const auto& t : p.at("targets"))
        out.push_back({name + " panel " + p.at("title").get<std::string>(), t.at("rawSql"),
                       t.value("format", "") == "time_series"});
    for (const auto& a : d.at("annotations").at("list"))
      out.push_back({name + " annotation " + a.at("name").get<std::string>(),
                     a.at("target").at("rawSql"), false});
  }
  return out;
}

}  // namespace factorysim::test::grafana
