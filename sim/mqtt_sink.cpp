#include "sim/mqtt_sink.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <stdexcept>

#include "mqtt/codec.hpp"

#include "sim/payload.hpp"

namespace factorysim::sim {

session_layout plan_sessions(std::size_t machine_count, std::size_t per_machine_limit,
                             std::size_t shared_sessions) noexcept {
  if (machine_count <= per_machine_limit) return {true, std::max<std::size_t>(machine_count, 1)};
  return {false, std::clamp<std::size_t>(shared_sessions, 1, machine_count)};
}

namespace {

void write_session_status(std::string& out, machines::sim_time t, std::string_view client_id,
                          bool online, std::size_t machines) {
  out.clear();
  out += "{\"time\":\"";
  append_time(out, t);
  out += "\",\"client_id\":";
  append_json_string(out, client_id);
  out += online ? ",\"status\":\"online\"" : ",\"status\":\"offline\"";
  out += ",\"machines\":";
  out += std::to_string(machines);
  out += '}';
}

}  // namespace

mqtt_sink::mqtt_sink(boost::asio::io_context& io, const scenarios::mqtt_settings& settings,
                     const std::vector<sink_machine>& machines, machines::sim_time start_time)
    : io_(io),
      qos_(std::clamp(settings.qos, 0, 2)),
      start_time_(start_time),
      stamp_(settings.stamp_send_time) {
  if (stamp_ && settings.protocol_version != 5)
    throw std::invalid_argument(
        "--stamp-send-time needs MQTT 5 (user properties); this run uses MQTT 3.1.1");
  if (stamp_ && settings.client != scenarios::mqtt_client_kind::native)
    throw std::invalid_argument(
        "--stamp-send-time needs the native MQTT client (mqtt.client: native); the "
        "libmosquitto client does not carry user properties here");
  layout_ = plan_sessions(machines.size(),
                          static_cast<std::size_t>(std::max(0, settings.sessions_per_machine_limit)),
                          static_cast<std::size_t>(std::max(1, settings.shared_sessions)));
  sessions_.resize(layout_.sessions);
  const auto carried_by = [&](std::size_t k) {
    return machines.size() / sessions_.size() + (k < machines.size() % sessions_.size() ? 1 : 0);
  };
  const mqtt::publisher_options base = publisher_options_of(settings);
  std::string payload;
  for (std::size_t k = 0; k < sessions_.size(); ++k) {
    mqtt::publisher_options o = base;
    if (layout_.per_machine) {
      o.client_id = settings.client_id + "-" + std::to_string(k);
      if (k < machines.size()) {
        o.will_topic = std::string(machines[k].topic) + std::string(topic_suffix(stream::status));
        status_fields offline;
        offline.mode = machines::operating_mode::offline;
        write_status(payload, {machines[k].id, start_time, 0}, offline);
        o.will_payload = payload;
      }
    } else {
      o.client_id = settings.client_id + "-s" + std::to_string(k);
      sessions_[k].status_topic = "factorysim/" + o.client_id + "/status";
      o.will_topic = sessions_[k].status_topic;
      write_session_status(payload, start_time, o.client_id, false, carried_by(k));
      o.will_payload = payload;
    }
    session& s = sessions_[k];
    s.machines = layout_.per_machine ? 1 : carried_by(k);
    s.client = make_publish_client(io_, settings.client, std::move(o));
    s.client->on_fatal([this](const std::string& why) {
      // Every session shares the credentials: the first refusal speaks for all.
      if (fatal_reported_) return;
      fatal_reported_ = true;
      if (on_fatal_) on_fatal_(why);
    });
    s.client->on_ready([this, &s] {
      drain(s);
      if (s.pending.empty() && s.client->connected() && s.client->ready() && on_ready_) on_ready_();
    });
    if (!layout_.per_machine) {
      write_session_status(payload, start_time, settings.client_id + "-s" + std::to_string(k),
                           true, s.machines);
      s.pending.push_back({s.status_topic, payload, true});
    }
  }
}

mqtt_sink::~mqtt_sink() = default;

void mqtt_sink::start() {
  for (auto& s : sessions_) s.client->start();
  for (auto& s : sessions_) drain(s);
}

bool mqtt_sink::ready(std::size_t machine) const {
  const session& s = session_of(machine);
  // Not while disconnected: QoS 0 would be dropped, and QoS>0 would only pile up in the
  // client; the engine waits (realtime: the missed deadlines then count as overruns).
  return s.pending.empty() && s.client->connected() && s.client->ready();
}

void mqtt_sink::drain(session& s) {
  while (!s.pending.empty() && s.client->connected() && s.client->ready()) {
    pending_message& m = s.pending.front();
    if (send(s, m.topic, m.payload, m.retain, m.scheduled_send_us))
      ++accepted_;
    else
      ++errors_;
    s.pending.pop_front();
  }
}

void mqtt_sink::publish(std::size_t machine, std::string_view topic, std::string_view payload,
                        bool retain) {
  session& s = session_of(machine);
  if (s.pending.empty() && s.client->connected() && s.client->ready()) {
    if (send(s, topic, payload, retain, scheduled_send_us_))
      ++accepted_;
    else
      ++errors_;  // ready() said there was room: a real rejection (e.g. payload too large)
    return;
  }
  // The window filled up in the middle of a step: keep the rest until on_ready (bounded by
  // one step's messages, since the engine does not step a machine whose session is not ready).
  s.pending.push_back({std::string(topic), std::string(payload), retain, scheduled_send_us_});
}

namespace {
void append_us_property(std::string& properties, std::string_view name, std::int64_t us) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, us);
  mqtt::append_user_property(properties, name, std::string_view(digits, r.ptr));
}
}  // namespace

bool mqtt_sink::send(session& s, std::string_view topic, std::string_view payload, bool retain,
                     std::int64_t scheduled_send_us) {
  if (!stamp_) return s.client->publish(topic, payload, qos_, retain);
  // Sent = now, when the client takes it: any wait for the window (the pending queue) shows
  // up as send delay, and latency measured from the scheduled time includes it.
  const std::int64_t sent_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  properties_.clear();
  append_us_property(properties_, "fs-sched-us", scheduled_send_us != 0 ? scheduled_send_us : sent_us);
  append_us_property(properties_, "fs-sent-us", sent_us);
  return s.client->publish_with_properties(topic, payload, qos_, retain, properties_);
}

void mqtt_sink::async_shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
  struct state {
    std::size_t remaining;
    bool ok = true;
    std::function<void(bool)> done;
    boost::asio::steady_timer timer;
  };
  auto st = std::make_shared<state>(state{sessions_.size(), true, std::move(done),
                                          boost::asio::steady_timer(io_, timeout)});
  if (sessions_.empty()) {
    st->done(true);
    return;
  }
  std::string payload;
  auto finish_one = [st](bool ok) {
    st->ok = st->ok && ok;
    if (--st->remaining == 0) {
      st->timer.cancel();
      st->done(st->ok);
    }
  };
  // Pending messages (the tail of a step) go first; then each client flushes its window.
  auto shut = [st, finish_one](session& s) {
    if (s.shutting_down) return;
    s.shutting_down = true;
    const auto left = st->timer.expiry() - boost::asio::steady_timer::clock_type::now();
    const auto left_ms = std::max(std::chrono::milliseconds(0),
                                  std::chrono::duration_cast<std::chrono::milliseconds>(left));
    const bool dropped = !s.pending.empty();
    s.pending.clear();
    s.client->async_shutdown(left_ms, [finish_one, dropped](bool ok) { finish_one(ok && !dropped); });
  };
  st->timer.async_wait([this, shut](const boost::system::error_code& ec) {
    if (ec) return;
    for (auto& s : sessions_)
      if (!s.pending.empty()) shut(s);  // timed out waiting for room
  });
  for (auto& s : sessions_) {
    if (!s.status_topic.empty()) {
      // A clean disconnect sends no will: say offline ourselves.
      std::string_view id = s.status_topic;
      id.remove_prefix(std::string_view("factorysim/").size());
      id.remove_suffix(std::string_view("/status").size());
      const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now());
      write_session_status(payload, now, id, false, s.machines);
      s.pending.push_back({s.status_topic, payload, true});
      drain(s);
    }
    // Refused for good: nothing will ever be sent, waiting for room would only wait out the
    // timeout.
    if (s.pending.empty() || fatal_reported_) {
      shut(s);
    } else {
      s.client->on_ready([this, &s, shut] {
        drain(s);
        if (s.pending.empty()) shut(s);
      });
    }
  }
}

sink_counters mqtt_sink::counters() const {
  sink_counters c;
  c.accepted = accepted_;
  c.publish_errors = errors_;
  c.sessions = sessions_.size();
  for (const auto& s : sessions_) {
    const mqtt::publisher_counters& m = s.client->counters();
    c.publish_errors += m.publish_errors;
    c.acknowledged += m.acknowledged;
    c.rejected += m.rejected;
    c.dropped += m.dropped;
    c.reconnects += m.reconnects;
    if (s.client->connected()) ++c.connected_sessions;
  }
  return c;
}

}  // namespace factorysim::sim
