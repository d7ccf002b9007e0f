#include "sim/pacer.hpp"

#include <cmath>

namespace factorysim::sim {

using scenarios::time_mode;

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
  const auto sim_ms = static_cast<std::int64_t>(std::floor(wall_ns * speed_ / 1e6));
  return sim_anchor_ + std::chrono::milliseconds(sim_ms);
}

pacer::wall_time pacer::wall_at(machines::sim_time t) const noexcept {
  if (mode_ == time_mode::backfill) return wall_time::min();
  if (paused_) return wall_time::max();
  const double sim_ms = static_cast<double>((t - sim_anchor_).count());
  const auto wall_ns = static_cast<std::int64_t>(std::ceil(sim_ms * 1e6 / speed_));
  return wall_anchor_ + std::chrono::nanoseconds(wall_ns);
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
