// `factorysim ingest`: MQTT -> PostgreSQL. Options map 1:1 onto ingest::ingest_options;
// SIGTERM/SIGINT stop consumption and flush every batch before exit 0 (docs/ingest.md).
#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "ingest/ingestor.hpp"

namespace factorysim::cli {

namespace {

std::atomic<bool> ingest_stop_requested{false};

extern "C" void on_ingest_signal(int) { ingest_stop_requested = true; }

struct ingest_args {
  ingest::ingest_options o;
  std::size_t flush_ms = 200;
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
  cmd->add_option("--client-id", o.client_id,
                  "MQTT client id; fixed, because the broker keeps our session under it")
      ->capture_default_str();
  cmd->add_option("--username", o.username, "MQTT user name");
  cmd->add_option("--password", o.password, "MQTT password");
  cmd->add_option("--batch-rows", o.batch_rows, "flush a batch at this many messages")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--flush-ms", args->flush_ms,
                  "flush a batch when its oldest message is this old; bounds what kill -9 loses")
      ->check(CLI::Range(std::size_t{1}, std::size_t{3'600'000}))
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
