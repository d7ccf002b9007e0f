#include "ingest/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace factorysim::ingest {
namespace {

constexpr std::string_view magic_v1 = "FSSPOOL1";
/// Version 2 adds, per record, a flags byte (bit 0: truncated) and for truncated payloads
/// their whole size and SHA-256.
constexpr std::string_view magic = "FSSPOOL2";

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get_le(std::string_view s, std::size_t& pos, int n) {
  if (pos + static_cast<std::size_t>(n) > s.size())
    throw std::runtime_error("spool file truncated");
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[pos + static_cast<std::size_t>(i)]))
         << (8 * i);
  pos += static_cast<std::size_t>(n);
  return v;
}

std::string file_name(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llu.batch", static_cast<unsigned long long>(n));
  return buf;
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("spool: cannot write " + path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw_errno("spool: cannot open " + dir.string());
  // The rename is only durable once the folder is: a batch is acknowledged to the broker as
  // soon as append() returns, so a failure here must not pass silently. (The renamed file may
  // then be replayed and redelivered both; the unique keys drop the second copy.)
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    throw_errno("spool: fsync " + dir.string());
  }
  ::close(fd);
}

}  // namespace

std::string spool::encode(std::span<const spooled_message> batch) {
  std::string s(magic);
  put_u32(s, static_cast<std::uint32_t>(batch.size()));
  for (const auto& m : batch) {
    put_u64(s, static_cast<std::uint64_t>(m.received_us));
    s.push_back(m.truncated ? '\x01' : '\x00');
    if (m.truncated) {
      put_u64(s, m.payload_bytes);
      std::string sha = m.payload_sha256;
      sha.resize(32, '\0');
      s += sha;
    }
    put_u32(s, static_cast<std::uint32_t>(m.topic.size()));
    put_u32(s, static_cast<std::uint32_t>(m.payload.size()));
    s += m.topic;
    s += m.payload;
  }
  return s;
}

std::vector<spooled_message> spool::decode(std::string_view bytes) {
  const bool v1 = bytes.starts_with(magic_v1);
  if (!v1 && !bytes.starts_with(magic))
    throw std::runtime_error("spool file has no FSSPOOL2 (or FSSPOOL1) header");
  std::size_t pos = magic.size();
  const auto count = get_le(bytes, pos, 4);
  std::vector<spooled_message> out;
  out.reserve(std::min<std::uint64_t>(count, bytes.size() / 16));
  for (std::uint64_t i = 0; i < count; ++i) {
    spooled_message m;
    m.received_us = static_cast<unix_us>(get_le(bytes, pos, 8));
    if (!v1) {
      const auto flags = get_le(bytes, pos, 1);
      if (flags > 1) throw std::runtime_error("spool record has unknown flags");
      m.truncated = flags == 1;
      if (m.truncated) {
        m.payload_bytes = get_le(bytes, pos, 8);
        if (pos + 32 > bytes.size()) throw std::runtime_error("spool file truncated");
        m.payload_sha256.assign(bytes.substr(pos, 32));
        pos += 32;
      }
    }
    const auto topic_len = get_le(bytes, pos, 4);
    const auto payload_len = get_le(bytes, pos, 4);
    if (pos + topic_len + payload_len > bytes.size())
      throw std::runtime_error("spool file truncated");
    m.topic.assign(bytes.substr(pos, topic_len));
    pos += topic_len;
    m.payload.assign(bytes.substr(pos, payload_len));
    pos += payload_len;
    out.push_back(std::move(m));
  }
  if (pos != bytes.size()) throw std::runtime_error("spool file has trailing bytes");
  return out;
}

namespace {

constexpr std::string_view target_file = "target";

/// Reads `target` (key=value lines); empty target when there is none.
spool_target read_target(const std::filesystem::path& dir) {
  spool_target t;
  std::ifstream in(dir / target_file);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "system_identifier") t.system_identifier = value;
    if (key == "database") t.database = value;
    if (key == "schema") t.schema = value;
    if (key == "address") t.address = value;
  }
  return t;
}

}  // namespace

std::string spool_target::mismatch(const spool_target& o) const {
  const auto differ = [](const std::string& a, const std::string& b) {
    return !a.empty() && !b.empty() && a != b;
  };
  if (differ(system_identifier, o.system_identifier))
    return "another PostgreSQL cluster (system identifier " + o.system_identifier + ", not " +
           system_identifier + ")";
  if (differ(database, o.database)) return "database " + o.database + ", not " + database;
  if (differ(schema, o.schema)) return "schema " + o.schema + ", not " + schema;
  // The address only counts when the cluster itself is unknown on one side.
  if ((system_identifier.empty() || o.system_identifier.empty()) && differ(address, o.address))
    return "server " + o.address + ", not " + address;
  return {};
}

std::string spool_target::to_string() const {
  std::string s = "database " + (database.empty() ? std::string("?") : database);
  if (!schema.empty()) s += ", schema " + schema;
  if (!address.empty()) s += " at " + address;
  if (!system_identifier.empty()) s += " (system identifier " + system_identifier + ")";
  return s;
}

std::filesystem::path default_spool_dir(std::string_view client_id) {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && *x == '/') {
    base = x;
  } else if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
    base = std::filesystem::path(h) / ".local" / "state";
  } else {
    base = "/var/tmp";
  }
  // A client id may hold '/' (MQTT allows it): keep the folder name one path component.
  std::string name(client_id.empty() ? std::string_view("factorysim-ingest") : client_id);
  for (auto& c : name)
    if (c == '/' || c == '\0') c = '_';
  if (name == "." || name == "..") name = "_" + name;
  return base / "factorysim" / "spool" / name;
}

spool::spool(std::filesystem::path dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::filesystem::create_directories(dir_);
  const auto lock_path = dir_ / ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw_errno("spool: cannot open " + lock_path.string());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    char pid[32] = {};
    [[maybe_unused]] const auto n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (e == EWOULDBLOCK)
      throw std::runtime_error("spool folder " + dir_.string() +
                               " is in use by another ingestor (pid " +
                               std::string(pid[0] ? pid : "?") +
                               "); give each ingestor its own --spool-dir (or client id)");
    errno = e;
    throw_errno("spool: cannot lock " + lock_path.string());
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(lock_fd_, me.data(), me.size(), 0);
  }
  target_ = read_target(dir_);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".batch.tmp")) {
      // A batch that never finished its fsync + rename: it was not acknowledged as spooled.
      std::filesystem::remove(entry.path());
      continue;
    }
    if (!name.ends_with(".batch")) continue;
    const auto number = std::strtoull(name.c_str(), nullptr, 10);
    const auto size = entry.file_size();
    files_.emplace_back(number, size);
    bytes_ += size;
  }
  std::sort(files_.begin(), files_.end());
  if (!files_.empty()) next_number_ = files_.back().first + 1;
}

spool::~spool() {
  // Closing the descriptor releases the lock.
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void spool::set_target(const spool_target& t) {
  std::string text = "system_identifier=" + t.system_identifier + "\ndatabase=" + t.database +
                     "\nschema=" + t.schema + "\naddress=" + t.address + "\n";
  const auto final_path = dir_ / target_file;
  const auto tmp_path = dir_ / (std::string(target_file) + ".tmp");
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("spool: cannot create " + tmp_path.string());
  try {
    write_all(fd, text, tmp_path.string());
    if (::fsync(fd) != 0) throw_errno("spool: fsync " + tmp_path.string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  std::filesystem::rename(tmp_path, final_path);
  fsync_dir(dir_);
  target_ = t;
}

void spool::append(std::span<const spooled_message> batch) {
  const std::string data = encode(batch);
  const std::uint64_t number = next_number_++;
  const auto final_path = dir_ / file_name(number);
  const auto tmp_path = dir_ / (file_name(number) + ".tmp");
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("spool: cannot create " + tmp_path.string());
  try {
    write_all(fd, data, tmp_path.string());
    if (::fsync(fd) != 0) throw_errno("spool: fsync " + tmp_path.string());
  } catch (...) {
    ::close(fd);
    std::filesystem::remove(tmp_path);
    throw;
  }
  ::close(fd);
  std::filesystem::rename(tmp_path, final_path);
  fsync_dir(dir_);
  files_.emplace_back(number, data.size());
  bytes_ += data.size();
}

std::optional<std::vector<spooled_message>> spool::oldest() const {
  if (files_.empty()) return std::nullopt;
  return read_file(0);
}

std::vector<spooled_message> spool::oldest_batches(std::size_t max_messages,
                                                   std::size_t& files) const {
  std::vector<spooled_message> out;
  files = 0;
  while (files < files_.size()) {
    auto next = read_file(files);
    if (files > 0 && out.size() + next.size() > max_messages) break;
    for (auto& m : next) out.push_back(std::move(m));
    ++files;
  }
  return out;
}

void spool::pop(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) pop();
}

std::vector<spooled_message> spool::read_file(std::size_t index) const {
  const auto path = dir_ / file_name(files_.at(index).first);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("spool: cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return decode(ss.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

void spool::pop() {
  if (files_.empty()) return;
  const auto [number, size] = files_.front();
  std::filesystem::remove(dir_ / file_name(number));
  files_.erase(files_.begin());
  bytes_ -= size;
}

}  // namespace factorysim::ingest
