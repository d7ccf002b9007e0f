#pragma once
/// Loss, duplicate and reorder accounting from the `seq` every message carries (one counter
/// per machine and stream, starting at 1; docs/topics.md). Plain values, no locking, no
/// clock: the ingestor feeds them on its network thread and the views read a copy.
///
/// Definitions (docs/ingest.md#accounting): the first seq seen of a stream opens its range;
/// a seq above the highest seen moves the top, and the seqs skipped are counted lost; a seq
/// below the highest not seen before fills a gap: reordered, and one fewer lost (below the
/// first seen: it opens the range further down, the seqs in between count as lost); a seq
/// seen before is a duplicate. Memory is bounded: each stream remembers only the last
/// `window` seqs below its highest in a ring bitmap, so a seq older than that cannot be
/// told apart and counts as a duplicate (and as beyond_window); the number of streams is
/// capped, messages of further streams are only counted as untracked.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/rows.hpp"

namespace factorysim::ingest {

/// What one seq turned out to be.
enum class seq_verdict : std::uint8_t {
  first,        ///< opened the stream's range
  next,         ///< highest + 1
  after_gap,    ///< above highest + 1: the seqs between count as lost
  reordered,    ///< below the highest, not seen before
  duplicate,    ///< seen before
  beyond_window ///< older than the window: counted as a duplicate
};

/// One stream's seqs.
class seq_tracker {
 public:
  /// Seqs below the highest that are remembered (a multiple of 64).
  static constexpr std::int64_t window = 1024;

  seq_verdict observe(std::int64_t seq) noexcept;

  std::uint64_t received() const noexcept { return received_; }
  std::int64_t first_seq() const noexcept { return first_; }
  std::int64_t last_seq() const noexcept { return highest_; }  ///< the highest seen
  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  std::uint64_t beyond_window() const noexcept { return beyond_window_; }

 private:
  bool seen(std::int64_t seq) const noexcept;
  void mark(std::int64_t seq) noexcept;
  void clear(std::int64_t seq) noexcept;

  std::array<std::uint64_t, window / 64> bits_{};  ///< bit (seq mod window): seq was seen
  std::uint64_t received_ = 0;
  std::int64_t first_ = 0;
  std::int64_t highest_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t beyond_window_ = 0;
};

/// One stream's figures, for the views.
struct stream_figures {
  std::string machine_id;  ///< canonical uuid text
  stream s = stream::energy;
  std::uint64_t received = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t beyond_window = 0;
};

/// Totals over every stream.
struct accounting_totals {
  std::uint64_t tracked = 0;    ///< messages with a seq, of a tracked stream
  std::uint64_t untracked = 0;  ///< messages without a seq, or beyond the stream cap
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t streams = 0;
};

/// Every (machine_id, stream) seen.
class stream_accounting {
 public:
  /// Streams tracked at most (about 200 bytes each).
  explicit stream_accounting(std::size_t max_streams = 262'144) : max_streams_(max_streams) {}

  /// One message; seq absent = an older publisher: counted as untracked.
  void observe(const uuid_bytes& machine_id, stream s, std::optional<std::int64_t> seq);

  const accounting_totals& totals() const noexcept { return totals_; }
  /// Every stream, sorted by machine id then stream.
  std::vector<stream_figures> figures() const;

 private:
  struct key {
    uuid_bytes machine_id;
    stream s;
    bool operator==(const key&) const = default;
  };
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept;
  };

  std::size_t max_streams_;
  std::unordered_map<key, seq_tracker, key_hash> streams_;
  accounting_totals totals_;
};

}  // namespace factorysim::ingest
