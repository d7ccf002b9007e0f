#include "control/endpoint.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>

namespace factorysim::control {

std::optional<control_address> parse_control_listen(std::string_view text) {
  if (text == "off") return std::nullopt;
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument(
        "--control: expected ADDR:PORT (e.g. 127.0.0.1:8089) or off, got \"" + std::string(text) +
        "\": " + why);
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) throw bad("no address");
  unsigned port = 0;
  const auto res = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || res.ec != std::errc{} ||
      res.ptr != port_text.data() + port_text.size() || port > 65535)
    throw bad("the port must be 0..65535");
  control_address out;
  out.host = host == "localhost" ? std::string("127.0.0.1") : std::string(host);
  out.port = static_cast<unsigned short>(port);
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(out.host, ec);
  if (ec) throw bad("not a numeric IPv4 or IPv6 address (or localhost)");
  return out;
}

control_endpoint::control_endpoint(boost::asio::io_context& io, sim::engine& e,
                                   control_server_options server_options,
                                   control_router_options router_options)
    : router_(e, std::move(router_options)), server_(io, router_, std::move(server_options)) {}

std::unique_ptr<control_endpoint> attach_control(boost::asio::io_context& io, sim::engine& e,
                                                 const control_settings& settings,
                                                 std::ostream& log) {
  std::optional<control_address> address;
  try {
    address = parse_control_listen(settings.listen);
  } catch (const std::invalid_argument& err) {
    throw control_start_error(2, err.what());
  }
  if (!address) return nullptr;
  if (settings.token.empty() && !is_loopback_address(address->host))
    throw control_start_error(
        2, "--control " + settings.listen +
               ": refusing to open the control endpoint on a non-loopback address without a "
               "token; set --control-token or FACTORYSIM_CONTROL_TOKEN, or listen on 127.0.0.1");
  control_server_options so;
  so.address = address->host;
  so.port = address->port;
  control_router_options ro;
  ro.token = settings.token;
  ro.hosts.extra_hosts.push_back(address->host);
  {
    boost::system::error_code ec;
    ro.hosts.any_ip_literal = boost::asio::ip::make_address(address->host, ec).is_unspecified();
  }
  auto endpoint = std::make_unique<control_endpoint>(io, e, so, ro);
  try {
    endpoint->start();
  } catch (const boost::system::system_error& err) {
    if (!settings.listen_given) {
      log << "factorysim: warning: " << err.what()
          << "; running without a control endpoint (choose one with --control ADDR:PORT)\n";
      return nullptr;
    }
    throw control_start_error(1, err.what());
  }
  const auto ep = endpoint->local_endpoint();
  const bool v6 = ep.address().is_v6();
  log << "factorysim: control endpoint on http://" << (v6 ? "[" : "") << ep.address().to_string()
      << (v6 ? "]" : "") << ':' << ep.port()
      << (settings.token.empty() ? "" : " (changes need the bearer token)") << std::endl;
  return endpoint;
}

}  // namespace factorysim::control
