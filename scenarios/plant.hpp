#pragma once
/// A scenario brought to life: every machine with its fault book and its factory's clock,
/// calendar and climate. Steps one machine at a time at a simulated instant; knows nothing of
/// wall time, MQTT or databases, so the simulator and the load generator share it.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "machines/fault_book.hpp"
#include "machines/machine.hpp"
#include "scenarios/local_clock.hpp"
#include "scenarios/scenario.hpp"

namespace factorysim::scenarios {

class plant {
 public:
  /// Builds machines seeded from s.seed, loads the scenario's scheduled and random faults.
  /// Throws std::invalid_argument for dangling references that load_scenario would have
  /// rejected, and std::runtime_error for an unknown time zone.
  explicit plant(const scenario& s);

  std::size_t size() const noexcept { return machines_.size(); }
  machines::machine& machine_at(std::size_t i) { return machines_[i]; }
  const machines::machine& machine_at(std::size_t i) const { return machines_[i]; }
  machines::fault_book& faults_at(std::size_t i) { return faults_[i]; }
  const machines::fault_book& faults_at(std::size_t i) const { return faults_[i]; }
  /// Machine i steps every `interval` from now on (the engine's control API).
  void set_interval(std::size_t i, std::chrono::milliseconds interval) {
    machines_[i].set_interval(interval);
  }
  /// Index of the machine with this id, or size() if none.
  std::size_t find(std::string_view machine_id) const noexcept;

  /// Steps machine i to time t, covering [t - interval, t). Appends the fault starts and
  /// ends that happened up to t to `events`.
  machines::reading step(std::size_t i, machines::sim_time t,
                         std::vector<machines::fault_event>& events);
  /// Same, also appending the failures and maintenance events of the step to `health`.
  machines::reading step(std::size_t i, machines::sim_time t,
                         std::vector<machines::fault_event>& events,
                         std::vector<machines::health_event>& health);

 private:
  std::vector<machines::machine> machines_;
  std::vector<machines::fault_book> faults_;
  std::vector<std::size_t> factory_of_;         ///< machine index -> factory index
  std::vector<local_clock> clocks_;             ///< per factory
  std::vector<machines::calendar> calendars_;   ///< per factory
  std::vector<machines::climate> climates_;     ///< per factory
  std::vector<std::uint64_t> climate_seeds_;    ///< per factory
  std::vector<std::uint64_t> voltage_seeds_;    ///< per factory: its supply voltage
  std::vector<std::uint64_t> frequency_seeds_;  ///< per factory: its grid's frequency
  /// Local time, calendar and weather of a factory at one instant. Machines of a factory step
  /// at the same aligned deadlines, so all but the first of them reuse it (pure functions of
  /// the instant: reuse changes no reading).
  struct factory_instant {
    machines::sim_time time{};
    bool valid = false;
    machines::local_time local;
    machines::schedule_point schedule;
    machines::weather outdoor;
    machines::grid_supply grid;
  };
  std::vector<factory_instant> instants_;  ///< per factory
  /// Transparent hash so that find() looks up a string_view without building a string.
  struct id_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::size_t, id_hash, std::equal_to<>> index_;
};

}  // namespace factorysim::scenarios
