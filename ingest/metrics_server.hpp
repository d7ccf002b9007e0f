#pragma once
/// `ingest --metrics ADDR:PORT`: a small HTTP/1.1 server (plain Asio, on a thread of its
/// own) that answers GET /metrics with the Prometheus text of a fresh snapshot. Every
/// connection gets one response and is closed; a request head larger than
/// max_request_head_bytes gets 431, one that is not HTTP 400, another path 404, another
/// method 405, each with a JSON reason; a client that sends nothing is dropped after 5 s.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace factorysim::ingest {

/// An address to listen on.
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};
/// "127.0.0.1:9108", "[::1]:9108", "localhost:0" (0 = any free port); nullopt if malformed.
std::optional<listen_address> parse_listen_address(std::string_view text);

/// One HTTP response.
struct http_reply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string allow;  ///< 405: the methods allowed
};

/// Largest request head (request line and headers) read.
inline constexpr std::size_t max_request_head_bytes = 8192;

/// The response to a request head (everything up to and including the blank line); pure.
/// `render` produces the metrics text and is called only for GET/HEAD /metrics.
http_reply handle_metrics_request(std::string_view head,
                                  const std::function<std::string()>& render);

/// The whole response on the wire (status line, headers, body unless `head_only`).
std::string serialize(const http_reply& r, bool head_only);

class metrics_server {
 public:
  /// Binds at once; throws std::runtime_error naming the address when it cannot.
  metrics_server(const listen_address& where, std::function<std::string()> render);
  /// Stops accepting, closes every connection and joins the thread.
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// The port bound (useful with port 0).
  std::uint16_t port() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace factorysim::ingest
