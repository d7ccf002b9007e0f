#include "benchrun/prometheus_text.hpp"

#include <gtest/gtest.h>

#include "benchrun/latency_histogram.hpp"

namespace factorysim::benchrun {
namespace {

const char* const scrape_text =
    "# HELP factorysim_ingest_received_messages_total Messages received\n"
    "# TYPE factorysim_ingest_received_messages_total counter\n"
    "factorysim_ingest_received_messages_total 1200\n"
    "factorysim_ingest_queue_messages 7 1700000000000\n"
    "lat_seconds_bucket{le=\"0.001\"} 10\n"
    "lat_seconds_bucket{le=\"0.01\"} 60\n"
    "lat_seconds_bucket{le=\"0.1\"} 100\n"
    "lat_seconds_bucket{le=\"+Inf\"} 100\n"
    "lat_seconds_sum 2.5\n"
    "lat_seconds_count 100\n"
    "garbage line without value\n";

TEST(prometheus_text, reads_counters_gauges_with_timestamps_and_skips_comments_and_garbage) {
  const auto m = parse_prometheus_text(scrape_text);
  EXPECT_EQ(m.get("factorysim_ingest_received_messages_total"), 1200);
  EXPECT_EQ(m.get("factorysim_ingest_queue_messages"), 7);
  EXPECT_FALSE(m.get("garbage").has_value());
  EXPECT_FALSE(m.get("absent_total").has_value());
}

TEST(prometheus_text, histogram_quantiles_interpolate_inside_the_bucket) {
  const auto h = histogram_of(parse_prometheus_text(scrape_text), "lat_seconds");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->count, 100);
  EXPECT_DOUBLE_EQ(h->sum_s, 2.5);
  // 10 at <= 1 ms, 50 in (1, 10] ms, 40 in (10, 100] ms.
  EXPECT_NEAR(*h->quantile_s(0.10), 0.001, 1e-12);
  EXPECT_NEAR(*h->quantile_s(0.35), 0.001 + 0.009 * 0.5, 1e-12);  // halfway into (1, 10] ms
  EXPECT_NEAR(*h->quantile_s(0.80), 0.01 + 0.09 * 0.5, 1e-12);
  EXPECT_NEAR(*h->quantile_s(1.0), 0.1, 1e-12);
}

TEST(prometheus_text, the_difference_of_two_scrapes_is_the_interval_s_latency) {
  const auto earlier = *histogram_of(parse_prometheus_text(scrape_text), "lat_seconds");
  // Later: 100 more observations, all in (10, 100] ms.
  const auto later =
      *histogram_of(parse_prometheus_text("lat_seconds_bucket{le=\"0.001\"} 10\n"
                                          "lat_seconds_bucket{le=\"0.01\"} 60\n"
                                          "lat_seconds_bucket{le=\"0.1\"} 200\n"
                                          "lat_seconds_bucket{le=\"+Inf\"} 200\n"
                                          "lat_seconds_sum 7.5\nlat_seconds_count 200\n"),
                    "lat_seconds");
  const auto d = later.minus(earlier);
  EXPECT_EQ(d.count, 100);
  EXPECT_GT(*d.quantile_s(0.01), 0.01);  // nothing of the interval is below 10 ms
  EXPECT_FALSE(earlier.minus(earlier).quantile_s(0.5).has_value());
}

TEST(prometheus_text, histograms_of_several_ingestors_add_up) {
  auto a = *histogram_of(parse_prometheus_text(scrape_text), "lat_seconds");
  const auto b = a;
  a.add(b);
  EXPECT_EQ(a.count, 200);
  EXPECT_EQ(a.cumulative.back(), 200);
  EXPECT_NEAR(*a.quantile_s(0.35), 0.001 + 0.009 * 0.5, 1e-12);
}

TEST(latency_histogram, percentiles_of_a_uniform_distribution_are_within_two_percent) {
  latency_histogram h;
  for (int us = 1; us <= 100000; ++us) h.record_us(us);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_NEAR(*h.quantile_us(0.5), 50000, 50000 * 0.021);
  EXPECT_NEAR(*h.quantile_us(0.99), 99000, 99000 * 0.021);
  EXPECT_DOUBLE_EQ(*h.quantile_us(1.0), 100000);
  EXPECT_NEAR(h.mean_us(), 50000.5, 1e-6);
}

TEST(latency_histogram, minus_keeps_only_the_later_observations) {
  latency_histogram h;
  for (int i = 0; i < 1000; ++i) h.record_us(100);
  const latency_histogram before = h;
  for (int i = 0; i < 1000; ++i) h.record_us(10000);
  const auto d = h.minus(before);
  EXPECT_EQ(d.count(), 1000u);
  EXPECT_NEAR(*d.quantile_us(0.01), 10000, 10000 * 0.021);
}

}  // namespace
}  // namespace factorysim::benchrun
