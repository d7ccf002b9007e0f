// The per-step work is index lookups plus the model: no maps, no strings, no allocation once
// the fault book's vectors have reached their working size.
#include "scenarios/plant.hpp"

#include <stdexcept>

#include "machines/calendar.hpp"
#include "machines/climate.hpp"
#include "machines/grid.hpp"
#include "machines/rng.hpp"

namespace factorysim::scenarios {

plant::plant(const scenario& s) {
  clocks_.reserve(s.factories.size());
  calendars_.reserve(s.factories.size());
  climates_.reserve(s.factories.size());
  climate_seeds_.reserve(s.factories.size());
  voltage_seeds_.reserve(s.factories.size());
  frequency_seeds_.reserve(s.factories.size());
  instants_.resize(s.factories.size());
  std::unordered_map<std::string_view, std::size_t> factory_index;
  for (const auto& f : s.factories) {
    factory_index.emplace(f.id, clocks_.size());
    clocks_.emplace_back(f.timezone);
    calendars_.push_back(f.calendar);
    climates_.push_back(f.climate);
    climate_seeds_.push_back(machines::derive_seed(s.seed, f.id + "/climate"));
    voltage_seeds_.push_back(machines::derive_seed(s.seed, f.id + "/supply-voltage"));
    // Factories on one synchronous grid share its frequency.
    const std::string& grid = !f.grid.empty()            ? f.grid
                              : !f.carbon_region.empty() ? f.carbon_region
                                                         : f.id;
    frequency_seeds_.push_back(machines::derive_seed(s.seed, "grid/" + grid));
  }

  machines_.reserve(s.machines.size());
  faults_.reserve(s.machines.size());
  factory_of_.reserve(s.machines.size());
  index_.reserve(s.machines.size());
  for (const auto& cfg : s.machines) {
    const auto f = factory_index.find(cfg.factory_id.str());
    if (f == factory_index.end())
      throw std::invalid_argument("machine " + cfg.id + " names unknown factory " +
                                  cfg.factory_id.str());
    if (!index_.emplace(cfg.id, machines_.size()).second)
      throw std::invalid_argument("duplicate machine id " + cfg.id);
    factory_of_.push_back(f->second);
    faults_.emplace_back(cfg.type, machines::derive_seed(s.seed, cfg.id + "/faults"));
    machines_.emplace_back(cfg, s.seed);
  }

  for (const auto& sf : s.faults) {
    const std::size_t i = find(sf.machine_id);
    if (i == size()) throw std::invalid_argument("fault names unknown machine " + sf.machine_id);
    machines::fault f = sf.f;
    if (sf.after && s.from) {
      // `after` counts from the run start, which the command line may have moved.
      const auto length = f.end ? std::optional{*f.end - f.start} : std::nullopt;
      f.start = *s.from + *sf.after;
      if (length) f.end = f.start + *length;
    }
    faults_[i].add(std::move(f));
  }
  for (const auto& rf : s.random_faults) {
    const std::size_t i = find(rf.machine_id);
    if (i == size())
      throw std::invalid_argument("random fault names unknown machine " + rf.machine_id);
    faults_[i].add_random(rf.rate);
  }
}

std::size_t plant::find(std::string_view machine_id) const noexcept {
  const auto it = index_.find(machine_id);
  return it == index_.end() ? machines_.size() : it->second;
}

machines::reading plant::step(std::size_t i, machines::sim_time t,
                              std::vector<machines::fault_event>& events) {
  std::vector<machines::health_event> ignored;
  return step(i, t, events, ignored);
}

machines::reading plant::step(std::size_t i, machines::sim_time t,
                              std::vector<machines::fault_event>& events,
                              std::vector<machines::health_event>& health) {
  machines::machine& m = machines_[i];
  const std::size_t f = factory_of_[i];
  machines::step_input in;
  in.time = t;
  in.dt_s = static_cast<double>(m.config().interval.count()) / 1000.0;
  factory_instant& at = instants_[f];
  if (!at.valid || at.time != t) {
    at.time = t;
    at.valid = true;
    at.local = clocks_[f].at(t);
    at.schedule = machines::schedule_at(calendars_[f], at.local);
    at.outdoor = machines::weather_at(climates_[f], climate_seeds_[f], t, at.local);
    at.grid = machines::grid_at(voltage_seeds_[f], frequency_seeds_[f], t, at.local);
  }
  in.local = at.local;
  in.schedule = at.schedule;
  in.outdoor = at.outdoor;
  in.grid = at.grid;
  faults_[i].advance(t, in.dt_s, events);
  in.faults = faults_[i].active();
  return m.step(in, health);
}

}  // namespace factorysim::scenarios
