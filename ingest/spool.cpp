#include "ingest/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace factorysim::ingest {
namespace {

constexpr std::string_view magic = "FSSPOOL1";

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
    put_u32(s, static_cast<std::uint32_t>(m.topic.size()));
    put_u32(s, static_cast<std::uint32_t>(m.payload.size()));
    s += m.topic;
    s += m.payload;
  }
  return s;
}

std::vector<spooled_message> spool::decode(std::string_view bytes) {
  if (!bytes.starts_with(magic)) throw std::runtime_error("spool file has no FSSPOOL1 header");
  std::size_t pos = magic.size();
  const auto count = get_le(bytes, pos, 4);
  std::vector<spooled_message> out;
  out.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    spooled_message m;
    m.received_us = static_cast<unix_us>(get_le(bytes, pos, 8));
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

spool::spool(std::filesystem::path dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::filesystem::create_directories(dir_);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".tmp")) {
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
  const auto path = dir_ / file_name(files_.front().first);
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
