#include "sim/capture.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "sim/flat_json.hpp"
#include "sim/payload.hpp"

namespace factorysim::sim {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

/// The JSON string starting at `s[pos]` (a quote), decoded; npos-safe.
bool json_string_at(std::string_view s, std::size_t& pos, std::string& out) {
  // Reuse the flat reader on a one-key object: the capture's strings are short.
  if (pos >= s.size() || s[pos] != '"') return false;
  std::size_t end = pos + 1;
  while (end < s.size() && s[end] != '"') end += s[end] == '\\' ? 2 : 1;
  if (end >= s.size()) return false;
  std::vector<flat_field> f;
  const std::string doc = "{\"k\":" + std::string(s.substr(pos, end + 1 - pos)) + "}";
  if (!parse_flat_json(doc, f) || f.size() != 1 || f[0].kind != flat_kind::string) return false;
  out = f[0].text;
  pos = end + 1;
  return true;
}

}  // namespace

std::string_view base_topic(std::string_view topic) noexcept {
  const auto slash = topic.rfind('/');
  return slash == std::string_view::npos ? topic : topic.substr(0, slash);
}

std::optional<machines::sim_time> payload_time(std::string_view payload) noexcept {
  constexpr std::string_view key = "\"time\":\"";
  const auto at = payload.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const auto start = at + key.size();
  const auto end = payload.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  machines::sim_time t{};
  if (!parse_time(payload.substr(start, end - start), t)) return std::nullopt;
  return t;
}

capture_file::capture_file(const std::string& path) : path_(path) {
  if (path == "-") throw capture_error("replay reads a file twice: give a file name, not -");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw capture_error("cannot read " + path + ": " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw capture_error("cannot read " + path + ": not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map_ == MAP_FAILED) {
      const std::string why = errno_text();
      ::close(fd);
      map_ = nullptr;
      throw capture_error("cannot map " + path + ": " + why);
    }
    ::madvise(map_, size_, MADV_SEQUENTIAL);
    text_ = std::string_view(static_cast<const char*>(map_), size_);
  }
  ::close(fd);
  // The format is the first non-empty line's: a JSON object, or topic<TAB>payload.
  const auto first = text_.find_first_not_of("\r\n");
  jsonl_ = first != std::string_view::npos && text_[first] == '{';
}

capture_file::~capture_file() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

bool capture_file::next(std::size_t& offset, std::size_t& line, capture_message& out) const {
  while (offset < text_.size()) {
    auto end = text_.find('\n', offset);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view l = text_.substr(offset, end - offset);
    offset = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    out = capture_message{};
    out.line = line;
    const std::string where = path_ + ":" + std::to_string(line) + ": ";
    if (!jsonl_) {
      const auto tab = l.find('\t');
      if (tab == std::string_view::npos || tab == 0)
        throw capture_error(where + "expected topic<TAB>payload");
      out.topic = l.substr(0, tab);
      out.payload = l.substr(tab + 1);
      return true;
    }
    // {"topic":"...","retain":B,"payload":{...}}: the layout `run --format jsonl` writes.
    constexpr std::string_view head = "{\"topic\":";
    constexpr std::string_view retain_true = ",\"retain\":true,\"payload\":";
    constexpr std::string_view retain_false = ",\"retain\":false,\"payload\":";
    std::size_t pos = head.size();
    std::string topic;
    if (!l.starts_with(head) || !json_string_at(l, pos, topic))
      throw capture_error(where + "expected {\"topic\":\"...\",\"retain\":...,\"payload\":{...}}");
    const std::string_view rest = l.substr(pos);
    if (rest.starts_with(retain_true)) {
      out.retain = true;
      pos += retain_true.size();
    } else if (rest.starts_with(retain_false)) {
      out.retain = false;
      pos += retain_false.size();
    } else {
      throw capture_error(where + "expected \"retain\":true|false, then \"payload\"");
    }
    if (l.back() != '}' || pos >= l.size() - 1 || l[pos] != '{')
      throw capture_error(where + "expected a payload object and a closing }");
    // The topic as written: its escapes resolved (our topics have none, but keep it exact).
    // It must outlive the call, so the raw text in the file is used when it needs no decoding.
    const std::string_view raw_topic = l.substr(head.size() + 1, topic.size());
    if (raw_topic != topic)
      throw capture_error(where + "topics with JSON escapes are not supported by replay");
    out.topic = raw_topic;
    out.payload = l.substr(pos, l.size() - 1 - pos);
    return true;
  }
  return false;
}

capture_index capture_file::index() const {
  capture_index ix;
  ix.jsonl = jsonl_;
  std::unordered_map<std::string_view, std::size_t> seen;
  std::size_t offset = 0, line = 0;
  capture_message m;
  std::vector<flat_field> fields;
  while (next(offset, line, m)) {
    ++ix.messages;
    const std::string_view base = base_topic(m.topic);
    auto it = seen.find(base);
    if (it == seen.end()) {
      it = seen.emplace(base, ix.machines.size()).first;
      ix.machines.push_back({std::string(base), {}});
    }
    capture_machine& cm = ix.machines[it->second];
    if (cm.machine_id.empty() && parse_flat_json(m.payload, fields))
      if (const flat_field* id = find_field(fields, "machine_id");
          id != nullptr && id->kind == flat_kind::string)
        cm.machine_id = id->text;
    if (const auto t = payload_time(m.payload)) {
      if (!ix.first_time || *t < *ix.first_time) ix.first_time = *t;
      if (!ix.last_time || *t > *ix.last_time) ix.last_time = *t;
    }
  }
  return ix;
}

}  // namespace factorysim::sim
