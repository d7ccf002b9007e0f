#include "tests/support/postgres_server.hpp"
#include "tests/support/free_port.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace factorysim::test {
namespace {

const std::filesystem::path pg_bin_dir = "/usr/lib/postgresql/15/bin";


std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Who runs initdb and the server: ourselves, or `postgres` when we are root.
struct run_as {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

run_as server_user() {
  run_as who;
  if (::geteuid() != 0) return who;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    throw std::runtime_error(
        "running as root but there is no `postgres` user to run PostgreSQL as "
        "(install postgresql-15)");
  }
  who.switch_user = true;
  who.uid = pw->pw_uid;
  who.gid = pw->pw_gid;
  return who;
}

/// fork + exec with stdout/stderr to `out_fd` (or a file opened in append mode). Only
/// async-signal-safe calls happen between fork and exec: test binaries may run threads.
pid_t spawn(const std::vector<std::string>& args, const run_as& who, const std::string& cwd,
            int out_fd, const std::string& out_file) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int fd = out_fd;
    if (fd < 0) fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (who.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)
        _exit(126);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

/// Runs a program to completion, returns (exit status, combined output).
std::pair<int, std::string> run_capture(const std::vector<std::string>& args, const run_as& who,
                                        const std::string& cwd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = -1;
  try {
    pid = spawn(args, who, cwd, fds[1], {});
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, out};
}

std::filesystem::path make_private_dir(const run_as& who) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "factorysim-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  if (who.switch_user && ::chown(tmpl.c_str(), who.uid, who.gid) != 0) {
    const int err = errno;
    std::filesystem::remove_all(tmpl);
    throw std::runtime_error("chown " + tmpl + " to postgres: " + std::strerror(err));
  }
  return tmpl;
}

/// Child processes of `parent` (the server's backends and auxiliary processes), from /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> kids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path() / "stat");
    // Fields after the parenthesised command (which may itself hold spaces): state ppid ...
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) kids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return kids;
}

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace

postgres_server::postgres_server(std::string dbname, std::vector<std::string> extra_config)
    : dir_(make_private_dir(server_user())),
      dbname_(std::move(dbname)),
      extra_config_(std::move(extra_config)) {
  try {
    initdb();
    // The port is chosen once and kept, so that a restart comes back on the same address. If
    // another process grabbed it between pick and bind, try a fresh one (first start only).
    for (int attempt = 0;; ++attempt) {
      port_ = pick_free_port();
      try {
        start();
        break;
      } catch (const std::exception&) {
        if (attempt >= 2) throw;
      }
    }
    exec_sql_autocommit(conninfo("postgres"), "CREATE DATABASE \"" + dbname_ + "\"");
  } catch (...) {
    if (pid_ > 0) terminate(SIGKILL, std::chrono::seconds(5));
    std::error_code ec;
    if (std::getenv("FACTORYSIM_KEEP_TMP") == nullptr) std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

postgres_server::~postgres_server() {
  if (pid_ > 0) terminate(SIGINT, std::chrono::seconds(10));
  if (std::getenv("FACTORYSIM_KEEP_TMP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void postgres_server::initdb() {
  const run_as who = server_user();
  auto [code, out] =
      run_capture({(pg_bin_dir / "initdb").string(), "-D", (dir_ / "data").string(), "-U",
                   "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"},
                  who, dir_.string());
  if (code != 0) {
    throw std::runtime_error("initdb failed (exit " + std::to_string(code) + ") in " +
                             dir_.string() + ":\n" + out);
  }
  std::filesystem::create_directories(dir_ / "sock");
  if (who.switch_user && ::chown((dir_ / "sock").c_str(), who.uid, who.gid) != 0) {
    throw std::runtime_error("chown " + (dir_ / "sock").string() + ": " + std::strerror(errno));
  }
}

void postgres_server::write_config() const {
  // postgresql.conf takes the last value of a repeated key: our block goes after initdb's.
  const auto conf_path = dir_ / "data" / "postgresql.conf";
  std::string base = read_text(conf_path);
  const std::string marker = "\n# --- factorysim test harness ---\n";
  if (auto at = base.find(marker); at != std::string::npos) base.erase(at);
  std::ofstream conf(conf_path, std::ios::trunc);
  conf << base << marker << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << (dir_ / "sock").string() << "'\n"
       << "max_connections = 100\n"
       << "timezone = 'UTC'\n"
       << "log_timezone = 'UTC'\n"
       // Throw-away test cluster: durability against power loss is not needed, speed is.
       // synchronous_commit stays on: a commit must reach the kernel before it is
       // acknowledged, or kill() would lose acknowledged rows and break restart tests.
       << "fsync = off\n"
       << "synchronous_commit = on\n"
       << "full_page_writes = off\n"
       << "max_wal_size = '1GB'\n"
       << "log_min_messages = warning\n"
       << "log_line_prefix = '%m [%p] %d '\n";
  for (const auto& line : extra_config_) conf << line << "\n";
  if (!conf) throw std::runtime_error("cannot write " + conf_path.string());
}

std::string postgres_server::conninfo(std::string_view database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) +
         " user=postgres dbname=" + std::string(database);
}

std::string postgres_server::uri() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + dbname_;
}

std::string postgres_server::log() const {
  return read_text(dir_ / "server.log");
}

void postgres_server::start() {
  if (pid_ > 0) return;
  write_config();
  pid_ = spawn({(pg_bin_dir / "postgres").string(), "-D", (dir_ / "data").string()}, server_user(),
               dir_.string(), -1, (dir_ / "server.log").string());
  wait_until_ready(std::chrono::seconds(30));
}

void postgres_server::wait_until_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string ping_conninfo = conninfo("postgres") + " connect_timeout=2";
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("PostgreSQL exited during start-up (port " + std::to_string(port_) +
                               ", folder " + dir_.string() + "), log:\n" + log());
    }
    if (PQping(ping_conninfo.c_str()) == PQPING_OK) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  terminate(SIGKILL, std::chrono::seconds(5));
  throw std::runtime_error(
      "PostgreSQL did not accept connections on 127.0.0.1:" + std::to_string(port_) + " within " +
      std::to_string(timeout.count()) + " ms, log:\n" + log());
}

void postgres_server::terminate(int signal_number, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return;
  // On SIGKILL the postmaster cannot stop its backends; kill them too so that the next start
  // does not find the old shared memory still attached.
  std::vector<pid_t> kids;
  if (signal_number == SIGKILL) kids = children_of(pid_);
  ::kill(pid_, signal_number);
  for (pid_t kid : kids) ::kill(kid, SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kids = children_of(pid_);
      ::kill(pid_, SIGKILL);
      for (pid_t kid : kids) ::kill(kid, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Orphaned backends are reparented to init; wait until they are really gone.
  const auto kids_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t kid : kids) {
    while (process_exists(kid) && std::chrono::steady_clock::now() < kids_deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  pid_ = -1;
}

void postgres_server::stop() {
  terminate(SIGINT, std::chrono::seconds(30));
}

void postgres_server::kill() {
  terminate(SIGKILL, std::chrono::seconds(5));
}

std::string postgres_server::create_database(std::string_view prefix) {
  const std::string name = std::string(prefix) + "_" + std::to_string(::getpid()) + "_" +
                           std::to_string(++databases_created_);
  exec_sql_autocommit(conninfo("postgres"), "CREATE DATABASE \"" + name + "\"");
  return conninfo(name);
}

void postgres_server::drop_database(std::string_view database) {
  exec_sql_autocommit(conninfo("postgres"),
                      "DROP DATABASE IF EXISTS \"" + std::string(database) + "\" WITH (FORCE)");
}

void exec_sql(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c{conninfo};
  pqxx::work w{c};
  w.exec(sql);
  w.commit();
}

void exec_sql_autocommit(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c{conninfo};
  pqxx::nontransaction n{c};
  n.exec(sql);
}

std::vector<sql_row> query_rows(const std::string& conninfo, const std::string& sql) {
  pqxx::connection c{conninfo};
  pqxx::work w{c};
  const pqxx::result r = w.exec(sql);
  w.commit();
  std::vector<sql_row> rows;
  rows.reserve(r.size());
  for (const auto& row : r) {
    sql_row out;
    out.reserve(row.size());
    for (const auto& field : row) {
      if (field.is_null()) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(field.c_str()));
      }
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

std::string query_value(const std::string& conninfo, const std::string& sql) {
  const auto rows = query_rows(conninfo, sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    throw std::runtime_error("query_value: expected 1 row x 1 column, got " +
                             std::to_string(rows.size()) + " rows from: " + sql);
  }
  if (!rows[0][0]) throw std::runtime_error("query_value: NULL from: " + sql);
  return *rows[0][0];
}

double query_double(const std::string& conninfo, const std::string& sql) {
  return std::stod(query_value(conninfo, sql));
}

long long query_int(const std::string& conninfo, const std::string& sql) {
  return std::stoll(query_value(conninfo, sql));
}

std::string run_psql(const std::string& conninfo, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      (pg_bin_dir / "psql").string(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [code, out] = run_capture(argv, run_as{}, {});
  if (code != 0) throw std::runtime_error("psql exited " + std::to_string(code) + ":\n" + out);
  return out;
}

}  // namespace factorysim::test
