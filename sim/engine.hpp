#pragma once
/// The simulator's engine: one Boost.Asio io_context, one timer, a min-heap of deadlines
/// (scheduler), a pacer for the time mode and a message_sink. Steps each machine of a plant on
/// its own drift-free interval and publishes its readings, status changes and fault events.
///
/// Every public member runs on the io_context's thread (the loop is single threaded); a control
/// endpoint on the same io_context calls them directly from its handlers. Control calls that
/// name something unknown or invalid throw control_error.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "machines/types.hpp"
#include "scenarios/local_clock.hpp"
#include "scenarios/plant.hpp"
#include "scenarios/scenario.hpp"
#include "sim/pacer.hpp"
#include "sim/payload.hpp"
#include "sim/scheduler.hpp"
#include "sim/sink.hpp"

namespace factorysim::sim {

/// Why a control call was refused; the HTTP layer maps it to 404 / 400 / 409.
class control_error : public std::runtime_error {
 public:
  enum class code : std::uint8_t { not_found, invalid_argument, conflict };
  control_error(code c, const std::string& what) : std::runtime_error(what), code_(c) {}
  code which() const noexcept { return code_; }

 private:
  code code_;
};

enum class run_state : std::uint8_t { created, running, paused, stopping, stopped };
/// "created", "running", "paused", "stopping", "stopped".
std::string_view to_string(run_state s) noexcept;

/// Per stream message counts, indexed by static_cast<std::size_t>(stream).
using stream_counts = std::array<std::uint64_t, stream_count>;

struct engine_options {
  /// Backfill and catch-up: steps between posts back to the io_context so socket I/O runs.
  std::size_t yield_every = 256;
  /// How long the final flush may take before the run counts as failed.
  std::chrono::milliseconds shutdown_timeout{10000};
  /// Backfill progress line (percent, messages/s, ETA) on stderr, ~2 per second.
  bool progress = false;
  /// Where failures inside handlers are reported (one line, no newline); default: stderr.
  std::function<void(std::string_view)> report;
  /// Clocks, replaceable by tests (never sleeping): steady "now" and UTC "now".
  std::function<pacer::wall_time()> wall_now;
  std::function<machines::sim_time()> utc_now;
};

/// Run-wide state and counters: GET /status.
struct engine_status {
  run_state state = run_state::created;
  scenarios::time_mode mode = scenarios::time_mode::realtime;
  machines::sim_time sim_time{};  ///< the simulated clock now
  machines::sim_time sim_start{};
  std::optional<machines::sim_time> sim_end;  ///< --to
  double speed = 1;
  std::chrono::milliseconds uptime{0};  ///< wall time since start()
  std::uint64_t root_seed = 0;
  std::size_t machines = 0;
  std::size_t machines_enabled = 0;
  stream_counts published{};
  std::uint64_t steps = 0;
  std::uint64_t publish_errors = 0;
  std::uint64_t acknowledged = 0;  ///< taken by the broker (QoS 0: written)
  std::uint64_t rejected = 0;      ///< refused by the broker (MQTT 5 reason codes)
  std::uint64_t dropped = 0;       ///< QoS 0 lost with a connection
  std::string fatal;               ///< why the transport gave up for good, if it did
  std::uint64_t overruns = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t sessions = 0;
  std::uint64_t sessions_connected = 0;
  std::size_t active_faults = 0;
  double progress = 0;  ///< backfill (and runs with --to): 0..1
};

/// One machine as seen from outside: GET /machines/{id}.
struct machine_status {
  std::size_t index = 0;
  const machines::machine_config* config = nullptr;  ///< id, factory, type, ratings, topic
  bool enabled = true;
  std::chrono::milliseconds interval{0};
  machines::sim_time next_deadline{};
  std::optional<machines::reading> last;  ///< none before its first step
  stream_counts published{};              ///< equals the last seq of each stream
  std::uint64_t overruns = 0;
  std::int64_t production_total = 0;  ///< sum of production_count since start
  std::int64_t production_good_total = 0;
  std::int64_t production_bad_total = 0;
  double energy_total_kwh = 0;
  std::vector<machines::fault> active_faults;
  std::vector<machines::fault> pending_faults;
};

class engine {
 public:
  /// Builds the plant of `s` (after the caller applied command line overrides to it). The
  /// sink must outlive the engine. Throws std::invalid_argument on an impossible time setup
  /// (backfill without from/to, to <= from, speed <= 0).
  engine(boost::asio::io_context& io, scenarios::scenario s, message_sink& sink,
         engine_options options = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Starts the sink and the stepping; returns at once (the io_context does the work).
  void start();
  /// Called once (posted to the loop) after the final flush; ok = nothing left unsent and no
  /// sink failure.
  void on_finished(std::function<void(bool ok)> done) { on_finished_ = std::move(done); }
  /// Stops stepping, publishes every machine's final status (offline), flushes, closes.
  void request_stop();

  /// Stepping stops; seq continues after resume. Realtime does not back-fill the skipped
  /// intervals (it continues at the next aligned deadline); accelerated and backfill continue
  /// where they stopped. conflict if not running / not paused.
  void pause();
  void resume();
  /// Accelerated mode only (else conflict); speed > 0 (else invalid_argument). No jump.
  void set_speed(double speed);

  /// Index of the machine with this id; throws not_found.
  std::size_t machine_index(std::string_view machine_id) const;
  std::size_t machine_count() const noexcept { return plant_.size(); }
  /// A stopped machine publishes status offline at once and then no readings (its fault
  /// events still go out); starting it again publishes its status at its next step.
  void set_machine_enabled(std::size_t index, bool enabled);
  void set_machine_enabled(std::span<const std::string> machine_ids, bool enabled);
  /// Changes the machine's step interval from its next deadline on (>= 10 ms).
  void set_interval(std::size_t index, std::chrono::milliseconds interval);

  /// Injects a fault starting now (simulated): same path as scheduled faults (fault_book), so
  /// the signals move and T/events carries its start and end. duration none = until cleared.
  /// Returns the fault id. invalid_argument if the type does not apply to the machine, the
  /// severity is outside 0..1 or the duration is not positive.
  std::uint64_t inject_fault(std::size_t index, machines::fault_type type, double severity,
                             std::optional<std::chrono::milliseconds> duration,
                             std::string signal = {});
  /// Ends one fault now (its end event goes out at the next step); not_found if unknown/over.
  void clear_fault(std::size_t index, std::uint64_t fault_id);
  /// Ends every active and pending fault of the machine; returns how many.
  std::size_t clear_faults(std::size_t index);

  engine_status status() const;
  machine_status machine(std::size_t index) const;

  /// The simulated clock now (frozen while paused; backfill: the last stepped deadline).
  machines::sim_time sim_now() const;
  const scenarios::scenario& scenario() const noexcept { return scenario_; }

  /// For tests of the paced modes without a timer: steps every machine whose deadline is at
  /// or before `t` (as if the timer fired when the simulated clock read `t`); returns the
  /// number of steps. Overruns are counted against `t`.
  std::size_t advance_to(machines::sim_time t);

 private:
  struct machine_state {
    machines::reading last{};
    stream_counts seq{};
    std::uint64_t overruns = 0;
    std::int64_t production_total = 0;
    std::int64_t production_good_total = 0;
    std::int64_t production_bad_total = 0;
    std::uint32_t factory = 0;
    bool has_reading = false;
    bool has_status = false;
    bool status_running = false;
    machines::operating_mode status_mode = machines::operating_mode::offline;
  };

  pacer::wall_time wall_now() const;
  machines::sim_time utc_now() const;
  void report(std::string_view what) const;

  void pump();                          // backfill
  void run_paced();                     // realtime / accelerated timer work
  void arm_timer();
  void sink_ready();
  /// Steps due machines; returns false when it must wait (sink full or budget used).
  std::size_t step_due(machines::sim_time sim_now, pacer::wall_time wall, bool by_wall,
                       std::size_t budget, bool& blocked);
  void step_machine(std::size_t index, machines::sim_time deadline);
  /// --stamp-send-time: tells the sink when the messages of a step at `deadline` were due.
  void stamp_schedule(machines::sim_time deadline);
  void publish(std::size_t index, stream s, bool retain);
  void publish_status(std::size_t index, machines::sim_time t, bool running,
                      machines::operating_mode mode, double power_kw);
  void finish();
  void print_progress(bool final_line);
  std::string_view shift_name(std::size_t index, machines::sim_time t);

  boost::asio::io_context& io_;
  scenarios::scenario scenario_;
  message_sink& sink_;
  engine_options options_;
  scenarios::plant plant_;
  scheduler scheduler_;
  pacer pacer_;
  boost::asio::steady_timer timer_;
  std::vector<machine_state> states_;
  std::vector<scenarios::local_clock> clocks_;  ///< per factory, for the shift name
  std::vector<machines::fault_event> events_;   ///< reused per step
  std::vector<machines::health_event> health_events_;  ///< reused per step
  std::vector<std::string> faulted_signals_;           ///< reused per truth message
  std::string topic_;                           ///< reused per message
  std::string payload_;                         ///< reused per message

  run_state state_ = run_state::created;
  machines::sim_time sim_start_{};
  machines::sim_time cursor_{};  ///< latest deadline stepped
  pacer::wall_time wall_started_{};
  /// CLOCK_REALTIME (µs) at wall_started_: maps the pacer's steady wall instants to the
  /// Unix time that fs-sched-us carries.
  std::int64_t unix_started_us_ = 0;
  bool stamp_ = false;
  stream_counts published_{};
  std::uint64_t steps_ = 0;
  std::uint64_t overruns_ = 0;
  bool waiting_ready_ = false;
  bool work_posted_ = false;
  bool finished_by_end_ = false;
  std::string fatal_;  ///< the transport can never deliver again (e.g. "not authorized")
  std::function<void(bool)> on_finished_;

  // progress line
  pacer::wall_time last_progress_{};
  bool progress_shown_ = false;
};

}  // namespace factorysim::sim
