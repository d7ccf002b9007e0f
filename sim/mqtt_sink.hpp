#pragma once
/// MQTT sessions of a run. A last will is per connection, so with at most
/// `sessions_per_machine_limit` machines every machine gets its own session whose will is its
/// offline status on T/status (retained); beyond that a few shared sessions carry the machines
/// (machine i on session i % n) and their will marks `factorysim/<client_id>/status` offline.

#include <boost/asio/io_context.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "machines/types.hpp"
#include "scenarios/scenario.hpp"
#include "sim/publish_client.hpp"
#include "sim/sink.hpp"

namespace factorysim::sim {

/// How machines map onto sessions, decided from the scenario's size.
struct session_layout {
  bool per_machine = true;
  std::size_t sessions = 0;
};
/// per machine when machine_count <= limit, else min(shared, machine_count) shared sessions.
session_layout plan_sessions(std::size_t machine_count, std::size_t per_machine_limit,
                             std::size_t shared_sessions) noexcept;

/// One machine as the sink needs it: its id and base topic (for the last will).
struct sink_machine {
  std::string_view id;
  std::string_view topic;
};

class mqtt_sink final : public message_sink {
 public:
  /// `start_time` stamps the last-will payloads (they are fixed when a session connects).
  /// Throws std::invalid_argument when settings.stamp_send_time cannot be honoured (MQTT
  /// 3.1.1 has no user properties; libmosquitto's client is not wired for them).
  mqtt_sink(boost::asio::io_context& io, const scenarios::mqtt_settings& settings,
            const std::vector<sink_machine>& machines, machines::sim_time start_time);
  ~mqtt_sink() override;

  void start() override;
  bool ready(std::size_t machine) const override;
  void publish(std::size_t machine, std::string_view topic, std::string_view payload,
               bool retain) override;
  void on_ready(std::function<void()> callback) override { on_ready_ = std::move(callback); }
  void set_scheduled_send_us(std::int64_t unix_us) override { scheduled_send_us_ = unix_us; }
  void async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) override;
  sink_counters counters() const override;
  void on_fatal(std::function<void(const std::string&)> callback) override {
    on_fatal_ = std::move(callback);
  }

  const session_layout& layout() const noexcept { return layout_; }

 private:
  struct pending_message {
    std::string topic;
    std::string payload;
    bool retain;
    std::int64_t scheduled_send_us = 0;  ///< stamping: kept until it is really sent
  };
  struct session {
    std::unique_ptr<publish_client> client;
    std::deque<pending_message> pending;  ///< the rest of a step that did not fit the window
    std::string status_topic;             ///< shared sessions: factorysim/<client_id>/status
    std::size_t machines = 0;             ///< how many machines it carries
    bool shutting_down = false;
  };

  session& session_of(std::size_t machine) { return sessions_[machine % sessions_.size()]; }
  const session& session_of(std::size_t machine) const {
    return sessions_[machine % sessions_.size()];
  }
  void drain(session& s);
  /// Hands one message to the client, stamped when the scenario asks for it.
  bool send(session& s, std::string_view topic, std::string_view payload, bool retain,
            std::int64_t scheduled_send_us);

  boost::asio::io_context& io_;
  int qos_;
  session_layout layout_;
  std::vector<session> sessions_;
  std::function<void()> on_ready_;
  std::function<void(const std::string&)> on_fatal_;
  bool fatal_reported_ = false;
  std::uint64_t accepted_ = 0;
  std::uint64_t errors_ = 0;
  machines::sim_time start_time_;
  bool stamp_ = false;
  std::int64_t scheduled_send_us_ = 0;
  std::string properties_;  ///< reused per stamped message
};

}  // namespace factorysim::sim
