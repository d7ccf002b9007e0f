#pragma once
/// The control endpoint's sockets: a Boost.Beast HTTP/1.1 acceptor and its connections, all
/// asynchronous on the engine's io_context (no thread of their own), so a slow or idle client
/// never holds up a step. Requests go to control_router::handle(); limits (body size, header
/// size, open connections, read and write timeouts) are enforced here while reading.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "control/router.hpp"

namespace factorysim::control {

struct control_server_options {
  std::string address = "127.0.0.1";
  unsigned short port = 8089;  ///< 0 = any free port (see local_endpoint())
  /// Open connections of all clients; beyond it a connection is answered once and closed:
  /// `GET /health` normally, anything else 503.
  std::size_t max_connections = 256;
  /// Open connections of one client address; beyond it 429 and closed at once, so that one
  /// client cannot take every slot (issue 12: 256 idle sockets locked everyone out).
  std::size_t max_connections_per_client = 64;
  /// Connections over max_connections that may still ask for `GET /health` (each has
  /// health_timeout to send it); beyond these, a new connection is closed without an answer.
  std::size_t health_reserve = 16;
  /// Time to send the head of a request, idle keep-alive time included: an idle or
  /// trickling client frees its slot after this.
  std::chrono::milliseconds header_timeout{10000};
  /// Time a client has to send one whole request (head and body).
  std::chrono::milliseconds read_timeout{15000};
  /// Time an over-the-cap connection has to send its request.
  std::chrono::milliseconds health_timeout{2000};
  /// Time a client has to take one whole response.
  std::chrono::milliseconds write_timeout{15000};
  std::size_t body_limit = 64 * 1024;   ///< larger bodies: 413
  std::size_t header_limit = 8 * 1024;  ///< larger request heads: 431
};

class control_server {
 public:
  /// The router must outlive the server's use of the loop (stop() detaches it).
  control_server(boost::asio::io_context& io, control_router& router,
                 control_server_options options = {});
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  /// Binds, listens and starts accepting. Throws boost::system::system_error when the address
  /// is not valid or cannot be bound (what() names the address).
  void start();
  /// Stops accepting and closes every connection; the loop's pending handlers then end.
  void stop();

  /// The bound address (after start()); the port is real even when options.port was 0.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t open_connections() const noexcept;

  /// State shared with the connections (defined in the .cpp), which outlives the server while
  /// a connection's handler still holds it.
  struct shared;

 private:
  std::shared_ptr<shared> shared_;
};

}  // namespace factorysim::control
