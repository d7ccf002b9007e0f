#include "control/server.hpp"

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/system_error.hpp>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

namespace factorysim::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
class connection;

/// How a connection was let in.
enum class admission {
  normal,        ///< within both caps: keep-alive, any request
  health_only,   ///< over the global cap: one request, answered only if GET /health
  client_capped  ///< its address holds too many: 429 and closed
};
/// After a response that closes the connection: how long unread request bytes are drained, so
/// that closing does not reset the connection before the client read the response.
constexpr std::chrono::milliseconds linger_time{2000};
}  // namespace

struct control_server::shared {
  shared(asio::io_context& io_context, control_router& r, control_server_options o)
      : io(io_context),
        router(&r),
        options(std::move(o)),
        acceptor(io_context),
        retry(io_context) {}

  asio::io_context& io;
  control_router* router;  ///< null once stopped
  control_server_options options;
  tcp::acceptor acceptor;
  asio::steady_timer retry;  ///< accept failed (e.g. out of descriptors): try again later
  std::unordered_set<connection*> all;
  std::size_t open = 0;                                 ///< admission::normal connections
  std::size_t overflow = 0;                             ///< the others, answered once
  std::map<asio::ip::address, std::size_t> per_client;  ///< normal connections by address
  std::uint64_t connections_total = 0;
  std::uint64_t refused = 0;
  std::uint64_t timeouts = 0;
  bool stopped = false;
  std::weak_ptr<shared> self_ptr;  ///< handed to each connection, which keeps this alive

  void accept();
};

namespace {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, std::shared_ptr<control_server::shared> server, admission a,
             asio::ip::address client)
      : server_(std::move(server)),
        stream_(std::move(socket)),
        admission_(a),
        client_(std::move(client)) {
    server_->all.insert(this);
    if (admission_ == admission::normal) {
      ++server_->open;
      ++server_->per_client[client_];
    } else {
      ++server_->overflow;
    }
  }
  ~connection() {
    server_->all.erase(this);
    if (admission_ == admission::normal) {
      --server_->open;
      const auto it = server_->per_client.find(client_);
      if (it != server_->per_client.end() && --it->second == 0) server_->per_client.erase(it);
    } else {
      --server_->overflow;
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start() {
    if (admission_ == admission::client_capped)
      send_error(429, "too many open control connections from " + client_.to_string() + " (limit " +
                          std::to_string(server_->options.max_connections_per_client) + ")");
    else
      read();
  }

  /// On stop: a response being written is finished first (a POST /shutdown gets its 202).
  void close_unless_busy() {
    if (!busy_) close();
  }

  /// Closes the socket now; pending operations end with operation_aborted.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(server_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_limit));
    stream_.expires_after(admission_ == admission::health_only ? server_->options.health_timeout
                                                               : server_->options.header_timeout);
    // The head first: a client that sent "Expect: 100-continue" (curl does for bodies over
    // 1 KiB) waits for the interim answer before it sends the body.
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&connection::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (read_failed(ec)) return;
    if (admission_ == admission::normal) stream_.expires_after(server_->options.read_timeout);
    if (parser_->is_done()) {
      on_read(ec, 0);
      return;
    }
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_ = {};
      continue_.version(11);
      continue_.result(http::status::continue_);
      http::async_write(stream_, continue_,
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) {
                            if (wec != asio::error::operation_aborted) self->close();
                            return;
                          }
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&connection::on_read, shared_from_this()));
  }

  /// Handles a failed read (answering 413/431/400 where the client can still read it);
  /// false when there was no error.
  bool read_failed(beast::error_code ec) {
    if (server_->stopped || ec == asio::error::operation_aborted) return true;
    if (!ec) return false;
    if (ec == http::error::end_of_stream) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return true;
    }
    if (ec == beast::error::timeout) {
      ++server_->timeouts;
      close();
      return true;
    }
    if (ec == http::error::body_limit) {
      send_error(413, "the body is larger than the limit of " +
                          std::to_string(server_->options.body_limit) + " bytes");
      return true;
    }
    if (ec == http::error::header_limit) {
      send_error(431, "the request head is larger than the limit of " +
                          std::to_string(server_->options.header_limit) + " bytes");
      return true;
    }
    // A malformed request gets a reason; a broken connection just ends.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() ||
        ec == http::error::partial_message)
      send_error(400, "malformed HTTP request: " + ec.message());
    else
      close();
    return true;
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (read_failed(ec)) return;
    busy_ = true;
    auto& req = parser_->get();
    if (admission_ == admission::health_only) {
      // Over the cap, liveness probes are still answered (then closed): a monitor must be
      // able to tell a busy endpoint from a dead one.
      const std::string_view target(req.target().data(), req.target().size());
      const bool health =
          req.method() == http::verb::get &&
          (target == "/health" || target.starts_with("/health?") || target.starts_with("/health/"));
      if (!health) {
        send_error(503, "too many open control connections (limit " +
                            std::to_string(server_->options.max_connections) +
                            "); only GET /health is answered");
        return;
      }
      req.keep_alive(false);
    }
    control_request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.host = std::string(req[http::field::host]);
    request.content_type = std::string(req[http::field::content_type]);
    request.origin = std::string(req[http::field::origin]);
    request.body = std::move(req.body());
    const control_response out = server_->router->handle(request);
    send(out, req.keep_alive(), req.version());
  }

  void send_error(unsigned status, const std::string& detail) {
    busy_ = true;
    if (server_->router != nullptr) server_->router->count_response(status);
    send(control_error_response(status, detail), false, 11);
  }

  void send(const control_response& out, bool keep_alive, unsigned version) {
    response_ = {};
    response_.version(version);
    response_.result(out.status);
    response_.set(http::field::server, "factorysim");
    response_.set(http::field::content_type, out.content_type);
    response_.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : out.headers) response_.set(name, value);
    response_.body() = out.body;
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(server_->options.write_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&connection::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    busy_ = false;
    if (ec == asio::error::operation_aborted) return;
    if (server_->stopped) {
      close();
      return;
    }
    if (ec) {
      if (ec == beast::error::timeout) ++server_->timeouts;
      close();
      return;
    }
    if (response_.keep_alive()) {
      read();
      return;
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_time);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                if (ec != asio::error::operation_aborted) self->close();
                                return;
                              }
                              self->drain();
                            });
  }

  std::shared_ptr<control_server::shared> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  http::response<http::empty_body> continue_;
  std::array<char, 4096> discard_{};
  admission admission_;
  asio::ip::address client_;
  bool busy_ = false;  ///< between a complete request and the end of its response
};

}  // namespace

void control_server::shared::accept() {
  // The handler owns a reference: a server destroyed meanwhile stays valid until it runs.
  acceptor.async_accept([self = self_ptr.lock()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors and the like: wait instead of spinning on the failing accept.
      self->retry.expires_after(std::chrono::milliseconds(100));
      self->retry.async_wait([self](beast::error_code wait_ec) {
        if (!wait_ec && !self->stopped) self->accept();
      });
      return;
    }
    ++self->connections_total;
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) {  // already gone
      self->accept();
      return;
    }
    const auto client = peer.address();
    const auto it = self->per_client.find(client);
    const std::size_t of_client = it == self->per_client.end() ? 0 : it->second;
    admission a = admission::normal;
    if (of_client >= self->options.max_connections_per_client)
      a = admission::client_capped;
    else if (self->open >= self->options.max_connections)
      a = admission::health_only;
    if (a != admission::normal) {
      ++self->refused;
      if (self->overflow >= self->options.health_reserve) {
        // Every reserved slot is taken: refuse without spending anything on it.
        beast::error_code ignored;
        socket.close(ignored);
        self->accept();
        return;
      }
    }
    std::make_shared<connection>(std::move(socket), self, a, client)->start();
    self->accept();
  });
}

control_server::control_server(asio::io_context& io, control_router& router,
                               control_server_options options)
    : shared_(std::make_shared<shared>(io, router, std::move(options))) {
  shared_->self_ptr = shared_;
  std::weak_ptr<shared> weak = shared_;
  router.set_connection_stats([weak](control_stats& s) {
    if (auto sp = weak.lock()) {
      s.open_connections = sp->open;
      s.connections_total = sp->connections_total;
      s.connections_refused = sp->refused;
      s.timeouts = sp->timeouts;
    }
  });
}

control_server::~control_server() {
  stop();
  if (shared_->router != nullptr) shared_->router->set_connection_stats({});
  shared_->router = nullptr;
}

void control_server::start() {
  auto& s = *shared_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(s.options.address, ec);
  const std::string where = s.options.address + ":" + std::to_string(s.options.port);
  if (ec)
    throw boost::system::system_error(ec, "control endpoint: bad address " + s.options.address);
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    throw boost::system::system_error(ec, "control endpoint: cannot listen on " + where);
  }
  s.stopped = false;
  s.accept();
}

void control_server::stop() {
  auto& s = *shared_;
  if (s.stopped) return;
  s.stopped = true;
  beast::error_code ignored;
  s.acceptor.close(ignored);
  s.retry.cancel();
  // close() may end a connection's last operation; copy first, the set changes under us.
  const std::vector<connection*> all(s.all.begin(), s.all.end());
  for (connection* c : all) c->close_unless_busy();
}

tcp::endpoint control_server::local_endpoint() const {
  beast::error_code ec;
  return shared_->acceptor.local_endpoint(ec);
}

std::size_t control_server::open_connections() const noexcept {
  return shared_->open;
}

}  // namespace factorysim::control
