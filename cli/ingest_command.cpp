// `factorysim ingest`: MQTT -> PostgreSQL. Options map 1:1 onto ingest::ingest_options;
// SIGTERM/SIGINT stop consumption and flush every batch before exit 0 (docs/ingest.md).
#include <csignal>
#include <iostream>
#include <limits>
#include <optional>

#include "cli/commands.hpp"
#include "ingest/ingestor.hpp"
#include "ingest/metrics_server.hpp"

namespace factorysim::cli {

namespace {

using mqtt_protocol = factorysim::mqtt::protocol;

std::atomic<bool> ingest_stop_requested{false};

extern "C" void on_ingest_signal(int) { ingest_stop_requested = true; }

struct ingest_args {
  ingest::ingest_options o;
  std::size_t flush_ms = 200;
  std::size_t flush_idle_ms = 10;
  std::string mqtt_version = "5";
  std::optional<std::uint32_t> max_inflight;
  std::string ack = "durable";
  double spool_max_mb = 1024;
  double max_payload_kib = 64;
  double max_future_days = 3650;
  std::string write_mode = "optimistic";
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;
  bool tls = false;
  bool tls_insecure = false;
  double db_connect_timeout_s = 10;
  double db_statement_timeout_s = 60;
};

}  // namespace

void add_ingest_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ingest_args>();
  auto* cmd = app.add_subcommand(
      "ingest", "Subscribe to the simulator's topics and store every message in PostgreSQL");
  auto& o = args->o;
  cmd->add_option("--db", o.db, "libpq conninfo or URI of the database")->required();
  cmd->add_option("--mqtt-host", o.mqtt_host, "MQTT broker host")->capture_default_str();
  cmd->add_option("--mqtt-port", o.mqtt_port, "MQTT broker port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--topic", o.topic, "topic filter to subscribe to")->capture_default_str();
  cmd->add_option("--group", o.group,
                  "share the stream with other ingestors: MQTT v5 $share/<group>/<topic>");
  cmd->add_option("--mqtt-version", args->mqtt_version,
                  "MQTT protocol: 5 (asks for an in-flight window of --max-inflight) or 3.1.1 "
                  "(the broker's max_inflight_messages applies, mosquitto's default is 20)")
      ->check(CLI::IsMember({"5", "3.1.1"}))
      ->capture_default_str();
  cmd->add_option("--max-inflight", args->max_inflight,
                  "unacknowledged messages the broker may send before it waits for our "
                  "acknowledgements; with --ack durable a batch never waits for more. MQTT 5: "
                  "sent as Receive Maximum, 1..65535 (default 65535); MQTT 3.1.1: set it to "
                  "the broker's max_inflight_messages (default 20; 0 = unlimited)");
  cmd->add_option("--ack", args->ack,
                  "durable: acknowledge a message once it is committed or spooled (kill -9 "
                  "loses nothing); received: once it is queued in memory (kill -9 loses the "
                  "queue and the batch in commit)")
      ->check(CLI::IsMember({"durable", "received"}))
      ->capture_default_str();
  cmd->add_option("--client-id", o.client_id,
                  "MQTT client id; fixed, because the broker keeps our session under it")
      ->capture_default_str();
  cmd->add_option("--username", o.username,
                  "MQTT user name (or FACTORYSIM_MQTT_USERNAME, or --mqtt-credentials-file)");
  cmd->add_option("--password", o.password,
                  "MQTT password; visible to `ps`: prefer FACTORYSIM_MQTT_PASSWORD or "
                  "--mqtt-credentials-file");
  cmd->add_option("--mqtt-credentials-file", o.credentials_file,
                  "file with the MQTT password, or the user name and the password on two lines");
  cmd->add_flag("--tls", args->tls, "connect to the broker over TLS (system CAs unless --tls-ca-file)");
  cmd->add_option("--tls-ca-file", args->tls_ca_file, "CA certificate(s) to verify the broker (implies --tls)");
  cmd->add_option("--tls-cert-file", args->tls_cert_file, "client certificate (PEM, implies --tls)");
  cmd->add_option("--tls-key-file", args->tls_key_file, "client key (PEM, with --tls-cert-file)");
  cmd->add_option("--tls-server-name", args->tls_server_name,
                  "name to send as SNI and to verify in the broker's certificate (default: "
                  "--mqtt-host)");
  cmd->add_flag("--tls-insecure", args->tls_insecure,
                "do not verify the broker's host name (still encrypted; for tests)");
  cmd->add_option("--batch-rows", o.batch_rows,
                  "flush a batch at this many messages (with --ack durable: or at the in-flight "
                  "window, --max-inflight, if that is smaller)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--flush-ms", args->flush_ms, "flush a batch when its oldest message is this old")
      ->check(CLI::Range(std::size_t{1}, std::size_t{3'600'000}))
      ->capture_default_str();
  cmd->add_option("--flush-idle-ms", args->flush_idle_ms,
                  "flush a batch when no message came for this long (0 = never): a broker "
                  "that allows fewer unacknowledged messages than we think then waits this "
                  "long, not --flush-ms")
      ->check(CLI::Range(std::size_t{0}, std::size_t{3'600'000}))
      ->capture_default_str();
  cmd->add_option("--spool-dir", o.spool_dir,
                  "where batches wait while the database is away (default: "
                  "$XDG_STATE_HOME or ~/.local/state /factorysim/spool/<client id>); locked "
                  "while in use, and bound to the database it was filled for");
  cmd->add_flag("--start-without-db", o.start_without_db,
                "start even if the database cannot be reached, spooling until it can "
                "(default: exit 1)");
  cmd->add_option("--schema", o.db_session.schema,
                  "PostgreSQL schema holding the tables (default: the server's search_path)");
  cmd->add_option("--db-connect-timeout-s", args->db_connect_timeout_s,
                  "give up a database connection attempt after this long (0 = never)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--db-statement-timeout-s", args->db_statement_timeout_s,
                  "cancel a statement that runs this long; the batch is retried or spooled "
                  "(0 = the server's setting)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--spool-max-mb", args->spool_max_mb,
                  "spool size at which consumption pauses (the broker then queues)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-payload-kib", args->max_payload_kib,
                  "larger payloads are dead letters (their first 4 KiB, size and SHA-256 are "
                  "kept; they are never held whole in memory)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-future-days", args->max_future_days,
                  "readings stamped further ahead of the wall clock are dead letters "
                  "(time_out_of_range); accelerated runs from now reach ahead by speed x run "
                  "time (docs/ingest.md); 0 = no limit")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  cmd->add_option("--status-interval-s", o.status_interval_s,
                  "seconds between status lines on stderr (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-messages", o.max_messages, "stop after this many messages (tests)");
  cmd->add_option("--exit-when-idle-s", o.exit_when_idle_s,
                  "stop after this many seconds without a message (tests)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--metrics", o.metrics_listen,
                  "serve Prometheus text at http://ADDR:PORT/metrics: received, committed, "
                  "lost, duplicate, reordered counters and latency histograms (docs/ingest.md)")
      ->check([](const std::string& v) {
        return ingest::parse_listen_address(v) ? std::string() : "expected ADDR:PORT, got " + v;
      });
  cmd->add_option("--summary-json", o.summary_json,
                  "write the measurement summary (counts, latency percentiles, histograms, "
                  "per-stream seq accounting) to FILE at exit (docs/ingest.md)");
  cmd->add_option("--write-mode", args->write_mode,
                  "optimistic: COPY into the tables, a batch with a redelivered message is "
                  "redone through staging tables that drop it; staged: always through staging "
                  "tables; direct: never (a redelivery becomes a dead letter)")
      ->check(CLI::IsMember({"optimistic", "staged", "direct"}))
      ->capture_default_str();
  cmd->callback([args, &exit_code] {
    auto& opts = args->o;
    opts.flush_interval = std::chrono::milliseconds(args->flush_ms);
    opts.flush_idle = std::chrono::milliseconds(args->flush_idle_ms);
    opts.mqtt_version = args->mqtt_version == "5" ? mqtt_protocol::v5 : mqtt_protocol::v311;
    if (!opts.group.empty() && opts.mqtt_version != mqtt_protocol::v5)
      throw CLI::ValidationError("--group", "shared subscriptions need --mqtt-version 5");
    if (args->max_inflight && opts.mqtt_version == mqtt_protocol::v5 &&
        (*args->max_inflight < 1 || *args->max_inflight > 65535))
      throw CLI::ValidationError("--max-inflight", "must be in 1..65535 with MQTT 5");
    opts.max_inflight = args->max_inflight;
    opts.ack = args->ack == "received" ? ingest::ack_policy::received : ingest::ack_policy::durable;
    // Upper bounds checked here: CLI11's range checks let NaN through, and an out-of-range
    // double -> integer cast below is UB. A ParseError thrown here exits 2 (bad usage).
    if (!(args->spool_max_mb <= 1e9))
      throw CLI::ValidationError("--spool-max-mb", "must be a number in (0, 1e9]");
    if (!(args->max_payload_kib <= 1024 * 1024))
      throw CLI::ValidationError("--max-payload-kib", "must be a number in (0, 1048576]");
    opts.spool_max_bytes = static_cast<std::uint64_t>(args->spool_max_mb * 1024 * 1024);
    // 0 = no limit: as far as the microsecond clock reaches (the year 294,000).
    opts.decode.max_future_us =
        args->max_future_days > 0
            ? static_cast<ingest::unix_us>(args->max_future_days * 86400.0 * 1e6)
            : std::numeric_limits<ingest::unix_us>::max() / 2;
    opts.db_session.connect_timeout_s = static_cast<int>(args->db_connect_timeout_s + 0.999);
    opts.db_session.statement_timeout_ms = static_cast<int>(args->db_statement_timeout_s * 1000);
    const bool tls = args->tls || !args->tls_ca_file.empty() || !args->tls_cert_file.empty() ||
                     args->tls_insecure || !args->tls_server_name.empty();
    if (args->tls_cert_file.empty() != args->tls_key_file.empty())
      throw CLI::ValidationError("--tls-cert-file", "goes with --tls-key-file");
    if (tls)
      opts.tls = mqtt::tls_options{args->tls_ca_file, args->tls_cert_file, args->tls_key_file,
                                   args->tls_server_name, args->tls_insecure};
    opts.decode.max_payload_bytes = static_cast<std::size_t>(args->max_payload_kib * 1024);
    opts.mode = args->write_mode == "direct"   ? ingest::write_mode::direct
                : args->write_mode == "staged" ? ingest::write_mode::staged
                                               : ingest::write_mode::optimistic;
    struct sigaction sa {};
    sa.sa_handler = on_ingest_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    try {
      ingest::run_ingest(opts, ingest_stop_requested, std::cerr);
      exit_code = 0;
    } catch (const std::exception& e) {
      std::cerr << "factorysim ingest: " << e.what() << '\n';
      exit_code = 1;
    }
  });
}

}  // namespace factorysim::cli
