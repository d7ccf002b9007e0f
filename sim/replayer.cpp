#include "sim/replayer.hpp"

#include <boost/asio/post.hpp>

#include "sim/payload.hpp"

namespace factorysim::sim {

int rebase_payload(std::string_view payload, std::chrono::milliseconds offset, std::string& out,
                   std::vector<flat_field>& scratch) {
  out.clear();
  if (!parse_flat_json(payload, scratch)) {
    out.assign(payload);
    return -1;
  }
  int changed = 0;
  std::size_t copied = 0;
  for (const auto& f : scratch) {
    if (f.kind != flat_kind::string) continue;
    if (f.key != "time" && !f.key.ends_with("_at")) continue;
    machines::sim_time t{};
    if (!parse_time(f.text, t)) continue;  // not a time as we write them: left as it is
    out.append(payload.substr(copied, f.offset - copied));
    out += '"';
    append_time(out, t + offset);
    out += '"';
    copied = f.offset + f.raw.size();
    ++changed;
  }
  out.append(payload.substr(copied));
  return changed;
}

replayer::replayer(boost::asio::io_context& io, const capture_file& capture,
                   const capture_index& index, message_sink& sink, replay_options options)
    : io_(io), capture_(capture), sink_(sink), options_(options), jsonl_(index.jsonl), timer_(io) {
  for (std::size_t i = 0; i < index.machines.size(); ++i)
    machine_of_.emplace(index.machines[i].topic, i);
  first_time_ = index.first_time;
  sink_.on_ready([this] {
    if (!waiting_ready_) return;
    waiting_ready_ = false;
    boost::asio::post(io_, [this] { pump(); });
  });
}

void replayer::start() {
  sink_.start();
  // The capture's earliest instant maps to now; messages follow at their distance from it.
  if (options_.speed > 0 && first_time_)
    pacer_.emplace(scenarios::time_mode::accelerated, options_.speed, *first_time_,
                   pacer::wall_clock::now());
  boost::asio::post(io_, [this] { pump(); });
}

void replayer::request_stop() {
  if (stopping_) return;
  stopping_ = true;
  timer_.cancel();
  finish();
}

void replayer::pump() {
  if (stopping_) return;
  std::size_t sent = 0;
  for (;;) {
    if (!have_current_) {
      try {
        if (!capture_.next(offset_, line_, current_)) {
          stopping_ = true;
          finish();
          return;
        }
      } catch (const capture_error&) {
        // index() read every line before the start: only a file changed under us gets here.
        status_.ok = false;
        stopping_ = true;
        finish();
        return;
      }
      have_current_ = true;
    }
    if (pacer_) {
      const auto t = payload_time(current_.payload);
      const auto due = t ? std::max(last_due_, pacer_->wall_at(*t)) : last_due_;
      const auto now = pacer::wall_clock::now();
      if (due > now) {
        timer_.expires_at(due);
        timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec) pump();
        });
        return;
      }
      if (now - due > std::chrono::seconds(1)) ++status_.late;
      last_due_ = due;
    }
    const auto it = machine_of_.find(base_topic(current_.topic));
    const std::size_t machine = it == machine_of_.end() ? 0 : it->second;
    if (!sink_.ready(machine)) {
      waiting_ready_ = true;  // on_ready posts pump() again
      return;
    }
    bool retain = false;
    if (options_.retain == replay_retain::capture)
      retain = current_.retain ? *current_.retain : current_.topic.ends_with("/status");
    if (options_.time_offset) {
      const int n = rebase_payload(current_.payload, *options_.time_offset, rebased_, scratch_);
      if (n > 0) status_.rebased_values += static_cast<std::uint64_t>(n);
      sink_.publish(machine, current_.topic, rebased_, retain);
    } else {
      sink_.publish(machine, current_.topic, current_.payload, retain);
    }
    ++status_.published;
    have_current_ = false;
    if (++sent >= options_.yield_every) {
      boost::asio::post(io_, [this] { pump(); });
      return;
    }
  }
}

void replayer::finish() {
  sink_.async_shutdown(options_.shutdown_timeout, [this](bool ok) {
    status_.finished = true;
    status_.ok = status_.ok && ok;
    if (on_finished_) on_finished_(status_.ok);
  });
}

}  // namespace factorysim::sim
