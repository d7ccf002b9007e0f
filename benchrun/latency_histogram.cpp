#include "benchrun/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace factorysim::benchrun {

namespace {
constexpr double growth = 1.02;
const double log_growth = std::log(growth);
constexpr double top_us = 1e9;
std::size_t bucket_count() {
  return static_cast<std::size_t>(std::log(top_us) / log_growth) + 2;
}
std::size_t bucket_of(double us) {
  if (us <= 1) return 0;
  const auto i = static_cast<std::size_t>(std::log(us) / log_growth) + 1;
  return std::min(i, bucket_count() - 1);
}
double upper_bound_of(std::size_t i) {
  return std::pow(growth, static_cast<double>(i));
}
}  // namespace

latency_histogram::latency_histogram() : buckets_(bucket_count(), 0) {}

void latency_histogram::record_us(double latency_us) {
  const double us = std::max(0.0, latency_us);
  ++buckets_[bucket_of(us)];
  ++count_;
  sum_us_ += us;
  max_us_ = std::max(max_us_, us);
}

double latency_histogram::mean_us() const noexcept {
  return count_ == 0 ? 0 : sum_us_ / static_cast<double>(count_);
}

std::optional<double> latency_histogram::quantile_us(double q) const {
  if (count_ == 0) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (static_cast<double>(seen) >= rank && seen > 0) return std::min(upper_bound_of(i), max_us_);
  }
  return max_us_;
}

latency_histogram latency_histogram::minus(const latency_histogram& earlier) const {
  latency_histogram d = *this;
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    d.buckets_[i] -= std::min(d.buckets_[i], earlier.buckets_[i]);
  d.count_ = count_ - std::min(count_, earlier.count_);
  d.sum_us_ = sum_us_ - earlier.sum_us_;
  return d;  // max stays the whole run's: a difference cannot know it
}

}  // namespace factorysim::benchrun
