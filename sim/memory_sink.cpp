#include "sim/memory_sink.hpp"

namespace factorysim::sim {

void memory_sink::publish(std::size_t machine, std::string_view topic, std::string_view payload,
                          bool retain) {
  messages_.push_back(
      {machine, std::string(topic), std::string(payload), retain, scheduled_send_us_});
  ++accepted_;
}

sink_counters memory_sink::counters() const {
  sink_counters c;
  c.accepted = accepted_;
  c.sessions = 1;
  c.connected_sessions = shut_down_ ? 0 : 1;
  return c;
}

std::vector<memory_message> memory_sink::take() {
  const bool was_full = !ready(0);
  std::vector<memory_message> out;
  out.swap(messages_);
  if (was_full && on_ready_) on_ready_();
  return out;
}

}  // namespace factorysim::sim
