#pragma once
/// Which machine steps next: a min-heap of (deadline, machine index) over simulated time.
/// Deadlines are anchor + n x interval (drift-free: never "now + interval"), aligned to
/// multiples of the interval since the Unix epoch. Pure: no clock, no I/O.

#include <chrono>
#include <cstdint>
#include <vector>

#include "machines/types.hpp"

namespace factorysim::sim {

class scheduler {
 public:
  /// Registers machine `index` (indices are dense, 0..n-1, added in order); its first deadline
  /// is the first multiple of `interval` (since the epoch) strictly after `start`.
  void add(std::size_t index, machines::sim_time start, std::chrono::milliseconds interval);

  bool empty() const noexcept { return heap_.empty(); }
  /// Earliest deadline and its machine; ties go to the lower index (deterministic order).
  machines::sim_time next_deadline() const noexcept { return heap_.front().deadline; }
  std::size_t next_machine() const noexcept { return heap_.front().index; }
  /// Moves the earliest machine on to its following deadline.
  void advance_next();

  /// The deadline machine `index` is waiting for.
  machines::sim_time deadline_of(std::size_t index) const noexcept;
  std::chrono::milliseconds interval_of(std::size_t index) const noexcept {
    return slots_[index].interval;
  }
  /// Number of deadlines machine `index` has passed since it was (re)anchored.
  std::uint64_t steps_of(std::size_t index) const noexcept { return slots_[index].n - 1; }

  /// From now on machine `index` steps every `interval`, counted from its last deadline (so
  /// consecutive readings still cover adjacent intervals).
  void set_interval(std::size_t index, std::chrono::milliseconds interval);
  /// Drops every deadline at or before `now` without stepping it: each machine continues at
  /// its first aligned deadline after `now` (realtime resume; skipped intervals are not
  /// simulated).
  void skip_to(machines::sim_time now);

 private:
  struct slot {
    machines::sim_time anchor{};
    std::uint64_t n = 1;  ///< the pending deadline is anchor + n x interval
    std::chrono::milliseconds interval{1000};
  };
  struct entry {
    machines::sim_time deadline;
    std::uint32_t index;
  };
  struct later {
    bool operator()(const entry& a, const entry& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.index > b.index;
    }
  };
  void drop_stale();

  std::vector<slot> slots_;
  std::vector<entry> heap_;  ///< may hold stale entries (after set_interval), skipped lazily
};

}  // namespace factorysim::sim
