#include "sim/engine.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "machines/calendar.hpp"

namespace factorysim::sim {

using machines::sim_time;
using scenarios::time_mode;
using std::chrono::milliseconds;

std::string_view to_string(run_state s) noexcept {
  switch (s) {
    case run_state::created: return "created";
    case run_state::running: return "running";
    case run_state::paused: return "paused";
    case run_state::stopping: return "stopping";
    case run_state::stopped: return "stopped";
  }
  return "unknown";
}

namespace {

constexpr milliseconds min_interval{10};

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

sim_time default_utc_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

/// Fixes the simulated start: realtime = now; accelerated = from or now (whole second);
/// backfill = from (required). Writes it to s.from so that faults given as `after` an offset
/// from the start land where the run really starts.
scenarios::scenario prepare(scenarios::scenario s, const engine_options& o) {
  const sim_time now = o.utc_now ? o.utc_now() : default_utc_now();
  switch (s.mode) {
    case time_mode::realtime:
      s.from = now;
      break;
    case time_mode::accelerated:
      if (!s.from) s.from = std::chrono::floor<std::chrono::seconds>(now);
      if (!(s.speed > 0)) throw std::invalid_argument("speed must be > 0");
      break;
    case time_mode::backfill:
      if (!s.from) throw std::invalid_argument("backfill needs a start time (--from or time.from)");
      if (!s.to) s.to = std::chrono::floor<std::chrono::seconds>(now);
      break;
  }
  if (s.to && *s.to <= *s.from)
    throw std::invalid_argument("the end time (--to) must be after the start time");
  return s;
}

}  // namespace

engine::engine(boost::asio::io_context& io, scenarios::scenario s, message_sink& sink,
               engine_options options)
    : io_(io),
      scenario_(prepare(std::move(s), options)),
      sink_(sink),
      options_(std::move(options)),
      plant_(scenario_),
      pacer_(scenario_.mode, scenario_.speed, *scenario_.from, pacer::wall_clock::now()),
      timer_(io) {
  sim_start_ = *scenario_.from;
  cursor_ = sim_start_;
  stamp_ = scenario_.mqtt.stamp_send_time;
  pacer_ = pacer(scenario_.mode, scenario_.speed, sim_start_, wall_now());
  states_.resize(plant_.size());
  clocks_.reserve(scenario_.factories.size());
  for (const auto& f : scenario_.factories) clocks_.emplace_back(f.timezone);
  for (std::size_t i = 0; i < plant_.size(); ++i) {
    const auto& cfg = plant_.machine_at(i).config();
    scheduler_.add(i, sim_start_, std::max(cfg.interval, min_interval));
    for (std::size_t f = 0; f < scenario_.factories.size(); ++f)
      if (scenario_.factories[f].id == cfg.factory_id) states_[i].factory = static_cast<std::uint32_t>(f);
  }
  // The plant keeps its own copy of every machine's config; the scenario's list would only
  // double the memory per machine.
  scenario_.machines.clear();
  scenario_.machines.shrink_to_fit();
  topic_.reserve(256);
  payload_.reserve(1024);
  sink_.on_ready([this] { sink_ready(); });
  sink_.on_fatal([this](const std::string& why) {
    // Retrying cannot help (bad credentials, not authorized): stop instead of stepping into
    // a window that never drains and reporting the messages as published.
    fatal_ = why;
    report("MQTT: " + why + "; stopping the run");
    finish();
  });
}

engine::~engine() {
  sink_.on_ready(nullptr);
  sink_.on_fatal(nullptr);
}

pacer::wall_time engine::wall_now() const {
  return options_.wall_now ? options_.wall_now() : pacer::wall_clock::now();
}

sim_time engine::utc_now() const { return options_.utc_now ? options_.utc_now() : default_utc_now(); }

void engine::report(std::string_view what) const {
  if (options_.report) {
    options_.report(what);
  } else {
    std::cerr << "factorysim: " << what << '\n';
  }
}

sim_time engine::sim_now() const {
  if (scenario_.mode == time_mode::backfill) return cursor_;
  return pacer_.sim_at(wall_now());
}

void engine::start() {
  if (state_ != run_state::created) return;
  state_ = run_state::running;
  wall_started_ = wall_now();
  unix_started_us_ = unix_now_us();
  if (scenario_.mode == time_mode::realtime) {
    // Building a big plant takes a while: realtime timestamps are the wall clock at start().
    pacer_ = pacer(time_mode::realtime, 1, utc_now(), wall_started_);
  } else {
    pacer_ = pacer(scenario_.mode, scenario_.speed, sim_start_, wall_started_);
  }
  last_progress_ = wall_started_;
  sink_.start();
  work_posted_ = true;
  boost::asio::post(io_, [this] {
    work_posted_ = false;
    if (scenario_.mode == time_mode::backfill)
      pump();
    else
      run_paced();
  });
}

// ---------------------------------------------------------------------------------------
// Stepping

std::size_t engine::step_due(sim_time sim_now, pacer::wall_time wall, bool by_wall,
                             std::size_t budget, bool& blocked) {
  blocked = false;
  std::size_t steps = 0;
  while (!scheduler_.empty() && steps < budget) {
    const sim_time deadline = scheduler_.next_deadline();
    if (scenario_.to && deadline > *scenario_.to) break;
    const bool due = deadline <= sim_now || (by_wall && pacer_.wall_at(deadline) <= wall);
    if (!due) break;
    const std::size_t i = scheduler_.next_machine();
    if (!sink_.ready(i)) {
      blocked = true;
      break;
    }
    step_machine(i, deadline);
    // Late by more than one interval: count it, never shift it (the reading keeps its
    // deadline timestamp). Backfill has no wall deadlines, so it never overruns.
    if (scenario_.mode != time_mode::backfill && sim_now - deadline > scheduler_.interval_of(i)) {
      ++states_[i].overruns;
      ++overruns_;
    }
    scheduler_.advance_next();
    ++steps;
  }
  return steps;
}

namespace {
bool at_end(const scheduler& s, const std::optional<sim_time>& to) {
  return s.empty() || (to && s.next_deadline() > *to);
}
}  // namespace

void engine::pump() {
  if (state_ != run_state::running) return;
  bool blocked = false;
  // The budget counts steps; a step is 3-5 messages, so this yields every few hundred.
  step_due(sim_time::max(), {}, false, options_.yield_every, blocked);
  if (options_.progress) print_progress(false);
  if (at_end(scheduler_, scenario_.to)) {
    finished_by_end_ = true;
    finish();
    return;
  }
  if (blocked) {
    waiting_ready_ = true;  // sink_ready() continues
    return;
  }
  work_posted_ = true;
  boost::asio::post(io_, [this] {
    work_posted_ = false;
    pump();
  });
}

void engine::run_paced() {
  if (state_ != run_state::running) return;
  const auto wall = wall_now();
  const sim_time now = pacer_.sim_at(wall);
  bool blocked = false;
  const std::size_t steps = step_due(now, wall, true, options_.yield_every, blocked);
  if (options_.progress) print_progress(false);
  if (scenario_.to && at_end(scheduler_, scenario_.to)) {
    finished_by_end_ = true;
    finish();
    return;
  }
  if (blocked) {
    waiting_ready_ = true;
    return;
  }
  if (steps == options_.yield_every) {
    // More is due (catching up): let socket I/O run first.
    work_posted_ = true;
    boost::asio::post(io_, [this] {
      work_posted_ = false;
      run_paced();
    });
    return;
  }
  arm_timer();
}

void engine::arm_timer() {
  if (scheduler_.empty() || state_ != run_state::running) return;
  timer_.expires_at(pacer_.wall_at(scheduler_.next_deadline()));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;  // re-armed or shutting down
    if (ec) {
      report("timer: " + ec.message());
      return;
    }
    run_paced();
  });
}

void engine::sink_ready() {
  if (!waiting_ready_ || state_ != run_state::running || work_posted_) return;
  waiting_ready_ = false;
  work_posted_ = true;
  boost::asio::post(io_, [this] {
    work_posted_ = false;
    if (scenario_.mode == time_mode::backfill)
      pump();
    else
      run_paced();
  });
}

std::size_t engine::advance_to(sim_time t) {
  if (state_ != run_state::running && state_ != run_state::created) return 0;
  bool blocked = false;
  std::size_t total = 0;
  for (;;) {
    const std::size_t n = step_due(t, {}, false, 1 << 20, blocked);
    total += n;
    if (n == 0 || blocked) break;
  }
  return total;
}

std::string_view engine::shift_name(std::size_t index, sim_time t) {
  const auto& factory = scenario_.factories[states_[index].factory];
  if (factory.calendar.shifts.empty()) return {};
  const machines::schedule_point p =
      machines::schedule_at(factory.calendar, clocks_[states_[index].factory].at(t));
  if (p.shift_index < 0 || static_cast<std::size_t>(p.shift_index) >= factory.calendar.shifts.size())
    return {};
  return factory.calendar.shifts[static_cast<std::size_t>(p.shift_index)].name;
}

void engine::publish(std::size_t index, stream s, bool retain) {
  const auto& cfg = plant_.machine_at(index).config();
  topic_.assign(cfg.topic);
  topic_.append(topic_suffix(s));
  sink_.publish(index, topic_, payload_, retain);
  ++published_[static_cast<std::size_t>(s)];
}

void engine::publish_status(std::size_t index, sim_time t, bool running,
                            machines::operating_mode mode, double power_kw) {
  machine_state& ms = states_[index];
  const auto& m = plant_.machine_at(index);
  auto& seq = ms.seq[static_cast<std::size_t>(stream::status)];
  status_fields f;
  f.is_running = running;
  f.mode = mode;
  f.current_power_kw = power_kw;
  f.energy_total_kwh = m.energy_total_kwh();
  write_status(payload_, {m.config().id, t, ++seq}, f);
  publish(index, stream::status, scenario_.mqtt.retain_status);
  ms.has_status = true;
  ms.status_running = running;
  ms.status_mode = mode;
}

void engine::stamp_schedule(sim_time deadline) {
  if (scenario_.mode == time_mode::backfill) {
    // No timeline to keep: the schedule is when the engine hands the step over.
    sink_.set_scheduled_send_us(unix_now_us());
    return;
  }
  // The pacer's wall instant for this deadline, not "now": a late step (the engine or the
  // window behind) keeps its due time, so latency measured from it has no coordinated
  // omission.
  const auto due = pacer_.wall_at(deadline) - wall_started_;
  sink_.set_scheduled_send_us(unix_started_us_ +
                              std::chrono::duration_cast<std::chrono::microseconds>(due).count());
}

void engine::step_machine(std::size_t index, sim_time deadline) {
  machine_state& ms = states_[index];
  if (stamp_) stamp_schedule(deadline);
  events_.clear();
  health_events_.clear();
  const machines::reading r = plant_.step(index, deadline, events_, health_events_);
  ++steps_;
  if (deadline > cursor_) cursor_ = deadline;
  ms.last = r;
  ms.last.time = deadline;
  ms.has_reading = true;
  ms.production_total += r.production.production_count;
  ms.production_good_total += r.production.production_count_good;
  ms.production_bad_total += r.production.production_count_bad;

  const auto& m = plant_.machine_at(index);
  const std::string_view id = m.config().id;
  auto next_seq = [&](stream s) { return ++ms.seq[static_cast<std::size_t>(s)]; };

  // Ground truth first: a fault that starts in this interval is announced before the readings
  // it distorts. Events go out even for a stopped machine (a fault may end while it is off).
  for (const auto& e : events_) {
    write_event(payload_, {id, e.at, next_seq(stream::events)}, e);
    publish(index, stream::events, false);
  }
  for (const auto& e : health_events_) {
    write_health_event(payload_, {id, e.at, next_seq(stream::events)}, e);
    publish(index, stream::events, false);
  }
  if (!m.enabled()) return;
  if (!r.energy_dropped) {
    write_energy(payload_, {id, deadline, next_seq(stream::energy)}, r.energy);
    publish(index, stream::energy, false);
  }
  if (!r.production_dropped) {
    write_production(payload_, {id, deadline, next_seq(stream::production)}, r.production,
                     shift_name(index, deadline));
    publish(index, stream::production, false);
  }
  if (!r.environmental_dropped) {
    write_environmental(payload_, {id, deadline, next_seq(stream::environmental)},
                        r.environmental);
    publish(index, stream::environmental, false);
  }
  if (!ms.has_status || ms.status_running != r.is_running || ms.status_mode != r.production.mode)
    publish_status(index, deadline, r.is_running, r.production.mode, r.energy.power_kw);
  if (scenario_.truth) {
    // Ground truth on its own topic, never mixed into the measurement streams, and published
    // even when a dropout silences them.
    const auto active = plant_.faults_at(index).active();
    faulted_signals_.clear();
    for (const auto& f : active) {
      if (f.start >= deadline) continue;
      for (auto& k : machines::affected_signals(f.type, m.config().type, f.signal, f.severity))
        if (std::find(faulted_signals_.begin(), faulted_signals_.end(), k) ==
            faulted_signals_.end())
          faulted_signals_.push_back(std::move(k));
    }
    write_truth(payload_, {id, deadline, next_seq(stream::truth)}, m.truth(), active,
                faulted_signals_, r.stop);
    publish(index, stream::truth, false);
  }
}

// ---------------------------------------------------------------------------------------
// Stop

void engine::request_stop() {
  if (state_ == run_state::stopping || state_ == run_state::stopped) return;
  finish();
}

void engine::finish() {
  if (state_ == run_state::stopping || state_ == run_state::stopped) return;
  const bool started = state_ != run_state::created;
  state_ = run_state::stopping;
  timer_.cancel();
  if (options_.progress) print_progress(true);
  if (!started) {
    state_ = run_state::stopped;
    boost::asio::post(io_, [this] {
      if (on_finished_) on_finished_(true);
    });
    return;
  }
  // Final status: every machine that said anything goes offline (retained), stamped with the
  // simulated instant the run ended at.
  sim_time t = finished_by_end_ && scenario_.to ? *scenario_.to : sim_now();
  if (scenario_.to && t > *scenario_.to) t = *scenario_.to;
  if (stamp_) sink_.set_scheduled_send_us(unix_now_us());  // the final statuses: due now
  for (std::size_t i = 0; i < states_.size(); ++i) {
    const machine_state& ms = states_[i];
    if (ms.has_status && !ms.status_running && ms.status_mode == machines::operating_mode::offline)
      continue;  // already says offline
    publish_status(i, std::max(t, ms.last.time), false, machines::operating_mode::offline, 0.0);
  }
  sink_.async_shutdown(options_.shutdown_timeout, [this](bool ok) {
    state_ = run_state::stopped;
    if (!ok) report("not every message could be delivered before the shutdown timeout");
    const sink_counters c = sink_.counters();
    const bool good = ok && fatal_.empty() && c.publish_errors == 0 && c.rejected == 0;
    // Always from the loop, never from inside request_stop(): a caller (a signal handler, an
    // HTTP handler) finishes its own work before the run is declared over.
    boost::asio::post(io_, [this, good] {
      if (on_finished_) on_finished_(good);
    });
  });
}

void engine::print_progress(bool final_line) {
  if (scenario_.mode != time_mode::backfill) return;
  const auto now = wall_now();
  if (!final_line && now - last_progress_ < milliseconds(500)) return;
  last_progress_ = now;
  const engine_status st = status();
  std::uint64_t messages = 0;
  for (auto n : st.published) messages += n;
  const double elapsed_s = std::chrono::duration<double>(now - wall_started_).count();
  const double rate = elapsed_s > 0 ? static_cast<double>(messages) / elapsed_s : 0;
  const double eta_s = st.progress > 0 ? elapsed_s * (1 - st.progress) / st.progress : 0;
  const auto eta = static_cast<long>(eta_s);
  std::fprintf(stderr, "\rbackfill %5.1f%%  %10.0f msg/s  ETA %ld:%02ld:%02ld  ", st.progress * 100,
               rate, eta / 3600, eta / 60 % 60, eta % 60);
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
  progress_shown_ = true;
}

// ---------------------------------------------------------------------------------------
// Control

void engine::pause() {
  if (state_ != run_state::running) throw control_error(control_error::code::conflict, "not running");
  state_ = run_state::paused;
  pacer_.pause(wall_now());
  timer_.cancel();
}

void engine::resume() {
  if (state_ != run_state::paused) throw control_error(control_error::code::conflict, "not paused");
  state_ = run_state::running;
  const auto wall = wall_now();
  pacer_.resume(wall, utc_now());
  if (scenario_.mode == time_mode::realtime) scheduler_.skip_to(pacer_.sim_at(wall));
  waiting_ready_ = false;
  if (!work_posted_) {
    work_posted_ = true;
    boost::asio::post(io_, [this] {
      work_posted_ = false;
      if (scenario_.mode == time_mode::backfill)
        pump();
      else
        run_paced();
    });
  }
}

void engine::set_speed(double speed) {
  if (scenario_.mode != time_mode::accelerated)
    throw control_error(control_error::code::conflict, "speed applies to accelerated mode only");
  if (!(speed > 0) || !(speed <= max_speed))
    throw control_error(control_error::code::invalid_argument, "speed must be within (0, 1e6]");
  pacer_.set_speed(speed, wall_now());
  scenario_.speed = speed;
  if (state_ == run_state::running) {
    timer_.cancel();
    if (!work_posted_) arm_timer();
  }
}

std::size_t engine::machine_index(std::string_view machine_id) const {
  const std::size_t i = plant_.find(machine_id);
  if (i >= plant_.size())
    throw control_error(control_error::code::not_found,
                        "unknown machine " + std::string(machine_id));
  return i;
}

void engine::set_machine_enabled(std::size_t index, bool enabled) {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  auto& m = plant_.machine_at(index);
  if (m.enabled() == enabled) return;
  m.set_enabled(enabled);
  if (!enabled && state_ != run_state::created && state_ != run_state::stopped) {
    const sim_time t = std::max(sim_now(), states_[index].last.time);
    publish_status(index, t, false, machines::operating_mode::offline, 0.0);
  }
}

void engine::set_machine_enabled(std::span<const std::string> machine_ids, bool enabled) {
  std::vector<std::size_t> indices;
  indices.reserve(machine_ids.size());
  for (const auto& id : machine_ids) indices.push_back(machine_index(id));  // all or nothing
  for (std::size_t i : indices) set_machine_enabled(i, enabled);
}

void engine::set_interval(std::size_t index, milliseconds interval) {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  if (interval < min_interval)
    throw control_error(control_error::code::invalid_argument, "interval must be >= 10 ms");
  plant_.set_interval(index, interval);
  scheduler_.set_interval(index, interval);
  if (state_ == run_state::running && scenario_.mode != time_mode::backfill && !work_posted_) {
    timer_.cancel();
    arm_timer();
  }
}

std::uint64_t engine::inject_fault(std::size_t index, machines::fault_type type, double severity,
                                   std::optional<milliseconds> duration, std::string signal) {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  const auto& cfg = plant_.machine_at(index).config();
  if (!machines::fault_applies(type, cfg.type))
    throw control_error(control_error::code::invalid_argument,
                        std::string(machines::to_string(type)) + " does not apply to a " +
                            std::string(machines::to_string(cfg.type)));
  if (!(severity >= 0 && severity <= 1))
    throw control_error(control_error::code::invalid_argument, "severity must be within 0..1");
  if (duration && duration->count() <= 0)
    throw control_error(control_error::code::invalid_argument, "duration must be > 0");
  machines::fault f;
  f.type = type;
  f.severity = severity;
  // Starts within the machine's next interval, whatever the engine's position.
  f.start = std::max(sim_now(), states_[index].last.time);
  if (duration) f.end = f.start + *duration;
  f.signal = std::move(signal);
  f.source = "api";
  return plant_.faults_at(index).add(std::move(f));
}

void engine::clear_fault(std::size_t index, std::uint64_t fault_id) {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  const sim_time t = std::max(sim_now(), states_[index].last.time);
  if (!plant_.faults_at(index).clear(fault_id, t))
    throw control_error(control_error::code::not_found,
                        "no active or pending fault " + std::to_string(fault_id));
}

std::size_t engine::clear_faults(std::size_t index) {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  return plant_.faults_at(index).clear_all(std::max(sim_now(), states_[index].last.time));
}

// ---------------------------------------------------------------------------------------
// Snapshots

engine_status engine::status() const {
  engine_status s;
  s.state = state_;
  s.mode = scenario_.mode;
  s.sim_time = sim_now();
  s.sim_start = sim_start_;
  s.sim_end = scenario_.to;
  s.speed = pacer_.speed();
  if (state_ != run_state::created)
    s.uptime = std::chrono::duration_cast<milliseconds>(wall_now() - wall_started_);
  s.root_seed = scenario_.seed;
  s.machines = plant_.size();
  s.published = published_;
  s.steps = steps_;
  s.overruns = overruns_;
  const sink_counters c = sink_.counters();
  s.publish_errors = c.publish_errors;
  s.acknowledged = c.acknowledged;
  s.rejected = c.rejected;
  s.dropped = c.dropped;
  s.fatal = fatal_;
  s.reconnects = c.reconnects;
  s.sessions = c.sessions;
  s.sessions_connected = c.connected_sessions;
  for (std::size_t i = 0; i < plant_.size(); ++i) {
    if (plant_.machine_at(i).enabled()) ++s.machines_enabled;
    s.active_faults += plant_.faults_at(i).active().size();
  }
  if (scenario_.to) {
    const auto total = (*scenario_.to - sim_start_).count();
    const auto done = (std::min(s.sim_time, *scenario_.to) - sim_start_).count();
    s.progress = total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0) : 1.0;
    if (state_ == run_state::stopped && finished_by_end_) s.progress = 1.0;
  }
  return s;
}

machine_status engine::machine(std::size_t index) const {
  if (index >= plant_.size()) throw control_error(control_error::code::not_found, "unknown machine");
  const scenarios::plant& p = plant_;
  const machine_state& ms = states_[index];
  machine_status m;
  m.index = index;
  m.config = &p.machine_at(index).config();
  m.enabled = p.machine_at(index).enabled();
  m.interval = scheduler_.interval_of(index);
  m.next_deadline = scheduler_.deadline_of(index);
  if (ms.has_reading) m.last = ms.last;
  m.published = ms.seq;
  m.overruns = ms.overruns;
  m.production_total = ms.production_total;
  m.production_good_total = ms.production_good_total;
  m.production_bad_total = ms.production_bad_total;
  m.energy_total_kwh = p.machine_at(index).energy_total_kwh();
  const auto active = p.faults_at(index).active();
  m.active_faults.assign(active.begin(), active.end());
  const auto pending = p.faults_at(index).pending();
  m.pending_faults.assign(pending.begin(), pending.end());
  return m;
}

}  // namespace factorysim::sim
