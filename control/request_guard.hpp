#pragma once
/// The checks a request passes before it is routed, against other web pages rather than bad
/// clients (issue 12): a page on any site can make a browser send a "simple" POST to
/// 127.0.0.1 (CSRF), and a name the attacker controls can be re-pointed at 127.0.0.1 (DNS
/// rebinding) to read the answers. Hence: a Host that names this endpoint, no foreign Origin,
/// and `Content-Type: application/json` on changes (a browser sends that cross-site only
/// after a CORS preflight, which this endpoint never grants). Pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace factorysim::control {

/// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool is_loopback_address(std::string_view host) noexcept;

/// Which Host header values name this endpoint.
struct host_rules {
  /// Besides loopback names and addresses: the bound address (set by control_endpoint).
  std::vector<std::string> extra_hosts;
  /// The endpoint listens on 0.0.0.0 or ::, so any IP literal may name it (a name may not:
  /// a name is what a rebinding attack needs).
  bool any_ip_literal = false;
};

/// Splits "host", "host:port", "[v6]" or "[v6]:port"; the host without brackets, lower-cased.
/// Empty when the value is malformed.
std::string host_of(std::string_view host_header);
/// True when the Host header names this endpoint: `localhost` (or a name under `.localhost`),
/// a loopback address, or one the rules allow; any port.
bool host_allowed(std::string_view host_header, const host_rules& rules);
/// True when Origin is absent, or names a loopback host or the same host as the Host header
/// (scheme http or https). `null` (sandboxed frames, file: pages) is foreign.
bool origin_allowed(std::string_view origin, std::string_view host_header, const host_rules& rules);
/// True when the media type is application/json (parameters such as charset allowed).
bool is_json_content_type(std::string_view content_type) noexcept;

}  // namespace factorysim::control
