#pragma once
/// Test harness: a real mosquitto broker on a free loopback port with a private temp folder
/// (config, persistence, log), and a subscriber that collects what the broker delivers.
///
/// Both throw std::runtime_error (with the broker log or the libmosquitto error) when the
/// service cannot be started or reached: tests fail, they never skip.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace factorysim::test {

/// How a mosquitto_server is configured beyond the defaults.
struct mosquitto_server_options {
  /// Non-empty: anonymous clients are refused and these (username, password) pairs are the
  /// only accepted logins (a password_file made with mosquitto_passwd).
  std::vector<std::pair<std::string, std::string>> users;
  /// Extra lines appended to the generated mosquitto.conf.
  std::vector<std::string> extra_config;
  /// Also listen with TLS on tls_port(): a CA and a server certificate for 127.0.0.1 are
  /// generated with the openssl command into dir() (ca_file() is the CA to trust).
  bool tls = false;
};

/// A private mosquitto (/usr/sbin/mosquitto) on 127.0.0.1:<free port>. Persistence is on, so
/// stop() + start() is a broker restart on the same port that keeps sessions and QoS>0 queues.
class mosquitto_server {
 public:
  /// Starts the broker; throws std::runtime_error (with the broker log) when it cannot.
  explicit mosquitto_server(mosquitto_server_options options = {});
  ~mosquitto_server();
  mosquitto_server(const mosquitto_server&) = delete;
  mosquitto_server& operator=(const mosquitto_server&) = delete;

  /// Starts the broker (same port, same persistence as before) and waits until it accepts
  /// connections; throws with the log content on failure. No-op when already running.
  void start();
  /// Graceful stop (SIGTERM: the broker writes its persistence file), waits for the exit.
  void stop();
  /// Abrupt stop (SIGKILL): nothing is saved since the last autosave.
  void kill();
  /// Freezes the broker (SIGSTOP): connections stay open but nothing answers, like a hung
  /// host or a network partition. resume() (SIGCONT) lets it go on.
  void suspend();
  /// Undoes suspend().
  void resume();
  /// True while the broker process runs.
  bool running() const noexcept { return pid_ > 0; }

  /// Loopback port the broker listens on (fixed for the object's life).
  int port() const noexcept { return port_; }
  /// TLS listener port (0 unless options.tls).
  int tls_port() const noexcept { return tls_port_; }
  /// CA certificate that signed the TLS listener's certificate (empty unless options.tls).
  std::string ca_file() const;
  /// Host to connect to: always "127.0.0.1".
  std::string host() const { return "127.0.0.1"; }
  /// The private folder (config, mosquitto.db, mosquitto.log).
  const std::filesystem::path& dir() const noexcept { return dir_; }
  /// Content of the broker log so far (for failure messages).
  std::string log() const;

 private:
  void write_config() const;
  void wait_until_accepting(std::chrono::milliseconds timeout);
  void terminate(int signal_number, std::chrono::milliseconds timeout);

  std::filesystem::path dir_;
  mosquitto_server_options options_;
  int port_ = 0;
  int tls_port_ = 0;
  pid_t pid_ = -1;
};

/// One message as the collector received it.
struct collected_message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

/// Options of an mqtt_collector.
struct collector_options {
  std::string client_id;      ///< empty = a generated unique id
  bool clean_session = true;  ///< false + fixed client_id = persistent session (QoS 1 queue)
  int qos = 1;                ///< subscription QoS
  std::string username;       ///< empty = anonymous
  std::string password;
};

/// Subscribes to a topic pattern through libmosquitto's threaded loop and collects every
/// message thread-safely. Reconnects by itself (0.1 s .. 1 s) when the broker restarts and
/// subscribes again after every connect. The constructor returns once the first SUBACK came.
class mqtt_collector {
 public:
  mqtt_collector(const std::string& host, int port, std::string pattern,
                 collector_options options = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~mqtt_collector();
  mqtt_collector(const mqtt_collector&) = delete;
  mqtt_collector& operator=(const mqtt_collector&) = delete;

  /// Waits until at least n messages arrived; false on timeout.
  bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout);
  /// Waits until pred(messages) is true (checked on every arrival); false on timeout.
  bool wait_until(const std::function<bool(const std::vector<collected_message>&)>& pred,
                  std::chrono::milliseconds timeout);
  /// Waits until no message arrived for `quiet` (or `timeout` passes); returns the count.
  std::size_t wait_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds timeout);
  /// Number of messages received so far.
  std::size_t count() const;
  /// Copy of every message received so far, in arrival order.
  std::vector<collected_message> messages() const;
  /// Forgets the messages received so far.
  void clear();
  /// Number of CONNACKs with success seen (1 + reconnects).
  int connects() const;
  /// Disconnects cleanly and stops the network thread (the destructor does it too).
  void close();

 private:
  static void on_connect(struct ::mosquitto* mosq, void* self, int rc);
  static void on_subscribe(struct ::mosquitto* mosq, void* self, int mid, int count,
                           const int* granted);
  static void on_message(struct ::mosquitto* mosq, void* self, const mosquitto_message* msg);

  struct ::mosquitto* mosq_ = nullptr;
  std::string pattern_;
  collector_options options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<collected_message> messages_;
  std::chrono::steady_clock::time_point last_arrival_;
  int connects_ = 0;
  int subacks_ = 0;
  bool closed_ = false;
};

/// Calls mosquitto_lib_init exactly once per process (thread-safe).
void ensure_mosquitto_lib_init();

}  // namespace factorysim::test
