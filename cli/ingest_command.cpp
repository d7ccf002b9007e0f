// `factorysim ingest`: MQTT -> PostgreSQL. Options map 1:1 onto ingest::ingest_options;
// SIGTERM/SIGINT stop consumption and flush every batch before exit 0 (docs/ingest.md).
#include <csignal>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "ingest/ingestor.hpp"

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
  std::string write_mode = "optimistic";
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
  cmd->add_option("--username", o.username, "MQTT user name");
  cmd->add_option("--password", o.password, "MQTT password");
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
  cmd->add_option("--spool-dir", o.spool_dir, "where batches wait while the database is away")
      ->capture_default_str();
  cmd->add_option("--spool-max-mb", args->spool_max_mb,
                  "spool size at which consumption pauses (the broker then queues)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-payload-kib", args->max_payload_kib, "larger payloads are rejected")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--status-interval-s", o.status_interval_s,
                  "seconds between status lines on stderr (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--max-messages", o.max_messages, "stop after this many messages (tests)");
  cmd->add_option("--exit-when-idle-s", o.exit_when_idle_s,
                  "stop after this many seconds without a message (tests)")
      ->check(CLI::NonNegativeNumber);
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
