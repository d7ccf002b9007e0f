#pragma once
/// Reconnect pacing shared by every client role: start at `min`, double per failed attempt,
/// cap at `max`. A connection only resets it once it has lasted `max`: a peer that drops us
/// at once (a second client with our id, a packet it refuses, a database that fails every
/// statement) must not turn into a reconnect storm.
#include <algorithm>
#include <chrono>

namespace factorysim::mqtt {

/// Exponential backoff; a plain value, no clock of its own (the caller passes times).
class backoff {
 public:
  using duration = std::chrono::milliseconds;
  backoff(duration min, duration max) noexcept
      : min_(std::max(min, duration(1))), max_(std::max(max, min_)), next_(min_) {}

  /// The wait before the next attempt; doubles the one after it.
  duration next() noexcept {
    const duration d = next_;
    next_ = std::min(next_ * 2, max_);
    return d;
  }
  /// The wait next() would return, without consuming it.
  duration peek() const noexcept { return next_; }
  /// Back to `min`.
  void reset() noexcept { next_ = min_; }
  /// A connection (or a working database) that lasted `lasted`: resets only when it lasted at
  /// least `max`.
  void lasted(duration lasted) noexcept {
    if (lasted >= max_) reset();
  }
  duration min() const noexcept { return min_; }
  duration max() const noexcept { return max_; }

 private:
  duration min_;
  duration max_;
  duration next_;
};

}  // namespace factorysim::mqtt
