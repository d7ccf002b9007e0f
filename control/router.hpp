#pragma once
/// The control endpoint's request handler (docs/control-api.md): a pure function from one HTTP
/// request (method, target, Authorization header, body) to one response (status, headers, JSON
/// body). No socket and no Beast type appears here, so every route and every error status is
/// tested without a network (tests/control/router_test.cpp); control_server owns the
/// sockets and calls handle() on the engine's io_context thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/request_guard.hpp"
#include "sim/engine.hpp"

namespace factorysim::control {

/// One HTTP request as the router sees it.
struct control_request {
  std::string method;         ///< "GET", "POST", ... (case-sensitive, as HTTP says)
  std::string target;         ///< origin-form: path and optional query, e.g. /machines?factory_id=x
  std::string authorization;  ///< the Authorization header; empty when absent
  std::string body;
  std::string host;          ///< the Host header; empty when absent (400)
  std::string content_type;  ///< the Content-Type header; changes need application/json (415)
  std::string origin;        ///< the Origin header; empty when absent
};

/// One HTTP response; body is JSON unless content_type says otherwise (GET /metrics).
struct control_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers: Allow (405), WWW-Authenticate (401), Location (201).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// One entry of the route table: what GET /openapi.json must describe (and nothing more).
struct control_route {
  std::string_view method;   ///< "GET", "POST", "PUT", "PATCH" or "DELETE"
  std::string_view path;     ///< template, parameters in braces: /machines/{id}/faults/{fault_id}
  std::string_view summary;  ///< one line, also the OpenAPI summary
};

struct control_router_options {
  /// Non-empty: POST/PUT/PATCH/DELETE need `Authorization: Bearer <token>` (else 401).
  std::string token;
  /// Bodies larger than this are refused with 413 (the server enforces it while reading too).
  std::size_t body_limit = 64 * 1024;
  /// What POST /shutdown does; empty = engine::request_stop().
  std::function<void()> shutdown;
  /// Which Host (and Origin) values name this endpoint, besides loopback ones (421, 403).
  host_rules hosts;
};

/// Counters of the endpoint itself, for GET /status and GET /metrics.
struct control_stats {
  std::map<unsigned, std::uint64_t> responses;  ///< by HTTP status code
  std::size_t open_connections = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_refused = 0;  ///< over a connection cap (503, 429)
  std::uint64_t timeouts = 0;             ///< clients closed for being idle or slow
};

class control_router {
 public:
  /// The engine must outlive the router; every call happens on the engine's loop thread.
  explicit control_router(sim::engine& e, control_router_options options = {});

  /// Answers one request; never throws (an unexpected exception becomes a 500).
  control_response handle(const control_request& request);

  /// Every route the router answers, in documentation order.
  static std::span<const control_route> routes() noexcept;

  /// Counts a response that the server produced itself (413 while reading, 503 over the cap).
  void count_response(unsigned status) { ++stats_.responses[status]; }
  /// The server's connection counters, merged into stats() (set by control_server).
  void set_connection_stats(std::function<void(control_stats&)> fill) {
    connection_stats_ = std::move(fill);
  }
  /// Counters as GET /metrics shows them.
  control_stats stats() const;

  const control_router_options& options() const noexcept { return options_; }

 private:
  control_response dispatch(const control_request& request);

  sim::engine& engine_;
  control_router_options options_;
  control_stats stats_;
  std::function<void(control_stats&)> connection_stats_;
};

/// True when `authorization` is exactly "Bearer <token>"; compares in time independent of
/// where the strings differ, so a client cannot find the token byte by byte.
bool bearer_matches(std::string_view authorization, std::string_view token) noexcept;

/// The JSON error body every 4xx/5xx carries: {"error": "<reason phrase>", "detail": "..."}.
control_response control_error_response(unsigned status, std::string_view detail);

}  // namespace factorysim::control
