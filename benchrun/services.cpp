#include "benchrun/services.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <thread>

namespace factorysim::benchrun {

namespace {

const std::string pg_bin = "/usr/lib/postgresql/15/bin";

template <class Ready>
void wait_until(Ready ready, child& process, std::chrono::milliseconds timeout,
                const std::string& what, const std::string& log_file) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    if (!process.running())
      throw std::runtime_error(what + " exited at start-up; its log " + log_file + ":\n" +
                               tail_of_file(log_file));
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(what + " did not become ready within " +
                               std::to_string(timeout.count() / 1000) + " s; its log " + log_file +
                               ":\n" + tail_of_file(log_file));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

private_broker::private_broker(const std::string& work_dir) {
  const std::string dir = work_dir + "/mosquitto";
  std::filesystem::create_directories(dir);
  log_file_ = dir + "/mosquitto.log";
  // The port can be taken between pick and bind by another process: try a few.
  for (int attempt = 0;; ++attempt) {
    port_ = pick_free_port();
    {
      std::ofstream conf(dir + "/mosquitto.conf");
      conf << "listener " << port_ << " 127.0.0.1\n"
           << "allow_anonymous true\n"
           << "persistence false\n"
           << "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
           << "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n";
    }
    process_ = child::spawn({"mosquitto", "-c", dir + "/mosquitto.conf"}, logging_to(log_file_));
    try {
      wait_until([&] { return tcp_accepts("127.0.0.1", port_); }, process_,
                 std::chrono::seconds(10), "mosquitto", log_file_);
      return;
    } catch (const std::exception&) {
      process_.stop(SIGKILL, std::chrono::seconds(2));
      if (attempt >= 2) throw;
    }
  }
}

void private_broker::stop() {
  process_.stop(SIGTERM, std::chrono::seconds(10));
}

private_postgres::private_postgres(const std::string& work_dir) : dir_(work_dir + "/pg") {
  std::filesystem::create_directories(dir_);
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) throw std::runtime_error("running as root but there is no `postgres` user");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot chown " + dir_ + " to postgres");
  }
  const std::string log = dir_ + "/server.log";
  {
    // The log is opened by us (root) before the switch: make it writable for postgres.
    std::ofstream touch(log);
  }
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (::chown(log.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot chown " + log + " to postgres");
  }
  const auto init = run_to_completion({pg_bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres",
                                       "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"},
                                      logging_to(log, true), std::chrono::seconds(120));
  if (init.exit_code != 0)
    throw std::runtime_error("initdb failed; its log " + log + ":\n" + tail_of_file(log));
  std::filesystem::create_directories(dir_ + "/sock");
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (::chown((dir_ + "/sock").c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot chown the socket folder to postgres");
  }
  for (int attempt = 0;; ++attempt) {
    port_ = pick_free_port();
    // Same settings as scripts/pg-local.sh; max_locks_per_transaction as bench/ingest_bench.sh
    // (db init creates many day partitions in one transaction).
    process_ = child::spawn(
        {pg_bin + "/postgres", "-D", dir_ + "/data", "-c", "listen_addresses=127.0.0.1", "-c",
         "port=" + std::to_string(port_), "-c", "unix_socket_directories=" + dir_ + "/sock", "-c",
         "fsync=off", "-c", "full_page_writes=off", "-c", "max_wal_size=2GB", "-c", "timezone=UTC",
         "-c", "max_locks_per_transaction=4096"},
        logging_to(log, true));
    try {
      const std::string admin = "host=127.0.0.1 port=" + std::to_string(port_) +
                                " user=postgres dbname=postgres connect_timeout=2";
      wait_until([&] { return PQping(admin.c_str()) == PQPING_OK; }, process_,
                 std::chrono::seconds(60), "PostgreSQL", log);
      PGconn* conn = PQconnectdb(admin.c_str());
      PGresult* res = PQexec(conn, "CREATE DATABASE factorysim");
      const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      const std::string error = PQerrorMessage(conn);
      PQclear(res);
      PQfinish(conn);
      if (!ok) throw std::runtime_error("CREATE DATABASE failed: " + error);
      return;
    } catch (const std::exception&) {
      process_.stop(SIGKILL, std::chrono::seconds(2));
      if (attempt >= 2) throw;
    }
  }
}

private_postgres::~private_postgres() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_ + "/data", ec);
}

std::string private_postgres::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=factorysim";
}

std::string private_postgres::settings() {
  return "fsync=off full_page_writes=off max_wal_size=2GB max_locks_per_transaction=4096";
}

void private_postgres::stop() {
  process_.stop(SIGINT, std::chrono::seconds(20));
}

std::string mosquitto_version() {
  try {
    const auto r = run_to_completion({"mosquitto", "-h"}, {}, std::chrono::seconds(5));
    std::smatch m;
    static const std::regex version_re("mosquitto version ([0-9.]+)");
    if (std::regex_search(r.output, m, version_re)) return m[1].str();
  } catch (const std::exception&) {
  }
  return "unknown";
}

}  // namespace factorysim::benchrun
