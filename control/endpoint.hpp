#pragma once
/// The control endpoint as `factorysim run` uses it: the --control / --control-token settings,
/// their checks (loopback without a token only), and one object that owns the router and the
/// server on the engine's io_context. See docs/control-api.md.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "control/request_guard.hpp"  // is_loopback_address
#include "control/router.hpp"
#include "control/server.hpp"
#include "sim/engine.hpp"

namespace factorysim::control {

/// Where the endpoint listens unless --control says otherwise.
inline constexpr std::string_view default_control_listen = "127.0.0.1:8089";

/// The command line's view of the endpoint.
struct control_settings {
  std::string listen{default_control_listen};  ///< "ADDR:PORT", "[IPv6]:PORT" or "off"
  bool listen_given = false;  ///< the user chose the address: failing to bind it is fatal
  std::string token;          ///< --control-token or FACTORYSIM_CONTROL_TOKEN; empty = none
};

struct control_address {
  std::string host;  ///< numeric address ("localhost" is turned into 127.0.0.1)
  unsigned short port = 0;
};

/// Parses --control: nullopt for "off"; throws std::invalid_argument with a message a person
/// can act on ("--control: expected ADDR:PORT or off, got ...").
std::optional<control_address> parse_control_listen(std::string_view text);

/// Refusal to start the endpoint; exit_code 2 = bad usage, 1 = runtime failure.
class control_start_error : public std::runtime_error {
 public:
  control_start_error(int exit_code, const std::string& what)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// Router + server of one run; destroy it (or call stop()) before the engine goes away.
class control_endpoint {
 public:
  control_endpoint(boost::asio::io_context& io, sim::engine& e,
                   control_server_options server_options, control_router_options router_options);
  /// Binds and accepts; throws boost::system::system_error when it cannot.
  void start() { server_.start(); }
  /// Closes the listener and every connection, so that the io_context can run out of work.
  void stop() { server_.stop(); }
  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_.local_endpoint(); }
  control_router& router() noexcept { return router_; }

 private:
  control_router router_;
  control_server server_;
};

/// What `factorysim run` calls after building the engine: checks the settings, starts the
/// endpoint on `io` and prints its URL on `log`. Returns nullptr when --control off, or when
/// the default address is busy (a warning; another run has it). Throws control_start_error:
/// exit 2 for a bad address or a non-loopback address without a token, exit 1 when an
/// explicitly chosen address cannot be bound.
std::unique_ptr<control_endpoint> attach_control(boost::asio::io_context& io, sim::engine& e,
                                                 const control_settings& settings,
                                                 std::ostream& log);

}  // namespace factorysim::control
