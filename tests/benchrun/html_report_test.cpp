#include "benchrun/html_report.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace factorysim::benchrun {
namespace {

using json = nlohmann::json;

json sample_report() {
  json timeline = json::array();
  for (int t = 1; t <= 10; ++t)
    timeline.push_back(
        {{"t_s", t},
         {"target_rate_per_s", 1000},
         {"published_per_s", 990 + t},
         {"received_per_s", 980 + t},
         {"committed_per_s", 970 + t},
         {"latency_ms", {{"publish_to_committed", {{"p50", 5 + t}, {"p99", 20 + t}}}}}});
  return {
      {"schema", "factorysim-bench/1"},
      {"complete", false},
      {"manifest",
       {{"factorysim", "factorysim 0.1.0 (commit x)"}, {"scenario", {{"name", "b<&>"}}}}},
      {"results",
       {{"stop_reason", "interrupted"},
        {"throughput", {{"committed_rows_per_s", 975}}},
        {"timeline", timeline},
        {"latency_ms",
         {{"publish_to_committed",
           {{"count", 9750}, {"p50", 8}, {"p90", 15}, {"p99", 25}, {"p999", 40}, {"max", 55}}}}},
        {"accounting",
         {{"source", "SQL check"},
          {"published", 10000},
          {"stored", 9998},
          {"lost", 2},
          {"streams", json::array({{{"machine_id", "m1"},
                                    {"stream", "energy"},
                                    {"published", 100},
                                    {"db_lost", 2},
                                    {"db_duplicates", 0}}})}}},
        {"sql_check", {{"ran", true}, {"agrees", false}}},
        {"resources",
         {{"simulator",
           {{"cpu_percent_mean", 3.5}, {"cpu_percent_max", 9}, {"peak_rss_mib", 20}}}}}}}};
}

TEST(html_report, draws_one_path_per_series_with_every_point_and_fetches_nothing) {
  const std::string html = render_html(sample_report());
  // Rates: target, published, received, committed (10 points each); latency: p50, p99;
  // percentiles: one series of four points.
  const std::regex path_re("<path class=\"series\" data-points=\"([0-9]+)\"");
  std::vector<int> counts;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), path_re);
       it != std::sregex_iterator(); ++it)
    counts.push_back(std::stoi((*it)[1]));
  EXPECT_EQ(counts, (std::vector<int>{10, 10, 10, 10, 10, 10, 4}));
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("b&lt;&amp;&gt;"), std::string::npos);  // escaped
  EXPECT_NE(html.find("incomplete"), std::string::npos);
  EXPECT_NE(html.find("disagrees"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"l\">m1</td>"), std::string::npos);
}

}  // namespace
}  // namespace factorysim::benchrun
