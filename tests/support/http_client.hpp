#pragma once
/// Test harness: a deliberately small HTTP/1.1 client on plain POSIX sockets, independent of
/// the Beast server it tests (so both sides are not wrong the same way). It can also send raw
/// bytes, hold a connection idle and see when the server closes it.
///
/// Throws std::runtime_error when it cannot connect or a response is malformed or late.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace factorysim::test {

/// One parsed response; header names are lower-cased.
struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// One TCP connection to host:port (keep-alive capable).
class http_connection {
 public:
  /// Connects, from the loopback address `source` when given (e.g. 127.0.0.2, to play
  /// another client); throws std::runtime_error on failure.
  http_connection(const std::string& host, int port,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10),
                  const std::string& source = {});
  ~http_connection();
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  /// Sends a request (Content-Length added when body is not empty) and reads the response.
  http_response request(const std::string& method, const std::string& target,
                        const std::string& body = {},
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Writes bytes as they are (false when the peer already closed).
  bool send_raw(const std::string& bytes);
  /// Reads one response (status line, headers, Content-Length body).
  http_response read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Waits until the server closes the connection (read returns 0 or a reset); false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  /// Reads more bytes into buffer_; false on EOF/reset; throws on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline);

  std::string host_;
  int fd_ = -1;
  std::string buffer_;
};

/// One request on a fresh connection.
http_response http_request(const std::string& host, int port, const std::string& method,
                           const std::string& target, const std::string& body = {},
                           const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace factorysim::test
