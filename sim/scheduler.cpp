#include "sim/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace factorysim::sim {

namespace {

/// The first multiple of `interval` since the epoch strictly after `t`.
machines::sim_time aligned_after(machines::sim_time t, std::chrono::milliseconds interval) {
  const auto iv = interval.count();
  const auto ms = t.time_since_epoch().count();
  auto q = ms / iv;
  if (q * iv > ms) --q;  // floor for negative times
  return machines::sim_time{std::chrono::milliseconds{(q + 1) * iv}};
}

}  // namespace

void scheduler::add(std::size_t index, machines::sim_time start,
                    std::chrono::milliseconds interval) {
  if (index != slots_.size()) throw std::logic_error("scheduler::add: indices must be dense");
  if (interval.count() <= 0) throw std::invalid_argument("scheduler::add: interval must be > 0");
  const machines::sim_time first = aligned_after(start, interval);
  slots_.push_back({first - interval, 1, interval});
  heap_.push_back({first, static_cast<std::uint32_t>(index)});
  std::push_heap(heap_.begin(), heap_.end(), later{});
}

machines::sim_time scheduler::deadline_of(std::size_t index) const noexcept {
  const slot& s = slots_[index];
  return s.anchor + s.interval * static_cast<std::int64_t>(s.n);
}

void scheduler::drop_stale() {
  while (!heap_.empty() && heap_.front().deadline != deadline_of(heap_.front().index)) {
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    heap_.pop_back();
  }
}

void scheduler::advance_next() {
  const std::uint32_t index = heap_.front().index;
  std::pop_heap(heap_.begin(), heap_.end(), later{});
  slot& s = slots_[index];
  ++s.n;
  heap_.back() = {deadline_of(index), index};
  std::push_heap(heap_.begin(), heap_.end(), later{});
  drop_stale();
}

void scheduler::set_interval(std::size_t index, std::chrono::milliseconds interval) {
  if (interval.count() <= 0) throw std::invalid_argument("interval must be > 0");
  slot& s = slots_[index];
  const machines::sim_time last = deadline_of(index) - s.interval;
  s.anchor = last;
  s.n = 1;
  s.interval = interval;
  // The old entry goes stale (its deadline no longer matches) and is dropped when it surfaces.
  heap_.push_back({deadline_of(index), static_cast<std::uint32_t>(index)});
  std::push_heap(heap_.begin(), heap_.end(), later{});
  drop_stale();
}

void scheduler::skip_to(machines::sim_time now) {
  heap_.clear();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot& s = slots_[i];
    if (deadline_of(i) <= now) {
      const machines::sim_time next = aligned_after(now, s.interval);
      s.anchor = next - s.interval;
      s.n = 1;
    }
    heap_.push_back({deadline_of(i), static_cast<std::uint32_t>(i)});
  }
  std::make_heap(heap_.begin(), heap_.end(), later{});
}

}  // namespace factorysim::sim
