#include "sim/file_sink.hpp"

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace factorysim::sim {

namespace {
constexpr std::size_t buffer_bytes = 1 << 20;
}

file_sink::file_sink(const std::string& path) : file_sink(path, export_format::tsv, {}) {}

file_sink::file_sink(const std::string& path, export_format format,
                     std::vector<export_machine> machines)
    : format_(format), base_path_(path), machines_(std::move(machines)) {
  if (format_ == export_format::csv) {
    if (path == "-")
      throw std::invalid_argument("--format csv writes one file per stream: give --output a "
                                  "file name (hour.csv -> hour.energy.csv, ...), not -");
    for (const char* s : {"energy", "production", "environmental", "status", "events"}) {
      output& o = open(csv_path(path, s), s);
      o.columns = csv_columns(s);
      append_csv_header(o.pending, o.columns);
    }
  } else {
    open(path, {});
  }
  counters_.sessions = 1;
  counters_.connected_sessions = 1;
}

file_sink::output& file_sink::open(const std::string& path, std::string stream) {
  auto o = std::make_unique<output>();
  o->path = path;
  o->stream = std::move(stream);
  o->pending.reserve(buffer_bytes + 4096);
  if (path == "-") {
    o->file = stdout;
  } else {
    o->file = std::fopen(path.c_str(), "wb");
    if (o->file == nullptr)
      throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    o->owns = true;
  }
  outputs_.push_back(std::move(o));
  return *outputs_.back();
}

file_sink::~file_sink() {
  bool ignored = true;
  close_all(ignored);
}

std::vector<std::string> file_sink::paths() const {
  std::vector<std::string> p;
  for (const auto& o : outputs_) p.push_back(o->path);
  return p;
}

file_sink::output* file_sink::csv_output(std::string_view stream,
                                         const std::vector<flat_field>& fields) {
  for (auto& o : outputs_)
    if (o->stream == stream) return o.get();
  // A stream this version does not list: its columns are the keys of its first message.
  try {
    output& o = open(csv_path(base_path_, stream), std::string(stream));
    o.columns = csv_columns(stream);
    if (o.columns.empty())
      for (const auto& f : fields) o.columns.push_back(f.key);
    append_csv_header(o.pending, o.columns);
    return &o;
  } catch (const std::system_error&) {
    return nullptr;
  }
}

void file_sink::publish(std::size_t machine, std::string_view topic, std::string_view payload,
                        bool retain) {
  if (closed_ || outputs_.empty()) {
    ++counters_.publish_errors;
    return;
  }
  // Lines go into our own buffer, one fwrite per megabyte: stdio's per-call locking cost more
  // than formatting the message.
  output* o = outputs_.front().get();
  switch (format_) {
    case export_format::tsv:
      append_tsv(o->pending, topic, payload);
      break;
    case export_format::jsonl:
      append_jsonl(o->pending, topic, payload, retain);
      break;
    case export_format::csv:
      if (!parse_flat_json(payload, fields_) ||
          (o = csv_output(stream_of_topic(topic), fields_)) == nullptr) {
        ++counters_.publish_errors;
        failed_ = true;
        return;
      }
      append_csv_row(o->pending, o->columns, topic, fields_);
      break;
    case export_format::influx:
      if (!parse_flat_json(payload, fields_) ||
          !append_line_protocol(o->pending, stream_of_topic(topic),
                                machine < machines_.size() ? &machines_[machine] : nullptr,
                                fields_)) {
        ++counters_.publish_errors;
        failed_ = true;
        return;
      }
      break;
  }
  ++counters_.accepted;
  if (o->pending.size() >= buffer_bytes) write_pending(*o);
}

void file_sink::write_pending(output& o) {
  if (o.pending.empty() || o.file == nullptr) return;
  if (std::fwrite(o.pending.data(), 1, o.pending.size(), o.file) != o.pending.size()) {
    ++counters_.publish_errors;
    failed_ = true;
  }
  o.pending.clear();
}

void file_sink::close_all(bool& ok) {
  if (closed_) return;
  closed_ = true;
  for (auto& o : outputs_) {
    write_pending(*o);
    if (o->file == nullptr) continue;
    if (std::fflush(o->file) != 0) ok = false;
    if (o->owns && std::fclose(o->file) != 0) ok = false;
    o->file = nullptr;
  }
}

void file_sink::async_shutdown(std::chrono::milliseconds, std::function<void(bool)> done) {
  bool ok = true;
  close_all(ok);
  ok = ok && !failed_;
  counters_.connected_sessions = 0;
  done(ok);
}

}  // namespace factorysim::sim
