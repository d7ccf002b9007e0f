#include "ingest/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace factorysim::ingest {

latency_histogram::latency_histogram() : counts_(buckets_, 0) {
  static_assert(buckets_ == 256 + 23 * 128 + ((max_trackable_us >> 24) - 128) + 1);
}

std::size_t latency_histogram::bucket_of(std::int64_t us) noexcept {
  if (us < exact_below_us) return static_cast<std::size_t>(std::max<std::int64_t>(us, 0));
  const auto v = static_cast<std::uint64_t>(std::min(us, max_trackable_us));
  // Shift so that the top 8 bits remain: v >> shift is in [128, 256).
  const int shift = static_cast<int>(std::bit_width(v)) - (sub_bucket_bits_ + 1);
  const auto sub = static_cast<std::size_t>(v >> shift) - (std::size_t{1} << sub_bucket_bits_);
  return 256 + static_cast<std::size_t>(shift - 1) * 128 + sub;
}

std::int64_t latency_histogram::bucket_lower_us(std::size_t i) noexcept {
  if (i < 256) return static_cast<std::int64_t>(i);
  const std::size_t shift = (i - 256) / 128 + 1;
  const std::size_t sub = (i - 256) % 128 + 128;
  return static_cast<std::int64_t>(sub << shift);
}

std::int64_t latency_histogram::bucket_upper_us(std::size_t i) noexcept {
  if (i < 256) return static_cast<std::int64_t>(i) + 1;
  const std::size_t shift = (i - 256) / 128 + 1;
  return bucket_lower_us(i) + (std::int64_t{1} << shift);
}

void latency_histogram::record(std::int64_t us) noexcept {
  if (us < 0) {
    ++negative_;
    us = 0;
  } else if (us > max_trackable_us) {
    ++clamped_;
    us = max_trackable_us;
  }
  ++counts_[bucket_of(us)];
  if (count_ == 0 || us < min_us_) min_us_ = us;
  if (count_ == 0 || us > max_us_) max_us_ = us;
  ++count_;
  sum_us_ += static_cast<double>(us);
}

void latency_histogram::merge(const latency_histogram& o) noexcept {
  if (o.count_ == 0) return;
  for (std::size_t i = 0; i < buckets_; ++i) counts_[i] += o.counts_[i];
  min_us_ = count_ ? std::min(min_us_, o.min_us_) : o.min_us_;
  max_us_ = count_ ? std::max(max_us_, o.max_us_) : o.max_us_;
  count_ += o.count_;
  sum_us_ += o.sum_us_;
  negative_ += o.negative_;
  clamped_ += o.clamped_;
}

void latency_histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_us_ = max_us_ = 0;
  sum_us_ = 0;
  negative_ = clamped_ = 0;
}

double latency_histogram::mean_us() const noexcept {
  return count_ ? sum_us_ / static_cast<double>(count_) : 0.0;
}

std::int64_t latency_histogram::percentile_us(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  if (rank >= count_) return max_us_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // Exact buckets are one value wide: their lower bound is the value.
      const std::int64_t mid =
          i < 256 ? bucket_lower_us(i) : (bucket_lower_us(i) + bucket_upper_us(i) - 1) / 2;
      return std::clamp(mid, min_us_, max_us_);
    }
  }
  return max_us_;
}

std::uint64_t latency_histogram::count_at_or_below(std::int64_t us) const noexcept {
  if (us < 0) return 0;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < buckets_; ++i) {
    if (bucket_upper_us(i) > us + 1) break;
    n += counts_[i];
  }
  return n;
}

}  // namespace factorysim::ingest
