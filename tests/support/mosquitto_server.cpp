#include "tests/support/mosquitto_server.hpp"
#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace factorysim::test {
namespace {

constexpr const char* mosquitto_binary = "/usr/sbin/mosquitto";


bool can_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::filesystem::path make_private_dir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "factorysim-mosquitto-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  return tmpl;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void ensure_mosquitto_lib_init() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

mosquitto_server::mosquitto_server(mosquitto_server_options options)
    : dir_(make_private_dir()), options_(std::move(options)) {
  if (!options_.users.empty()) {
    const auto file = (dir_ / "passwords").string();
    std::ofstream(file, std::ios::trunc).flush();
    for (const auto& [user, password] : options_.users) {
      const std::string cmd =
          "mosquitto_passwd -b '" + file + "' '" + user + "' '" + password + "' 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw std::runtime_error("mosquitto_passwd failed for user '" + user + "'");
      }
    }
  }
  if (options_.tls) {
    // A throw-away CA and a server certificate for 127.0.0.1 (SAN IP, which OpenSSL checks).
    const std::string d = dir_.string();
    const std::string cmd =
        "cd '" + d +
        "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=factorysim-test-ca "
        "-keyout ca.key -out ca.crt && "
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out "
        "server.csr && "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile san.ext -out server.crt";
    if (std::system(("(" + cmd + ") > '" + d + "/openssl.log' 2>&1").c_str()) != 0) {
      std::string log_text = read_file(dir_ / "openssl.log");
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      throw std::runtime_error("cannot make test certificates with openssl:\n" + log_text);
    }
  }
  // The port is chosen once and kept, so that a restart comes back on the same address. If
  // another process grabbed it between pick and bind, try a fresh one (first start only).
  for (int attempt = 0;; ++attempt) {
    port_ = pick_free_port();
    if (options_.tls) {
      do {
        tls_port_ = pick_free_port();
      } while (tls_port_ == port_);
    }
    try {
      start();
      return;
    } catch (const std::exception&) {
      if (attempt >= 2) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
      }
    }
  }
}

mosquitto_server::~mosquitto_server() {
  if (pid_ > 0) terminate(SIGTERM, std::chrono::seconds(5));
  if (std::getenv("FACTORYSIM_KEEP_TMP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void mosquitto_server::write_config() const {
  std::ofstream conf(dir_ / "mosquitto.conf", std::ios::trunc);
  // `user root`: when started as root, mosquitto would otherwise switch to user `mosquitto`,
  // which cannot write our private folder. Ignored when not started as root.
  conf << "listener " << port_ << " 127.0.0.1\n"
       << "allow_anonymous " << (options_.users.empty() ? "true" : "false") << "\n"
       << "user root\n"
       << "persistence true\n"
       << "persistence_location " << dir_.string() << "/\n"
       << "persistence_file mosquitto.db\n"
       << "autosave_interval 1\n"
       << "max_queued_messages 1000000\n"
       << "max_queued_bytes 0\n"
       << "max_inflight_messages 0\n"
       << "log_dest file " << (dir_ / "mosquitto.log").string() << "\n"
       << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
       << "connection_messages true\n"
       << "log_timestamp true\n";
  if (options_.tls) {
    conf << "listener " << tls_port_ << " 127.0.0.1\n"
         << "cafile " << (dir_ / "ca.crt").string() << "\n"
         << "certfile " << (dir_ / "server.crt").string() << "\n"
         << "keyfile " << (dir_ / "server.key").string() << "\n";
  }
  if (!options_.users.empty()) conf << "password_file " << (dir_ / "passwords").string() << "\n";
  for (const auto& line : options_.extra_config) conf << line << "\n";
  if (!conf) throw std::runtime_error("cannot write " + (dir_ / "mosquitto.conf").string());
}

std::string mosquitto_server::ca_file() const {
  return options_.tls ? (dir_ / "ca.crt").string() : std::string();
}

std::string mosquitto_server::log() const {
  return read_file(dir_ / "mosquitto.log") + read_file(dir_ / "stderr.log");
}

void mosquitto_server::start() {
  if (pid_ > 0) return;
  write_config();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out_path = (dir_ / "stderr.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const std::string conf_path = (dir_ / "mosquitto.conf").string();
  std::string arg0 = mosquitto_binary, arg1 = "-c";
  std::string arg2 = conf_path;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, mosquitto_binary, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error(std::string("cannot start ") + mosquitto_binary + ": " +
                             std::strerror(rc));
  }
  pid_ = pid;
  wait_until_accepting(std::chrono::seconds(10));
}

void mosquitto_server::wait_until_accepting(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("mosquitto exited during start-up (port " + std::to_string(port_) +
                               "), log:\n" + log());
    }
    if (can_connect(port_) && (tls_port_ == 0 || can_connect(tls_port_))) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  terminate(SIGKILL, std::chrono::seconds(5));
  throw std::runtime_error(
      "mosquitto did not accept connections on 127.0.0.1:" + std::to_string(port_) + " within " +
      std::to_string(timeout.count()) + " ms, log:\n" + log());
}

void mosquitto_server::terminate(int signal_number, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal_number);
  ::kill(pid_, SIGCONT);  // a suspended broker only acts on SIGTERM once it runs again
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

void mosquitto_server::stop() {
  terminate(SIGTERM, std::chrono::seconds(10));
}

void mosquitto_server::suspend() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void mosquitto_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void mosquitto_server::kill() {
  terminate(SIGKILL, std::chrono::seconds(5));
}

// ---------------------------------------------------------------------------------------------

namespace {
std::string unique_client_id() {
  static std::atomic<int> counter{0};
  return "collector-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}
}  // namespace

mqtt_collector::mqtt_collector(const std::string& host, int port, std::string pattern,
                               collector_options options, std::chrono::milliseconds timeout)
    : pattern_(std::move(pattern)), options_(std::move(options)) {
  ensure_mosquitto_lib_init();
  if (options_.client_id.empty()) options_.client_id = unique_client_id();
  mosq_ = mosquitto_new(options_.client_id.c_str(), options_.clean_session, this);
  if (mosq_ == nullptr) throw std::runtime_error("mosquitto_new failed");
  int version = MQTT_PROTOCOL_V311;
  mosquitto_opts_set(mosq_, MOSQ_OPT_PROTOCOL_VERSION, &version);
  if (!options_.username.empty()) {
    mosquitto_username_pw_set(mosq_, options_.username.c_str(), options_.password.c_str());
  }
  mosquitto_connect_callback_set(mosq_, &mqtt_collector::on_connect);
  mosquitto_subscribe_callback_set(mosq_, &mqtt_collector::on_subscribe);
  mosquitto_message_callback_set(mosq_, &mqtt_collector::on_message);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  int rc = mosquitto_connect(mosq_, host.c_str(), port, 10);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error("collector: cannot connect to " + host + ":" + std::to_string(port) +
                             ": " + mosquitto_strerror(rc));
  }
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error(std::string("collector: mosquitto_loop_start: ") +
                             mosquitto_strerror(rc));
  }
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return subacks_ > 0; })) {
    lock.unlock();
    close();
    mosquitto_destroy(mosq_);
    throw std::runtime_error("collector: no SUBACK for '" + pattern_ + "' within " +
                             std::to_string(timeout.count()) + " ms");
  }
}

mqtt_collector::~mqtt_collector() {
  close();
  mosquitto_destroy(mosq_);
}

void mqtt_collector::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
}

void mqtt_collector::on_connect(struct ::mosquitto* mosq, void* self, int rc) {
  auto* c = static_cast<mqtt_collector*>(self);
  if (rc != 0) return;  // refused: the threaded loop retries
  {
    std::lock_guard lock(c->mutex_);
    ++c->connects_;
  }
  // Subscribing again after every connect is harmless for a persistent session and needed
  // for a clean one.
  mosquitto_subscribe(mosq, nullptr, c->pattern_.c_str(), c->options_.qos);
  c->changed_.notify_all();
}

void mqtt_collector::on_subscribe(struct ::mosquitto*, void* self, int, int, const int*) {
  auto* c = static_cast<mqtt_collector*>(self);
  {
    std::lock_guard lock(c->mutex_);
    ++c->subacks_;
  }
  c->changed_.notify_all();
}

void mqtt_collector::on_message(struct ::mosquitto*, void* self, const mosquitto_message* msg) {
  auto* c = static_cast<mqtt_collector*>(self);
  collected_message m;
  m.topic = msg->topic;
  m.payload.assign(static_cast<const char*>(msg->payload),
                   static_cast<std::size_t>(msg->payloadlen));
  m.qos = msg->qos;
  m.retained = msg->retain;
  {
    std::lock_guard lock(c->mutex_);
    c->messages_.push_back(std::move(m));
    c->last_arrival_ = std::chrono::steady_clock::now();
  }
  c->changed_.notify_all();
}

bool mqtt_collector::wait_for_count(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
}

bool mqtt_collector::wait_until(
    const std::function<bool(const std::vector<collected_message>&)>& pred,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(messages_); });
}

std::size_t mqtt_collector::wait_quiet(std::chrono::milliseconds quiet,
                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  auto since = std::max(last_arrival_, std::chrono::steady_clock::now());
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto quiet_until = std::max(since, last_arrival_) + quiet;
    if (now >= quiet_until) break;
    changed_.wait_until(lock, std::min(quiet_until, deadline));
  }
  return messages_.size();
}

std::size_t mqtt_collector::count() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::vector<collected_message> mqtt_collector::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

void mqtt_collector::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
}

int mqtt_collector::connects() const {
  std::lock_guard lock(mutex_);
  return connects_;
}

}  // namespace factorysim::test
