// Fault lifecycle of one machine: pending -> active -> over, each transition reported once.
#include "machines/fault_book.hpp"

#include <algorithm>

namespace factorysim::machines {

fault_book::fault_book(machine_type type, std::uint64_t seed) : type_(type), rng_(seed) {}

std::uint64_t fault_book::add(fault f) {
  if (f.id == 0) f.id = next_id_++;
  next_id_ = std::max(next_id_, f.id + 1);
  const std::uint64_t id = f.id;
  pending_.push_back(std::move(f));
  return id;
}

void fault_book::add_random(random_fault_rate rate) {
  rates_.push_back(std::move(rate));
}

bool fault_book::clear(std::uint64_t id, sim_time now) {
  for (auto& f : active_) {
    if (f.id != id) continue;
    if (f.end && *f.end <= now) return false;
    f.end = now;
    return true;
  }
  // A fault that has not started yet simply never happens: no events.
  auto it =
      std::find_if(pending_.begin(), pending_.end(), [id](const fault& f) { return f.id == id; });
  if (it == pending_.end()) return false;
  pending_.erase(it);
  return true;
}

std::size_t fault_book::clear_all(sim_time now) {
  std::size_t n = pending_.size();
  pending_.clear();
  for (auto& f : active_) {
    if (f.end && *f.end <= now) continue;
    f.end = now;
    ++n;
  }
  return n;
}

void fault_book::advance(sim_time now, double dt_s, std::vector<fault_event>& events) {
  auto emit = [&](fault_event::kind what, sim_time at, const fault& f) {
    events.push_back(
        fault_event{what, at, f, affected_signals(f.type, type_, f.signal, f.severity)});
  };

  // Readings are stamped at the end of their interval [now - dt, now): a fault acts on every
  // interval it overlaps (issue 10), so it starts acting in the step after its start instant
  // and stops in the first step that begins at or after its end.
  const sim_time step_start =
      now - milliseconds(static_cast<std::int64_t>(dt_s * 1000.0 + 0.5));
  for (std::size_t i = 0; i < active_.size();) {
    const fault& f = active_[i];
    if (f.end && *f.end <= step_start) {
      emit(fault_event::kind::end, *f.end, f);
      active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }

  if (!pending_.empty()) {
    // Start in time order, so that events come out sorted.
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const fault& a, const fault& b) { return a.start < b.start; });
    std::size_t started = 0;
    while (started < pending_.size() && pending_[started].start < now) ++started;
    for (std::size_t i = 0; i < started; ++i) {
      fault& f = pending_[i];
      emit(fault_event::kind::start, f.start, f);
      if (f.end && *f.end <= step_start) {
        emit(fault_event::kind::end, *f.end, f);  // over before this interval began
      } else {
        active_.push_back(std::move(f));
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(started));
  }

  // One uniform per rate per step whatever happens, so that the draws stay aligned.
  for (const auto& rate : rates_) {
    const double p = rate.per_day * dt_s / 86400.0;
    if (!rng_.bernoulli(p)) continue;
    fault f;
    f.id = next_id_++;
    f.type = rate.type;
    f.severity = rng_.uniform(rate.severity_min, rate.severity_max);
    const double d_min = static_cast<double>(rate.duration_min.count());
    const double d_max =
        static_cast<double>(std::max(rate.duration_max, rate.duration_min).count());
    f.start = now;
    f.end = now + milliseconds(static_cast<std::int64_t>(rng_.uniform(d_min, d_max)));
    f.signal = rate.signal;
    f.source = "random";
    emit(fault_event::kind::start, f.start, f);
    active_.push_back(std::move(f));
  }
}

}  // namespace factorysim::machines
