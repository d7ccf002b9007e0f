// Issue 11: every SQL of the provisioned Grafana dashboards (deploy/grafana/dashboards/*.json:
// panel targets, annotation queries, template variable queries) runs against the schema of
// `db init --profile enms,mantis`, with Grafana's macros filled in as its PostgreSQL data
// source fills them; time-series targets return a `time` column.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "tests/integration/ingest_harness.hpp"
#include "tests/sql/sql_fixture.hpp"

using namespace factorysim::test;

namespace {

const std::string from = "'2024-06-01T00:00:00Z'::timestamptz";
const std::string to = "'2024-06-02T00:00:00Z'::timestamptz";

// The argument text of a macro call starting at `open` (the '('), and the index past ')'.
std::pair<std::string, std::size_t> call_args(const std::string& s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) return {s.substr(open + 1, i - open - 1), i + 1};
  }
  throw std::runtime_error("unbalanced macro call in: " + s);
}

std::vector<std::string> split_top_level(const std::string& args) {
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

void replace_calls(std::string& s, const std::string& macro,
                   const std::function<std::string(const std::vector<std::string>&)>& expand) {
  for (std::size_t at; (at = s.find(macro + "(")) != std::string::npos;) {
    const auto [args, end] = call_args(s, at + macro.size());
    s.replace(at, end - at, expand(split_top_level(args)));
  }
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
  for (std::size_t at; (at = s.find(what)) != std::string::npos;) s.replace(at, what.size(), with);
}

// Grafana's PostgreSQL macros (docs: "Macros" of its PostgreSQL data source), a 24-hour range
// and a 5-minute $__interval.
std::string fill_macros(std::string sql, const std::string& factory, const std::string& machine) {
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

struct query {
  std::string where;
  std::string sql;
  bool time_series = false;
};

std::vector<query> dashboard_queries() {
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

}  // namespace

TEST(grafana, every_dashboard_query_runs_against_the_schema) {
  const std::string db = shared_server().create_database("grafana");
  std::string out;
  ASSERT_EQ(run_command({FACTORYSIM_BINARY, "db", "init", "--db", db, "--scenario",
                         std::string(FACTORYSIM_SOURCE_DIR) + "/scenarios/demo-plant.yaml",
                         "--profile", "enms,mantis"},
                        out),
            0)
      << out;
  const auto queries = dashboard_queries();
  EXPECT_GE(queries.size(), 25u);  // six dashboards
  pqxx::connection c{db};
  const std::string factory =
      query_value(db, "SELECT id::text FROM factories ORDER BY name LIMIT 1");
  const std::string machine = "c0000000-0000-0000-0000-000000000001";
  for (const auto& q : queries) {
    const std::string sql = fill_macros(q.sql, factory, machine);
    try {
      pqxx::work w{c};
      const auto r = w.exec(sql);
      if (q.time_series) {
        bool has_time = false;
        for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
          has_time = has_time || std::string(r.column_name(i)) == "time";
        EXPECT_TRUE(has_time) << q.where << ": a time series needs a `time` column\n" << sql;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << q.where << ": " << e.what() << "\n" << sql;
    }
  }
}
