#include "sim/file_sink.hpp"

#include <cerrno>
#include <system_error>

namespace factorysim::sim {

namespace {
constexpr std::size_t buffer_bytes = 1 << 20;
}

file_sink::file_sink(const std::string& path) {
  pending_.reserve(buffer_bytes + 4096);
  if (path == "-") {
    file_ = stdout;
  } else {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr)
      throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    owns_ = true;
  }
  counters_.sessions = 1;
  counters_.connected_sessions = 1;
}

file_sink::~file_sink() {
  if (file_ == nullptr) return;
  write_pending();
  if (owns_)
    std::fclose(file_);
  else
    std::fflush(file_);
}

void file_sink::publish(std::size_t, std::string_view topic, std::string_view payload, bool) {
  if (file_ == nullptr) {
    ++counters_.publish_errors;
    return;
  }
  // One line into our own buffer, one fwrite per megabyte: stdio's per-call locking cost more
  // than formatting the message.
  pending_.append(topic);
  pending_ += '\t';
  pending_.append(payload);
  pending_ += '\n';
  ++counters_.accepted;
  if (pending_.size() >= buffer_bytes) write_pending();
}

void file_sink::write_pending() {
  if (pending_.empty() || file_ == nullptr) return;
  if (std::fwrite(pending_.data(), 1, pending_.size(), file_) != pending_.size()) {
    ++counters_.publish_errors;
    failed_ = true;
  }
  pending_.clear();
}

void file_sink::async_shutdown(std::chrono::milliseconds, std::function<void(bool)> done) {
  write_pending();
  bool ok = !failed_;
  if (file_ != nullptr) {
    if (std::fflush(file_) != 0) ok = false;
    if (owns_ && std::fclose(file_) != 0) ok = false;
    file_ = nullptr;
  }
  counters_.connected_sessions = 0;
  done(ok);
}

}  // namespace factorysim::sim
