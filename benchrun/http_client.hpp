#pragma once
/// A minimal blocking HTTP/1.1 client for the loopback endpoints a bench run reads: the
/// simulator's control API and the ingestors' /metrics. One request per connection
/// (`Connection: close`), a loopback `Host`, `Content-Type: application/json` on a body
/// (contract 5 of the helpers: mutating requests need both).

#include <chrono>
#include <string>

namespace factorysim::benchrun {

struct http_response {
  int status = 0;
  std::string body;
};

/// Throws std::runtime_error (naming the address) on a connection failure or a timeout.
http_response http_request(const std::string& host, int port, const std::string& method,
                           const std::string& target, const std::string& body = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace factorysim::benchrun
