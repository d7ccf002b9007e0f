#include "ingest/mqtt_subscriber.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace factorysim::ingest {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t initial_buffer_bytes = 256 * 1024;
constexpr std::uint16_t subscribe_packet_id = 1;
/// How long stop() waits for the broker to close the connection after our DISCONNECT.
constexpr std::chrono::milliseconds goodbye_timeout{5000};

std::string errno_text(int e) { return std::strerror(e); }

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

/// Result of waiting on the socket and the wake-up pipe.
enum class wait_result { ready, timeout, woken, failed };

wait_result wait_for(int fd, short events, int wake_fd, int timeout_ms) {
  pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return wait_result::failed;
    if (n == 0) return wait_result::timeout;
    if (fds[1].revents != 0) return wait_result::woken;
    return wait_result::ready;  // POLLERR/POLLHUP show up in the next recv/send
  }
}

/// Sends all of `data` on a non-blocking socket; false (with error) when the connection
/// failed, nothing moved for `timeout`, or stop() was called meanwhile.
bool send_all(int fd, std::string_view data, int wake_fd, milliseconds timeout,
              std::string& error) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a broker that went away is an error to report, not a SIGPIPE.
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto w = wait_for(fd, POLLOUT, wake_fd, static_cast<int>(timeout.count()));
      if (w == wait_result::ready) continue;
      error = w == wait_result::timeout ? "send timed out" : "stopped while sending";
      return false;
    }
    error = std::string("send failed: ") + errno_text(errno);
    return false;
  }
  return true;
}

}  // namespace

mqtt_subscriber::mqtt_subscriber(mqtt_subscriber_options options,
                                 mqtt_subscriber_handlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {
  if (::pipe2(wake_fd_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error("mqtt subscriber: pipe2 failed: " + errno_text(errno));
  ack_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ack_fd_ < 0) {
    const int e = errno;
    ::close(wake_fd_[0]);
    ::close(wake_fd_[1]);
    throw std::runtime_error("mqtt subscriber: eventfd failed: " + errno_text(e));
  }
  in_.resize(initial_buffer_bytes);
}

mqtt_subscriber::~mqtt_subscriber() {
  stop();
  ::close(wake_fd_[0]);
  ::close(wake_fd_[1]);
  ::close(ack_fd_);
}

void mqtt_subscriber::acknowledge_through(std::uint64_t seq) noexcept {
  std::uint64_t current = acked_through_.load();
  do {
    if (current >= seq) return;
  } while (!acked_through_.compare_exchange_weak(current, seq));
  // One wake-up per batch of releases: the subscriber thread drains ack_fd_ before it clears
  // the flag and only then reads acked_through_, so a release racing with it is never missed.
  if (!ack_wake_pending_.exchange(true)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(ack_fd_, &one, sizeof one);
  }
}

void mqtt_subscriber::release_acks(std::string& out) {
  const std::uint64_t through = acked_through_.load();
  while (!pending_.empty() && pending_.front().seq <= through) {
    mqtt::encode_ack(out, pending_.front().type, pending_.front().packet_id);
    pending_.pop_front();
  }
}

void mqtt_subscriber::drop_pending_acks() {
  counters_.dropped_acks += pending_.size();
  pending_.clear();
  counters_.unacknowledged = 0;
}

void mqtt_subscriber::log(const std::string& line) const {
  if (handlers_.on_log) handlers_.on_log(line);
}

void mqtt_subscriber::start() {
  std::string error;
  first_fd_ = connect_once(error);
  if (first_fd_ < 0) throw std::runtime_error(error);
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void mqtt_subscriber::stop() {
  if (!stopping_.exchange(true)) {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  if (first_fd_ >= 0) {
    ::close(first_fd_);
    first_fd_ = -1;
  }
}

int mqtt_subscriber::connect_once(std::string& error) {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  in_begin_ = in_end_ = 0;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(options_.host.c_str(), std::to_string(options_.port).c_str(),
                                &hints, &found);
  if (gai != 0) {
    error = "cannot connect to MQTT broker " + where + ": " + ::gai_strerror(gai);
    return -1;
  }
  const auto deadline = clock::now() + options_.connect_timeout;
  int fd = -1;
  error = "cannot connect to MQTT broker " + where + ": no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      const auto w = wait_for(fd, POLLOUT, wake_fd_[0], remaining_ms(deadline));
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (w == wait_result::ready && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0)
        rc = so_error == 0 ? 0 : (errno = so_error, -1);
      else
        errno = w == wait_result::timeout ? ETIMEDOUT : ECANCELED;
    }
    if (rc != 0) {
      error = "cannot connect to MQTT broker " + where + ": " + errno_text(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;

  // Our writes are already whole batches of acknowledgements; Nagle would only delay them.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  mqtt::connect_options c;
  c.version = options_.version;
  c.client_id = options_.client_id;
  c.clean_start = false;
  c.keepalive_s = static_cast<std::uint16_t>(std::clamp(options_.keepalive_s, 0, 65535));
  c.username = options_.username;
  c.password = options_.password;
  c.session_expiry_s = options_.session_expiry_s;
  c.receive_maximum = options_.receive_maximum;
  std::string out;
  mqtt::encode_connect(out, c);
  std::string send_error;
  if (!send_all(fd, out, wake_fd_[0], options_.connect_timeout, send_error)) {
    error = "MQTT broker " + where + ": CONNECT not sent: " + send_error;
    ::close(fd);
    return -1;
  }
  // Read until CONNACK; what follows it in the same read stays in in_ for serve().
  for (;;) {
    std::size_t used = 0;
    std::optional<mqtt::packet> p;
    try {
      p = mqtt::next_packet(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_), used);
    } catch (const mqtt::protocol_error& e) {
      error = "MQTT broker " + where + ": " + e.what();
      ::close(fd);
      return -1;
    }
    if (p) {
      if (p->type != mqtt::packet_type::connack) {
        error = "MQTT broker " + where + ": expected CONNACK, got packet type " +
                std::to_string(static_cast<int>(p->type));
        ::close(fd);
        return -1;
      }
      mqtt::connack ack;
      try {
        ack = mqtt::parse_connack(*p, options_.version);
      } catch (const mqtt::protocol_error& e) {
        error = "MQTT broker " + where + ": " + e.what();
        ::close(fd);
        return -1;
      }
      in_begin_ += used;
      if (ack.reason != 0) {
        error = "broker " + where + " refused the connection: " +
                mqtt::connack_reason_text(ack.reason, options_.version) +
                (ack.reason_string.empty() ? "" : " (" + ack.reason_string + ")");
        ::close(fd);
        return -1;
      }
      keepalive_s_ = ack.server_keepalive_s ? *ack.server_keepalive_s : c.keepalive_s;
      ++counters_.connects;
      log("connected to " + where + " as " + options_.client_id +
          (ack.session_present ? " (session resumed)" : " (new session)"));
      return fd;
    }
    if (in_end_ == in_.size()) {
      error = "MQTT broker " + where + ": CONNACK too large";
      ::close(fd);
      return -1;
    }
    const auto w = wait_for(fd, POLLIN, wake_fd_[0], remaining_ms(deadline));
    if (w != wait_result::ready) {
      error = "MQTT broker " + where + ": no CONNACK" +
              (w == wait_result::timeout ? " within the connect timeout" : "");
      ::close(fd);
      return -1;
    }
    const ssize_t n = ::recv(fd, in_.data() + in_end_, in_.size() - in_end_, 0);
    if (n > 0) {
      in_end_ += static_cast<std::size_t>(n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      error = "MQTT broker " + where + " closed the connection before CONNACK" +
              (n < 0 ? ": " + errno_text(errno) : std::string());
      ::close(fd);
      return -1;
    }
  }
}

void mqtt_subscriber::run() {
  int fd = first_fd_;
  first_fd_ = -1;
  auto backoff = options_.reconnect_min;
  // Waits before the next attempt and doubles the wait; false when stop() was called.
  const auto pause = [&] {
    const auto w = wait_for(-1, 0, wake_fd_[0], static_cast<int>(backoff.count()));
    backoff = std::min(backoff * 2, options_.reconnect_max);
    return w != wait_result::woken;
  };
  try {
    while (!stopping_) {
      if (fd < 0) {
        std::string error;
        fd = connect_once(error);
        if (fd < 0) {
          if (stopping_) break;
          log(error + "; retrying in " + std::to_string(backoff.count()) + " ms");
          if (!pause()) break;
          continue;
        }
      }
      const auto up_since = clock::now();
      const bool go_on = serve(fd);
      ::close(fd);
      fd = -1;
      // What this connection still owed is not sent on the next one: the broker redelivers
      // those messages there (under new numbers), and the caller's unique keys drop the
      // second copy of whatever it had already stored.
      drop_pending_acks();
      if (!go_on) break;
      // Only a connection that lasted resets the backoff: one the broker ends at once (a
      // second ingestor with our client id, a packet we cannot parse) must not turn into a
      // reconnect storm.
      if (clock::now() - up_since >= options_.reconnect_max) backoff = options_.reconnect_min;
      if (!pause()) break;
    }
  } catch (const std::exception& e) {
    // Nothing acknowledged after the failure: the broker keeps it for the session.
    log(std::string("subscriber stopped: ") + e.what());
  }
  if (fd >= 0) ::close(fd);
  running_ = false;
}

bool mqtt_subscriber::serve(int fd) {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  std::string out;
  std::string error;
  mqtt::encode_subscribe(out, options_.version, subscribe_packet_id, options_.filter, 1);
  if (!send_all(fd, out, wake_fd_[0], options_.connect_timeout, error)) {
    if (stopping_) return false;
    log("SUBSCRIBE not sent to " + where + ": " + error);
    return true;
  }
  auto last_sent = clock::now();
  // A time_point plus a flag rather than an optional: GCC 12 reports a false
  // maybe-uninitialized on optional<time_point> here.
  clock::time_point ping_sent{};
  bool ping_outstanding = false;
  const auto keepalive = std::chrono::seconds(keepalive_s_);
  // Ping after 3/4 of the keepalive without sending: the broker gives up after 1.5 x, and a
  // busy machine may be slow to schedule us.
  const auto ping_after = std::chrono::duration_cast<milliseconds>(keepalive) * 3 / 4;
  const auto stall_limit = std::max<milliseconds>(milliseconds(60'000), 3 * keepalive);
  std::vector<mqtt_message_view> batch;
  std::vector<pending_ack> batch_acks;  ///< seq = index in batch until handed over
  std::string acks;

  // Writes the acknowledgements in `data` (+ whatever else it holds); false when the
  // connection is over.
  const auto send_acks = [&](const std::string& data, std::uint64_t count) {
    // mosquitto 2.0 reads one packet per socket per turn of its event loop, so under load
    // our PUBACKs pile up in the socket buffers and a send can wait seconds for room while
    // the broker still works through them. Giving up early would only make it redeliver
    // (duplicates, and the backlog starts over); only a broker that takes nothing for the
    // stall limit is treated as gone. stop() still interrupts the wait.
    if (!send_all(fd, data, wake_fd_[0], stall_limit, error)) {
      if (!stopping_)
        log("acknowledgements not sent to " + where + ": " + error + "; reconnecting");
      return false;
    }
    counters_.acknowledged += count;
    last_sent = clock::now();
    return true;
  };

  const auto say_goodbye = [&] {
    // What was released before stop() goes out first, in the same write as DISCONNECT.
    std::string bye;
    const auto before = pending_.size();
    release_acks(bye);
    const auto released = before - pending_.size();
    mqtt::encode_disconnect(bye, options_.version);
    std::string ignored;
    // Best effort: the session stays either way; unsent acknowledgements mean redeliveries.
    if (send_all(fd, bye, -1, milliseconds(1000), ignored)) {
      counters_.acknowledged += released;
      // The broker closes the connection once it has read DISCONNECT, so all our PUBACKs
      // before it. Closing first could lose them: mosquitto reads one packet per turn of its
      // loop, and a client that connects with our id meanwhile (the next run) makes it drop
      // the old connection with its unread packets.
      ::shutdown(fd, SHUT_WR);
      const auto deadline = clock::now() + goodbye_timeout;
      char scratch[4096];
      while (wait_for(fd, POLLIN, -1, remaining_ms(deadline)) == wait_result::ready) {
        const ssize_t n = ::recv(fd, scratch, sizeof scratch, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
      }
    }
    counters_.unacknowledged = pending_.size();
    return false;
  };

  for (;;) {
    // Hand over every whole packet in the buffer; acknowledge what the caller released.
    batch.clear();
    batch_acks.clear();
    acks.clear();
    bool connection_over = false;
    try {
      for (;;) {
        std::size_t used = 0;
        const auto p = mqtt::next_packet(
            std::string_view(in_.data() + in_begin_, in_end_ - in_begin_), used);
        if (!p) break;
        in_begin_ += used;
        switch (p->type) {
          case mqtt::packet_type::publish: {
            const auto m = mqtt::parse_publish(*p, options_.version);
            if (m.qos > 0)
              batch_acks.push_back(
                  {batch.size(), m.packet_id,
                   m.qos == 1 ? mqtt::packet_type::puback : mqtt::packet_type::pubrec});
            batch.push_back({m.topic, m.payload});
            break;
          }
          case mqtt::packet_type::pubrel:
            // Ends a QoS 2 exchange whose PUBREC was sent: no message, nothing to order.
            mqtt::encode_ack(acks, mqtt::packet_type::pubcomp, mqtt::parse_packet_id(*p));
            break;
          case mqtt::packet_type::suback: {
            const auto s = mqtt::parse_suback(*p, options_.version);
            if (s.first_code <= 2)
              log("subscribed (QoS " + std::to_string(s.first_code) + ") to " + options_.filter);
            else
              log("subscription to " + options_.filter + " refused by the broker (code " +
                  std::to_string(s.first_code) + ")");
            break;
          }
          case mqtt::packet_type::pingresp:
            ping_outstanding = false;
            break;
          case mqtt::packet_type::disconnect:
            log("broker " + where + " disconnected us (reason " +
                std::to_string(mqtt::parse_disconnect_reason(*p)) + ")");
            connection_over = true;
            break;
          default:
            throw mqtt::protocol_error("unexpected packet type " +
                                       std::to_string(static_cast<int>(p->type)));
        }
        if (connection_over) break;
      }
    } catch (const mqtt::protocol_error& e) {
      // Nothing of this read is handed over or acknowledged: the broker redelivers it.
      log("protocol error from " + where + ": " + e.what() + "; reconnecting");
      in_begin_ = in_end_ = 0;
      return true;
    }
    if (!batch.empty()) {
      const std::uint64_t first = next_seq_;
      next_seq_ += batch.size();
      for (auto& a : batch_acks) {
        a.seq += first;
        pending_.push_back(a);
      }
      handlers_.on_messages(batch, first);
      counters_.messages += batch.size();
      if (options_.acknowledge_on_handover) {
        // The caller's own thread: no wake-up needed, the acknowledgements go out below.
        std::uint64_t current = acked_through_.load();
        const std::uint64_t last = next_seq_ - 1;
        while (current < last && !acked_through_.compare_exchange_weak(current, last)) {
        }
      }
    }
    const auto before = pending_.size();
    release_acks(acks);
    const auto released = before - pending_.size();
    if (!acks.empty() && !send_acks(acks, released)) return !stopping_;
    counters_.unacknowledged = pending_.size();  // after the write: what the broker can know
    if (connection_over) return true;
    if (stopping_) return say_goodbye();

    // Keep what is left of a partial packet at the front; grow for packets above the buffer.
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_end_ == in_.size()) in_.resize(in_.size() * 2);

    // Keepalive: ping when we sent nothing for a keepalive; drop when the answer is late.
    auto deadline = clock::now() + milliseconds(60'000);
    if (keepalive_s_ > 0) {
      if (ping_outstanding) {
        if (clock::now() - ping_sent >= keepalive) {
          log("no PINGRESP from " + where + " within " + std::to_string(keepalive_s_) +
              " s; reconnecting");
          return true;
        }
        deadline = ping_sent + keepalive;
      } else if (clock::now() - last_sent >= ping_after) {
        std::string ping;
        mqtt::encode_pingreq(ping);
        if (!send_all(fd, ping, wake_fd_[0], stall_limit, error)) {
          if (stopping_) return false;
          log("PINGREQ not sent to " + where + ": " + error + "; reconnecting");
          return true;
        }
        last_sent = clock::now();
        ping_sent = last_sent;
        ping_outstanding = true;
        deadline = last_sent + keepalive;
      } else {
        deadline = last_sent + ping_after;
      }
    }
    // Wait for data, stop() or released acknowledgements.
    pollfd fds[3] = {{fd, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}, {ack_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 3, std::max(1, remaining_ms(deadline)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      log(std::string("poll failed: ") + errno_text(errno) + "; reconnecting");
      return true;
    }
    if (fds[1].revents != 0) return say_goodbye();
    if (fds[2].revents != 0) {
      // Drain first, then clear the flag; the loop's next turn reads acked_through_.
      std::uint64_t count = 0;
      [[maybe_unused]] const auto n = ::read(ack_fd_, &count, sizeof count);
      ack_wake_pending_ = false;
    }
    if (fds[0].revents == 0) continue;  // timeout or acknowledgements only
    const ssize_t n = ::recv(fd, in_.data() + in_end_, in_.size() - in_end_, 0);
    if (n > 0) {
      in_end_ += static_cast<std::size_t>(n);
      ++counters_.reads;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    log("connection to " + where + " lost" +
        (n == 0 ? std::string(" (closed by the broker)") : ": " + errno_text(errno)) +
        "; reconnecting");
    in_begin_ = in_end_ = 0;
    return true;
  }
}

}  // namespace factorysim::ingest
