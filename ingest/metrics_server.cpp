#include "ingest/metrics_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <stdexcept>
#include <thread>

namespace factorysim::ingest {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<listen_address> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs its brackets
  }
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc{} || r.ptr != port.data() + port.size() || value > 65535)
    return std::nullopt;
  return listen_address{std::string(host), static_cast<std::uint16_t>(value)};
}

namespace {

std::string json_error(std::string_view error, std::string_view reason) {
  // Both are our own fixed texts (no quotes or control characters to escape).
  return "{\"error\":\"" + std::string(error) + "\",\"reason\":\"" + std::string(reason) +
         "\"}\n";
}

http_reply error_reply(int status, std::string_view error, std::string_view reason) {
  return {status, "application/json", json_error(error, reason), {}};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

}  // namespace

http_reply handle_metrics_request(std::string_view head,
                                  const std::function<std::string()>& render) {
  const auto eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (eol == std::string_view::npos || sp1 == std::string_view::npos ||
      sp2 == std::string_view::npos || line.substr(sp2 + 1).substr(0, 5) != "HTTP/")
    return error_reply(400, "bad request", "expected an HTTP/1.x request line");
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != "/metrics") return error_reply(404, "not found", "only /metrics is served here");
  if (method != "GET" && method != "HEAD") {
    http_reply r = error_reply(405, "method not allowed", "/metrics answers GET and HEAD");
    r.allow = "GET, HEAD";
    return r;
  }
  return {200, "text/plain; version=0.0.4; charset=utf-8", render(), {}};
}

std::string serialize(const http_reply& r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + ' ' + reason_phrase(r.status) +
                    "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n";
  if (!r.allow.empty()) out += "Allow: " + r.allow + "\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

namespace {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, const std::function<std::string()>& render)
      : socket_(std::move(socket)),
        buffer_(max_request_head_bytes),
        timer_(socket_.get_executor()),
        render_(render) {}

  void start() {
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();  // a client that sends nothing (or too slowly)
    });
    asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_head(ec, n); });
  }

 private:
  void on_head(const boost::system::error_code& ec, std::size_t n) {
    http_reply reply;
    bool head_only = false;
    if (ec == asio::error::not_found) {
      // The head filled the buffer without ending: answer, never read further.
      reply = error_reply(431, "request too large",
                          "the request head exceeds " +
                              std::to_string(max_request_head_bytes) + " bytes");
    } else if (ec) {
      close();
      return;
    } else {
      const std::string_view head(static_cast<const char*>(buffer_.data().data()), n);
      head_only = head.substr(0, 5) == "HEAD ";
      reply = handle_metrics_request(head, render_);
    }
    out_ = serialize(reply, head_only);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        self->close();
                      });
  }

  void close() {
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::streambuf buffer_;
  asio::steady_timer timer_;
  const std::function<std::string()>& render_;
  std::string out_;
};

}  // namespace

struct metrics_server::impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::function<std::string()> render;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // shutting down
      if (!ec) std::make_shared<connection>(std::move(socket), render)->start();
      accept();  // a failed accept (e.g. out of descriptors) must not end the server
    });
  }
};

metrics_server::metrics_server(const listen_address& where, std::function<std::string()> render)
    : impl_(std::make_unique<impl>()) {
  impl_->render = std::move(render);
  const std::string name = where.host + ":" + std::to_string(where.port);
  try {
    tcp::resolver resolver(impl_->io);
    const auto endpoints = resolver.resolve(where.host, std::to_string(where.port),
                                            tcp::resolver::passive | tcp::resolver::numeric_service);
    const tcp::endpoint ep = endpoints.begin()->endpoint();
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("--metrics " + name + ": cannot listen: " + e.code().message());
  }
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

metrics_server::~metrics_server() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();  // open connections go with the io_context
  });
  impl_->thread.join();
}

std::uint16_t metrics_server::port() const noexcept {
  boost::system::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace factorysim::ingest
