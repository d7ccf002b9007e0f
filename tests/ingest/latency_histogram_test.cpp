// Issue 9: the log-linear latency histogram against distributions whose percentiles are
// known in closed form, its bucket layout, and its exact side figures.
#include "ingest/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace factorysim::ingest {
namespace {

using H = latency_histogram;

double relative_error(double got, double want) { return std::abs(got - want) / want; }

TEST(latency_histogram, buckets_tile_the_range_without_gaps_and_stay_within_one_percent) {
  EXPECT_EQ(H::bucket_lower_us(0), 0);
  for (std::size_t i = 0; i + 1 < H::bucket_count(); ++i) {
    ASSERT_EQ(H::bucket_upper_us(i), H::bucket_lower_us(i + 1)) << i;
    ASSERT_EQ(H::bucket_of(H::bucket_lower_us(i)), i) << i;
    ASSERT_EQ(H::bucket_of(H::bucket_upper_us(i) - 1), i) << i;
    const auto width = H::bucket_upper_us(i) - H::bucket_lower_us(i);
    if (i >= 256) {
      ASSERT_LE(static_cast<double>(width) / static_cast<double>(H::bucket_lower_us(i)),
                1.0 / 128.0)
          << i;
    }
  }
  EXPECT_EQ(H::bucket_of(H::max_trackable_us), H::bucket_count() - 1);
  EXPECT_EQ(H::bucket_of(H::max_trackable_us * 10), H::bucket_count() - 1);
  EXPECT_GT(H::bucket_upper_us(H::bucket_count() - 1), H::max_trackable_us);
}

TEST(latency_histogram, values_below_256_us_are_exact) {
  H h;
  for (std::int64_t v = 0; v < 256; ++v) h.record(v);
  EXPECT_EQ(h.count(), 256u);
  EXPECT_EQ(h.percentile_us(0.5), 127);  // the 128th smallest of 0..255
  EXPECT_EQ(h.percentile_us(0.0), 0);
  EXPECT_EQ(h.percentile_us(1.0), 255);
  EXPECT_EQ(h.count_at_or_below(99), 100u);
}

TEST(latency_histogram, uniform_percentiles_are_within_half_a_percent) {
  H h;
  const std::int64_t n = 1'000'000;
  for (std::int64_t v = 1; v <= n; ++v) h.record(v);
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = std::ceil(q * static_cast<double>(n));  // the rank-th smallest value
    EXPECT_LT(relative_error(static_cast<double>(h.percentile_us(q)), want), 0.005) << q;
  }
  EXPECT_EQ(h.min_us(), 1);
  EXPECT_EQ(h.max_us(), n);
  EXPECT_DOUBLE_EQ(h.mean_us(), (static_cast<double>(n) + 1) / 2);
}

TEST(latency_histogram, exponential_percentiles_match_the_closed_form) {
  // Deterministic quantile sampling of an exponential with a 20 ms mean: the q-quantile is
  // -mean * ln(1 - q).
  H h;
  const int n = 200'000;
  const double mean_us = 20'000;
  for (int i = 0; i < n; ++i)
    h.record(std::llround(-mean_us * std::log(1.0 - (i + 0.5) / n)));
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const double want = -mean_us * std::log(1.0 - q);
    EXPECT_LT(relative_error(static_cast<double>(h.percentile_us(q)), want), 0.01) << q;
  }
  EXPECT_LT(relative_error(h.mean_us(), mean_us), 0.01);
}

TEST(latency_histogram, a_long_tail_up_to_an_hour_keeps_its_relative_precision) {
  // Log-uniform from 1 ms to 1 h: the q-quantile is 1 ms * 3600000^q.
  H h;
  const int n = 100'000;
  for (int i = 0; i < n; ++i)
    h.record(std::llround(1000.0 * std::pow(3.6e6, (i + 0.5) / n)));
  for (const double q : {0.1, 0.5, 0.9, 0.99, 0.999}) {
    const double want = 1000.0 * std::pow(3.6e6, q);
    EXPECT_LT(relative_error(static_cast<double>(h.percentile_us(q)), want), 0.01) << q;
  }
}

TEST(latency_histogram, negative_and_too_large_values_are_counted_and_clamped) {
  H h;
  h.record(-5);
  h.record(H::max_trackable_us * 2);
  h.record(10);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.negative(), 1u);
  EXPECT_EQ(h.clamped(), 1u);
  EXPECT_EQ(h.min_us(), 0);
  EXPECT_EQ(h.max_us(), H::max_trackable_us);
  EXPECT_EQ(h.percentile_us(1.0), H::max_trackable_us);
}

TEST(latency_histogram, merging_equals_recording_into_one) {
  H a, b, both;
  for (std::int64_t v = 0; v < 50'000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    both.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min_us(), both.min_us());
  EXPECT_EQ(a.max_us(), both.max_us());
  EXPECT_DOUBLE_EQ(a.sum_us(), both.sum_us());
  for (std::size_t i = 0; i < H::bucket_count(); ++i) ASSERT_EQ(a.count_in(i), both.count_in(i));
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile_us(0.99), 0);
}

TEST(latency_histogram, count_at_or_below_is_exact_on_bucket_edges) {
  H h;
  for (std::int64_t v = 0; v < 100'000; ++v) h.record(v);
  for (std::size_t i = 300; i < 1200; i += 97) {
    const auto edge = H::bucket_upper_us(i) - 1;  // the last value of bucket i
    EXPECT_EQ(h.count_at_or_below(edge), static_cast<std::uint64_t>(edge + 1)) << i;
  }
  EXPECT_EQ(h.count_at_or_below(-1), 0u);
  EXPECT_EQ(h.count_at_or_below(H::max_trackable_us), h.count());
}

}  // namespace
}  // namespace factorysim::ingest
