#include "sim/pacer.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace factorysim::sim {

using scenarios::time_mode;

namespace {

/// double -> int64 without undefined behaviour: out of range saturates, NaN is 0. A plain cast
/// of 1e300 gave INT64_MIN on x86 and sent the simulated clock to year 0 (issue 12).
std::int64_t saturate(double v) noexcept {
  if (std::isnan(v)) return 0;
  if (v >= 0x1p63) return std::numeric_limits<std::int64_t>::max();
  if (v < -0x1p63) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out))
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  return out;
}

}  // namespace

pacer::pacer(time_mode mode, double speed, machines::sim_time sim_start,
             wall_time wall_start) noexcept
    : mode_(mode),
      speed_(mode == time_mode::accelerated && speed > 0 ? speed : 1.0),
      sim_anchor_(sim_start),
      wall_anchor_(wall_start) {}

machines::sim_time pacer::sim_at(wall_time now) const noexcept {
  if (paused_) return paused_at_;
  if (mode_ == time_mode::backfill) return sim_anchor_;
  const double wall_ns = static_cast<double>((now - wall_anchor_).count());
  const std::int64_t sim_ms = saturate(std::floor(wall_ns * speed_ / 1e6));
  return machines::sim_time(
      std::chrono::milliseconds(saturating_add(sim_anchor_.time_since_epoch().count(), sim_ms)));
}

pacer::wall_time pacer::wall_at(machines::sim_time t) const noexcept {
  if (mode_ == time_mode::backfill) return wall_time::min();
  if (paused_) return wall_time::max();
  const double sim_ms = static_cast<double>(t.time_since_epoch().count()) -
                        static_cast<double>(sim_anchor_.time_since_epoch().count());
  const std::int64_t wall_ns = saturate(std::ceil(sim_ms * 1e6 / speed_));
  return wall_time(
      std::chrono::nanoseconds(saturating_add(wall_anchor_.time_since_epoch().count(), wall_ns)));
}

void pacer::set_speed(double speed, wall_time now) noexcept {
  if (!(speed > 0)) return;
  if (!paused_) {
    sim_anchor_ = sim_at(now);
    wall_anchor_ = now;
  }
  speed_ = speed;
}

void pacer::pause(wall_time now) noexcept {
  if (paused_) return;
  paused_at_ = sim_at(now);
  paused_ = true;
}

void pacer::resume(wall_time now, machines::sim_time wall_now_sim) noexcept {
  if (!paused_) return;
  paused_ = false;
  sim_anchor_ = mode_ == time_mode::realtime ? wall_now_sim : paused_at_;
  wall_anchor_ = now;
}

}  // namespace factorysim::sim
