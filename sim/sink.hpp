#pragma once
/// Where the engine's messages go: MQTT sessions (mqtt_sink), a `topic<TAB>payload` file
/// (file_sink) or memory (memory_sink, for tests). The engine asks ready(machine) before a
/// step and then hands over every message of that step; a sink accepts all of them (it keeps
/// the few that do not fit its window until there is room) so that no message is ever lost.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace factorysim::sim {

/// Counters of a sink, summed over its sessions.
struct sink_counters {
  std::uint64_t accepted = 0;        ///< handed to the transport
  std::uint64_t publish_errors = 0;  ///< rejected by the transport (dropped, counted)
  std::uint64_t acknowledged = 0;    ///< taken by the broker (QoS 0: written)
  std::uint64_t rejected = 0;        ///< refused by the broker (MQTT 5 reason code >= 0x80)
  std::uint64_t dropped = 0;         ///< QoS 0 lost with a connection
  std::uint64_t reconnects = 0;
  std::uint64_t connected_sessions = 0;
  std::uint64_t sessions = 0;
};

class message_sink {
 public:
  virtual ~message_sink() = default;

  /// Starts connecting / opens; messages published before that are kept and sent later.
  virtual void start() = 0;
  /// True when the session that carries machine `machine` has room for one more step.
  virtual bool ready(std::size_t machine) const = 0;
  /// In-band timing (`--stamp-send-time`, docs/topics.md): the scheduled send time of the
  /// messages published after this call, in microseconds since the Unix epoch
  /// (CLOCK_REALTIME). The engine calls it only when the scenario asks for stamps; sinks
  /// that cannot carry it keep the default, which ignores it.
  virtual void set_scheduled_send_us(std::int64_t unix_us) { (void)unix_us; }
  /// Takes one message of machine `machine`; never drops it for lack of room.
  virtual void publish(std::size_t machine, std::string_view topic, std::string_view payload,
                       bool retain) = 0;
  /// Called from the loop whenever a session that was not ready becomes ready.
  virtual void on_ready(std::function<void()> callback) = 0;
  /// Flushes and closes every session; done(true) when nothing was left unsent.
  virtual void async_shutdown(std::chrono::milliseconds timeout,
                              std::function<void(bool)> done) = 0;
  virtual sink_counters counters() const = 0;
  /// Called from the loop, once, when the transport can never deliver again (the broker
  /// refused our credentials for good): the run should end with a failure.
  virtual void on_fatal(std::function<void(const std::string&)> callback) { (void)callback; }
};

}  // namespace factorysim::sim
