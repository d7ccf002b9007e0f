#pragma once
/// A log-linear latency histogram in the manner of HdrHistogram: durations in microseconds,
/// exact below 256 µs, above that 128 sub-buckets per power of two, so a bucket is at most
/// 1/128 (0.78 %) of its lower bound wide and a percentile read as the bucket's midpoint is
/// within 0.4 % of the true value; tracked up to one hour (3287 buckets, 26 KiB). A plain
/// value (no locking, no clock): the ingestor records into it, and the status line,
/// /metrics and the summary JSON are views of a copy.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace factorysim::ingest {

class latency_histogram {
 public:
  /// Largest value told apart; larger ones are recorded as this (and counted as clamped).
  static constexpr std::int64_t max_trackable_us = 3'600'000'000;
  /// Values below this are their own bucket.
  static constexpr std::int64_t exact_below_us = 256;

  latency_histogram();

  /// Adds one duration. Negative values (clocks of two hosts disagreeing) count as 0 and
  /// are counted in negative(); values above max_trackable_us in clamped().
  void record(std::int64_t us) noexcept;
  /// Adds every value of `other`.
  void merge(const latency_histogram& other) noexcept;
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Smallest and largest value recorded, exactly (after the clamping above); 0 when empty.
  std::int64_t min_us() const noexcept { return count_ ? min_us_ : 0; }
  std::int64_t max_us() const noexcept { return count_ ? max_us_ : 0; }
  /// Exact sum and mean of the values recorded (after the clamping above).
  double sum_us() const noexcept { return sum_us_; }
  double mean_us() const noexcept;
  std::uint64_t negative() const noexcept { return negative_; }
  std::uint64_t clamped() const noexcept { return clamped_; }

  /// The value at quantile q (0..1): the midpoint of the bucket holding the ceil(q * count)th
  /// smallest value, kept within [min_us, max_us]; q = 1 is max_us exactly. 0 when empty.
  std::int64_t percentile_us(double q) const noexcept;
  /// Values recorded that are <= us, never more: a bucket counts only when all of it is
  /// <= us, so values within one bucket width (0.78 %) below `us` may be left out
  /// (Prometheus `le` buckets are derived with this).
  std::uint64_t count_at_or_below(std::int64_t us) const noexcept;

  /// The bucket layout, for the summary's sparse dump: bucket i holds [lower, upper).
  static constexpr std::size_t bucket_count() noexcept { return buckets_; }
  static std::size_t bucket_of(std::int64_t us) noexcept;
  static std::int64_t bucket_lower_us(std::size_t i) noexcept;
  static std::int64_t bucket_upper_us(std::size_t i) noexcept;
  std::uint64_t count_in(std::size_t i) const noexcept { return counts_[i]; }

 private:
  static constexpr int sub_bucket_bits_ = 7;  // 128 sub-buckets per power of two
  // 256 exact buckets, 128 for each shift 1..23, and at shift 24 up to the one holding
  // max_trackable_us (3.6e9 >> 24 = 214, sub-bucket 86): checked in the .cpp.
  static constexpr std::size_t buckets_ = 256 + 23 * 128 + 87;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t min_us_ = 0;
  std::int64_t max_us_ = 0;
  double sum_us_ = 0;
  std::uint64_t negative_ = 0;
  std::uint64_t clamped_ = 0;
};

}  // namespace factorysim::ingest
