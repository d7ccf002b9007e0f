#include "benchrun/compare.hpp"

#include <gtest/gtest.h>

#include "benchrun/runner.hpp"

namespace factorysim::benchrun {
namespace {

using json = nlohmann::json;

json report(double committed_per_s, double p99_ms) {
  return {{"schema", "factorysim-bench/1"},
          {"complete", true},
          {"results",
           {{"throughput",
             {{"committed_rows_per_s", committed_per_s}, {"published_per_s", committed_per_s}}},
            {"latency_ms", {{"publish_to_committed", {{"p50", p99_ms / 4}, {"p99", p99_ms}}}}},
            {"accounting", {{"lost", 0}}}}}};
}

TEST(bench_compare, within_the_tolerance_is_no_regression) {
  const auto r = compare_reports(report(50000, 100), report(48000, 104), 0.05);
  EXPECT_FALSE(r.regression) << r.table;
  EXPECT_NE(r.table.find("committed rows/s"), std::string::npos);
  EXPECT_NE(r.table.find("-4.0%"), std::string::npos) << r.table;
}

TEST(bench_compare, throughput_falling_beyond_the_tolerance_is_a_regression) {
  const auto r = compare_reports(report(50000, 100), report(47000, 100), 0.05);
  EXPECT_TRUE(r.regression);
  EXPECT_NE(r.table.find("REGRESSION"), std::string::npos);
}

TEST(bench_compare, p99_rising_beyond_the_tolerance_is_a_regression) {
  EXPECT_TRUE(compare_reports(report(50000, 100), report(50000, 106), 0.05).regression);
  EXPECT_FALSE(compare_reports(report(50000, 100), report(50000, 106), 0.10).regression);
  // Better is never a regression, however large.
  EXPECT_FALSE(compare_reports(report(50000, 100), report(90000, 20), 0.05).regression);
}

TEST(bench_compare, a_file_that_is_not_a_report_is_bad_input) {
  EXPECT_THROW(compare_reports(json{{"x", 1}}, report(1, 1), 0.05), bench_usage_error);
  json no_figures = {{"schema", "factorysim-bench/1"}, {"results", json::object()}};
  EXPECT_THROW(compare_reports(no_figures, no_figures, 0.05), bench_usage_error);
  EXPECT_THROW(compare_report_files("/nonexistent/a.json", "/nonexistent/b.json", 0.05),
               bench_usage_error);
}

TEST(bench_compare, tolerance_is_a_percentage) {
  EXPECT_DOUBLE_EQ(parse_tolerance("5%"), 0.05);
  EXPECT_DOUBLE_EQ(parse_tolerance("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(parse_tolerance("10"), 0.10);
  EXPECT_THROW(parse_tolerance("five"), bench_usage_error);
  EXPECT_THROW(parse_tolerance("-1%"), bench_usage_error);
  EXPECT_THROW(parse_tolerance(""), bench_usage_error);
}

}  // namespace
}  // namespace factorysim::benchrun
