// The control endpoint's sockets (issue 4): a real engine publishing into memory on its own
// io_context thread, the Beast server on the same loop, and a plain-socket HTTP client on the
// test thread. Limits over the wire (413, 431, 400, 503), timeouts of idle and slow clients,
// keep-alive, many idle clients while the engine keeps publishing, shutdown over HTTP.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "control/endpoint.hpp"
#include "tests/control/control_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace {

using namespace factorysim;
using namespace std::chrono_literals;
using nlohmann::json;
using test::http_connection;

/// Engine (accelerated x50, real clocks) + endpoint on 127.0.0.1:<free port>, loop on a thread.
class live {
 public:
  explicit live(control::control_server_options so = {}, control::control_router_options ro = {}) {
    auto s = test::control_scenario(scenarios::time_mode::accelerated);
    s.speed = 50;
    engine_ = std::make_unique<sim::engine>(io_, std::move(s), sink_);
    so.address = "127.0.0.1";
    so.port = 0;
    endpoint_ = std::make_unique<control::control_endpoint>(io_, *engine_, so, std::move(ro));
    endpoint_->start();
    port_ = endpoint_->local_endpoint().port();
    engine_->on_finished([this](bool) { endpoint_->stop(); });
    engine_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~live() { finish(); }

  /// Ends the run from inside the loop and waits for the loop to run out of work.
  void finish() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] {
      if (engine_->status().state == sim::run_state::running ||
          engine_->status().state == sim::run_state::paused)
        engine_->request_stop();
    });
    thread_.join();
  }
  /// Joins the loop thread, which must end by itself (e.g. after POST /shutdown).
  bool wait_for_end(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) {
        thread_.join();
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  int port() const { return port_; }
  test::http_response get(const std::string& target) {
    return test::http_request("127.0.0.1", port_, "GET", target);
  }
  std::uint64_t published_total() {
    return json::parse(get("/status").body)["counters"]["published"]["total"].get<std::uint64_t>();
  }

 private:
  boost::asio::io_context io_{1};
  sim::memory_sink sink_;
  std::unique_ptr<sim::engine> engine_;
  std::unique_ptr<control::control_endpoint> endpoint_;
  std::thread thread_;
  int port_ = 0;
};

/// Polls pred every 20 ms until true or the timeout passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

TEST(control_server, answers_several_requests_on_one_keep_alive_connection) {
  live l;
  http_connection c("127.0.0.1", l.port());
  auto r = c.request("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(r.body)["status"], "ok");
  r = c.request("POST", std::string("/machines/") + test::compressor_id + "/faults",
                R"({"type":"air_leak","severity":0.5,"duration_s":60})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(
      r.headers["location"].rfind(std::string("/machines/") + test::compressor_id + "/faults/", 0),
      0u);
  r = c.request("GET", "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  r = c.request("DELETE", "/status");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET");
  r = c.request("GET", "/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(c.request("GET", "/health").status, 200);  // still the same connection
}

TEST(control_server, expect_100_continue_is_answered_before_the_body) {
  live l;
  http_connection c("127.0.0.1", l.port());
  const std::string body = R"({"speed": 20})";
  c.send_raw(
      "PUT /speed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: "
      "100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 100);  // before the body was sent
  c.send_raw(body);
  const auto r = c.read_response();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["speed"], 20.0);
  // Too large: 413 instead of 100, and the body is never needed.
  http_connection big("127.0.0.1", l.port());
  big.send_raw(
      "PUT /speed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: "
      "100-continue\r\nContent-Length: 999999\r\n\r\n");
  EXPECT_EQ(big.read_response().status, 413);
}

TEST(control_server, limits_are_enforced_while_reading) {
  control::control_server_options so;
  so.body_limit = 1024;
  so.header_limit = 2048;
  live l(so);
  {
    // The head announces too much: 413 before the body is read, then the connection closes.
    http_connection c("127.0.0.1", l.port());
    c.send_raw(
        "POST /stop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n" +
        std::string(4000, ' '));
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(json::parse(r.body)["error"], "payload_too_large");
    EXPECT_TRUE(c.wait_closed(5s));
  }
  {
    http_connection c("127.0.0.1", l.port());
    c.send_raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(4096, 'a') +
               "\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 431);
  }
  {
    http_connection c("127.0.0.1", l.port());
    c.send_raw("THIS IS NOT HTTP\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json::parse(r.body)["error"], "bad_request");
  }
  // The engine still runs and answers.
  const auto before = l.published_total();
  EXPECT_TRUE(eventually([&] { return l.published_total() > before; }));
}

TEST(control_server, the_token_is_checked_over_the_wire) {
  control::control_router_options ro;
  ro.token = "t0ken";
  live l({}, ro);
  const std::string body = std::string(R"({"machine_ids":[")") + test::pump_id + "\"]}";
  auto r = test::http_request("127.0.0.1", l.port(), "POST", "/stop", body);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["www-authenticate"], "Bearer realm=\"factorysim\"");
  r = test::http_request("127.0.0.1", l.port(), "POST", "/stop", body,
                         {{"Authorization", "Bearer t0ken"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(l.get("/status").status, 200);
}

TEST(control_server, idle_and_slow_clients_are_timed_out) {
  control::control_server_options so;
  so.read_timeout = 300ms;
  so.header_timeout = 300ms;
  live l(so);
  http_connection idle("127.0.0.1", l.port());
  http_connection slow("127.0.0.1", l.port());
  slow.send_raw("GET /health HTTP/1.1\r\nHo");  // and never the rest
  EXPECT_TRUE(idle.wait_closed(10s));
  EXPECT_TRUE(slow.wait_closed(10s));
  const auto s = json::parse(l.get("/status").body);
  EXPECT_GE(s["control"]["timeouts"].get<int>(), 2);
}

TEST(control_server, connections_over_the_cap_get_503_and_a_freed_slot_is_reused) {
  control::control_server_options so;
  so.max_connections = 8;
  live l(so);
  std::vector<std::unique_ptr<http_connection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<http_connection>("127.0.0.1", l.port()));
    EXPECT_EQ(held.back()->request("GET", "/health").status, 200);  // accepted and counted
  }
  {
    http_connection extra("127.0.0.1", l.port());
    extra.send_raw("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const auto r = extra.read_response();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(json::parse(r.body)["error"], "service_unavailable");
    EXPECT_TRUE(extra.wait_closed(10s));
  }
  held.pop_back();  // the server sees the close and frees the slot
  EXPECT_TRUE(eventually([&] {
    try {
      return l.get("/health").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  held.clear();
  EXPECT_TRUE(eventually([&] {
    const auto s = json::parse(l.get("/status").body);
    return s["control"]["connections_refused"].get<int>() >= 1 &&
           s["control"]["open_connections"].get<int>() == 1;  // the /status request itself
  }));
}

// Issue 12: 256 idle sockets locked out every client, /health included.
TEST(control_server, health_is_answered_when_idle_sockets_fill_the_cap_issue_12) {
  control::control_server_options so;
  so.max_connections = 12;
  so.max_connections_per_client = 4;
  live l(so);
  // Three other clients (127.0.0.2..4) fill the global cap with idle sockets, within their
  // own caps. The server accepts in connection order, so they are in before the probes below.
  std::vector<std::unique_ptr<http_connection>> idle;
  for (int k = 0; k < 12; ++k)
    idle.push_back(std::make_unique<http_connection>("127.0.0.1", l.port(), 10s,
                                                     "127.0.0." + std::to_string(2 + k / 4)));
  // A monitor from yet another address: /health answers (and the connection is closed),
  // anything else is 503 with a reason.
  for (int i = 0; i < 3; ++i) {
    http_connection probe("127.0.0.1", l.port(), 10s, "127.0.0.5");
    const auto r = probe.request("GET", "/health");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["status"], "ok");
    EXPECT_TRUE(probe.wait_closed(10s));
  }
  http_connection other("127.0.0.1", l.port(), 10s, "127.0.0.5");
  const auto r = other.request("GET", "/machines");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(json::parse(r.body)["detail"].get<std::string>().find("/health"), std::string::npos);
  // The idle sockets are still open and are served when they speak.
  EXPECT_EQ(idle.front()->request("GET", "/status").status, 200);
}

TEST(control_server, a_client_over_its_own_cap_is_refused_with_429_issue_12) {
  control::control_server_options so;
  so.max_connections_per_client = 4;
  live l(so);
  std::vector<std::unique_ptr<http_connection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<http_connection>("127.0.0.1", l.port(), 10s, "127.0.0.2"));
    EXPECT_EQ(held.back()->request("GET", "/health").status, 200);
  }
  {
    http_connection extra("127.0.0.1", l.port(), 10s, "127.0.0.2");
    const auto r = extra.read_response();  // answered without asking
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(json::parse(r.body)["error"], "too_many_requests");
    EXPECT_NE(json::parse(r.body)["detail"].get<std::string>().find("127.0.0.2"),
              std::string::npos);
    EXPECT_TRUE(extra.wait_closed(10s));
  }
  // Other clients are not affected, and a freed slot is the client's again.
  EXPECT_EQ(
      http_connection("127.0.0.1", l.port(), 10s, "127.0.0.3").request("GET", "/status").status,
      200);
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    try {
      return http_connection("127.0.0.1", l.port(), 10s, "127.0.0.2")
                 .request("GET", "/health")
                 .status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  const auto s = json::parse(l.get("/status").body);
  EXPECT_GE(s["control"]["connections_refused"].get<int>(), 1);
}

TEST(control_server, an_idle_connection_is_closed_after_the_header_timeout_issue_12) {
  control::control_server_options so;
  so.header_timeout = 300ms;  // the whole-request limit stays at 15 s
  live l(so);
  http_connection idle("127.0.0.1", l.port());
  EXPECT_EQ(idle.request("GET", "/health").status, 200);  // and then idle on keep-alive
  EXPECT_TRUE(idle.wait_closed(10s));
  http_connection trickle("127.0.0.1", l.port());
  trickle.send_raw("GET /health HTTP/1.1\r\nHost: 127.");  // never the end of the head
  EXPECT_TRUE(trickle.wait_closed(10s));
}

TEST(control_server, fifty_idle_clients_do_not_stall_publishing) {
  live l;
  std::vector<std::unique_ptr<http_connection>> idle;
  for (int i = 0; i < 50; ++i)
    idle.push_back(std::make_unique<http_connection>("127.0.0.1", l.port()));
  // Half of them even sent half a request.
  for (int i = 0; i < 25; ++i)
    idle[static_cast<std::size_t>(i)]->send_raw("GET /status HTTP/1.1\r\n");
  const auto before = l.published_total();
  EXPECT_TRUE(eventually([&] { return l.published_total() > before + 100; }));
  // And every one of them is still served.
  for (int i = 0; i < 50; ++i) {
    auto& c = *idle[static_cast<std::size_t>(i)];
    if (i < 25) {
      c.send_raw("Host: 127.0.0.1\r\n\r\n");
      EXPECT_EQ(c.read_response().status, 200);
    } else {
      EXPECT_EQ(c.request("GET", "/health").status, 200);
    }
  }
}

TEST(control_server, shutdown_over_http_answers_202_and_ends_the_loop) {
  live l;
  http_connection c("127.0.0.1", l.port());
  const auto r = c.request("POST", "/shutdown");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(l.wait_for_end(10s)) << "the loop did not run out of work after /shutdown";
}

TEST(control_attach, binds_checks_loopback_and_reports_busy_ports) {
  boost::asio::io_context io;
  sim::memory_sink sink;
  sim::engine e(io, test::control_scenario(scenarios::time_mode::accelerated), sink);
  std::ostringstream log;
  auto first = control::attach_control(io, e, {"127.0.0.1:0", true, ""}, log);
  ASSERT_TRUE(first);
  const auto port = first->local_endpoint().port();
  EXPECT_NE(log.str().find("control endpoint on http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << log.str();
  EXPECT_EQ(control::attach_control(io, e, {"off", true, ""}, log), nullptr);
  // The same port again: fatal when the user chose it (exit 1), a warning for the default.
  const std::string busy = "127.0.0.1:" + std::to_string(port);
  try {
    control::attach_control(io, e, {busy, true, ""}, log);
    ADD_FAILURE() << "a busy port was bound twice";
  } catch (const control::control_start_error& err) {
    EXPECT_EQ(err.exit_code(), 1);
    EXPECT_NE(std::string(err.what()).find(busy), std::string::npos) << err.what();
  }
  log.str("");
  EXPECT_EQ(control::attach_control(io, e, {busy, false, ""}, log), nullptr);
  EXPECT_NE(log.str().find("warning"), std::string::npos);
  // Non-loopback without a token: refused (exit 2) before binding; with a token it binds.
  try {
    control::attach_control(io, e, {"0.0.0.0:0", true, ""}, log);
    ADD_FAILURE() << "0.0.0.0 without a token was accepted";
  } catch (const control::control_start_error& err) {
    EXPECT_EQ(err.exit_code(), 2);
    EXPECT_NE(std::string(err.what()).find("token"), std::string::npos);
  }
  EXPECT_NE(control::attach_control(io, e, {"0.0.0.0:0", true, "tok"}, log), nullptr);
  try {
    control::attach_control(io, e, {"127.0.0.1", true, ""}, log);
    ADD_FAILURE();
  } catch (const control::control_start_error& err) {
    EXPECT_EQ(err.exit_code(), 2);
  }
}

}  // namespace
