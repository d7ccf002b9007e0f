#include "benchrun/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace factorysim::benchrun {

namespace {

int decode_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

child child::spawn(const std::vector<std::string>& argv_in, const spawn_options& options) {
  if (argv_in.empty()) throw std::runtime_error("spawn: empty command");
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  uid_t uid = 0;
  gid_t gid = 0;
  const bool switch_user = options.as_postgres && ::geteuid() == 0;
  if (switch_user) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr)
      throw std::runtime_error(
          "running as root but there is no `postgres` user to run PostgreSQL as");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  // Opened before fork: between fork and exec only async-signal-safe calls (we run threads).
  int out_fd = ::open(options.log_file.empty() ? "/dev/null" : options.log_file.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0)
    throw std::runtime_error("cannot open " + options.log_file + ": " + std::strerror(errno));
  int pipe_fds[2] = {-1, -1};
  if (options.stdout_to_pipe && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(out_fd);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  const std::string cwd = options.cwd.empty() ? "/tmp" : options.cwd;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // our Ctrl-C is ours: the runner stops each child in its order
    ::dup2(options.stdout_to_pipe ? pipe_fds[1] : out_fd, 1);
    ::dup2(out_fd, 2);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (switch_user && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0))
      _exit(126);
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  ::close(out_fd);
  child c;
  c.pid_ = pid;
  if (options.stdout_to_pipe) {
    ::close(pipe_fds[1]);
    c.stdout_fd_ = pipe_fds[0];
  }
  return c;
}

child::~child() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap_blocking();
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

child::child(child&& other) noexcept
    : pid_(other.pid_), stdout_fd_(other.stdout_fd_), status_(other.status_) {
  other.pid_ = -1;
  other.stdout_fd_ = -1;
}

child& child::operator=(child&& other) noexcept {
  if (this != &other) {
    this->~child();
    pid_ = other.pid_;
    stdout_fd_ = other.stdout_fd_;
    status_ = other.status_;
    other.pid_ = -1;
    other.stdout_fd_ = -1;
  }
  return *this;
}

bool child::running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  const pid_t w = ::waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return true;
}

void child::signal(int signal_number) const {
  if (pid_ > 0 && !status_) ::kill(pid_, signal_number);
}

std::optional<int> child::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

int child::stop(int signal_number, std::chrono::milliseconds grace) {
  if (!running()) return status_.value_or(-1);
  signal(signal_number);
  if (auto s = wait_for(grace)) return *s;
  ::kill(pid_, SIGKILL);
  reap_blocking();
  return status_.value_or(-1);
}

void child::reap_blocking() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_status(status);
}

run_result run_to_completion(const std::vector<std::string>& argv, const spawn_options& options,
                             std::chrono::milliseconds timeout) {
  std::string capture;
  spawn_options o = options;
  if (o.log_file.empty()) {
    capture = make_work_dir("factorysim-bench-cmd") + "/out";
    o.log_file = capture;
  }
  child c = child::spawn(argv, o);
  const auto status = c.wait_for(timeout);
  if (!status) {
    c.stop(SIGKILL, std::chrono::seconds(5));
    throw std::runtime_error(argv.front() + " did not finish within " +
                             std::to_string(timeout.count() / 1000) + " s");
  }
  run_result r;
  r.exit_code = *status;
  if (!capture.empty()) {
    std::ifstream in(capture);
    std::stringstream ss;
    ss << in.rdbuf();
    r.output = ss.str();
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(capture).parent_path(), ec);
  }
  return r;
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  return p.string();
}

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool tcp_accepts(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok =
      ::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string tail_of_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

std::string make_work_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  ::chmod(tmpl.c_str(), 0755);
  return tmpl;
}

}  // namespace factorysim::benchrun
