#include "ingest/stream_accounting.hpp"

#include <algorithm>
#include <cstring>

namespace factorysim::ingest {

namespace {
constexpr std::size_t slot_of(std::int64_t seq) noexcept {
  // The window is a power of two: the low bits are seq mod window, negative seqs included.
  return static_cast<std::size_t>(static_cast<std::uint64_t>(seq) &
                                  static_cast<std::uint64_t>(seq_tracker::window - 1));
}
static_assert((seq_tracker::window & (seq_tracker::window - 1)) == 0 &&
              seq_tracker::window % 64 == 0);
}  // namespace

bool seq_tracker::seen(std::int64_t seq) const noexcept {
  const std::size_t b = slot_of(seq);
  return (bits_[b / 64] >> (b % 64)) & 1U;
}

void seq_tracker::mark(std::int64_t seq) noexcept {
  const std::size_t b = slot_of(seq);
  bits_[b / 64] |= std::uint64_t{1} << (b % 64);
}

void seq_tracker::clear(std::int64_t seq) noexcept {
  const std::size_t b = slot_of(seq);
  bits_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
}

// Invariant: for every s in (highest_ - window, highest_], the bit of s says whether s was
// seen. Slots are reused as the top moves, so moving it clears the slots it takes over.
seq_verdict seq_tracker::observe(std::int64_t seq) noexcept {
  ++received_;
  if (received_ == 1) {
    first_ = highest_ = seq;
    mark(seq);
    return seq_verdict::first;
  }
  if (seq > highest_) {
    const std::int64_t step = seq - highest_;
    if (step >= window) {
      bits_.fill(0);
    } else {
      for (std::int64_t s = highest_ + 1; s < seq; ++s) clear(s);
    }
    mark(seq);
    lost_ += static_cast<std::uint64_t>(step - 1);
    highest_ = seq;
    return step == 1 ? seq_verdict::next : seq_verdict::after_gap;
  }
  if (highest_ - seq >= window) {
    ++beyond_window_;
    ++duplicates_;
    return seq_verdict::beyond_window;
  }
  if (seq < first_) {
    // Opens the range further down: the seqs between were never seen either.
    lost_ += static_cast<std::uint64_t>(first_ - seq - 1);
    first_ = seq;
    mark(seq);
    ++reordered_;
    return seq_verdict::reordered;
  }
  if (seen(seq)) {
    ++duplicates_;
    return seq_verdict::duplicate;
  }
  mark(seq);
  ++reordered_;
  --lost_;  // it was a gap
  return seq_verdict::reordered;
}

std::size_t stream_accounting::key_hash::operator()(const key& k) const noexcept {
  // A uuid's bytes are random enough (v4; v5 is a SHA-1): eight of them are the hash.
  std::uint64_t h = 0;
  std::memcpy(&h, k.machine_id.data() + 8, sizeof h);
  return static_cast<std::size_t>(h ^ (static_cast<std::uint64_t>(k.s) * 0x9e3779b97f4a7c15ULL));
}

void stream_accounting::observe(const uuid_bytes& machine_id, stream s,
                                std::optional<std::int64_t> seq) {
  if (!seq) {
    ++totals_.untracked;
    return;
  }
  auto it = streams_.find(key{machine_id, s});
  if (it == streams_.end()) {
    if (streams_.size() >= max_streams_) {
      ++totals_.untracked;
      return;
    }
    it = streams_.emplace(key{machine_id, s}, seq_tracker{}).first;
    ++totals_.streams;
  }
  seq_tracker& t = it->second;
  const std::uint64_t lost_before = t.lost();
  switch (t.observe(*seq)) {
    case seq_verdict::duplicate:
    case seq_verdict::beyond_window:
      ++totals_.duplicates;
      break;
    case seq_verdict::reordered:
      ++totals_.reordered;
      break;
    default:
      break;
  }
  totals_.lost = totals_.lost - lost_before + t.lost();
  ++totals_.tracked;
}

std::vector<stream_figures> stream_accounting::figures() const {
  std::vector<stream_figures> out;
  out.reserve(streams_.size());
  for (const auto& [k, t] : streams_)
    out.push_back({to_string(k.machine_id), k.s, t.received(), t.first_seq(), t.last_seq(),
                   t.lost(), t.duplicates(), t.reordered(), t.beyond_window()});
  std::sort(out.begin(), out.end(), [](const stream_figures& a, const stream_figures& b) {
    return a.machine_id != b.machine_id ? a.machine_id < b.machine_id : a.s < b.s;
  });
  return out;
}

}  // namespace factorysim::ingest
