// Issue 9: the seq accounting (lost, duplicates, reordered) by its definitions, against a
// reference that remembers every seq, and its bounded window.
#include "ingest/stream_accounting.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace factorysim::ingest {
namespace {

TEST(seq_tracker, in_order_seqs_lose_nothing) {
  seq_tracker t;
  EXPECT_EQ(t.observe(1), seq_verdict::first);
  for (std::int64_t s = 2; s <= 100; ++s) EXPECT_EQ(t.observe(s), seq_verdict::next);
  EXPECT_EQ(t.received(), 100u);
  EXPECT_EQ(t.first_seq(), 1);
  EXPECT_EQ(t.last_seq(), 100);
  EXPECT_EQ(t.lost(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
  EXPECT_EQ(t.reordered(), 0u);
}

TEST(seq_tracker, a_gap_is_lost_until_a_late_seq_fills_it_and_a_repeat_is_a_duplicate) {
  seq_tracker t;
  t.observe(1);
  t.observe(2);
  EXPECT_EQ(t.observe(5), seq_verdict::after_gap);
  EXPECT_EQ(t.lost(), 2u);  // 3 and 4
  EXPECT_EQ(t.observe(3), seq_verdict::reordered);
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.reordered(), 1u);
  EXPECT_EQ(t.observe(3), seq_verdict::duplicate);
  EXPECT_EQ(t.observe(5), seq_verdict::duplicate);
  EXPECT_EQ(t.observe(1), seq_verdict::duplicate);
  EXPECT_EQ(t.duplicates(), 3u);
  EXPECT_EQ(t.lost(), 1u);
  EXPECT_EQ(t.received(), 7u);
}

TEST(seq_tracker, a_seq_below_the_first_opens_the_range_downwards) {
  seq_tracker t;
  t.observe(10);
  EXPECT_EQ(t.observe(7), seq_verdict::reordered);
  EXPECT_EQ(t.first_seq(), 7);
  EXPECT_EQ(t.last_seq(), 10);
  EXPECT_EQ(t.lost(), 2u);  // 8 and 9
  EXPECT_EQ(t.observe(9), seq_verdict::reordered);
  EXPECT_EQ(t.lost(), 1u);
}

TEST(seq_tracker, seqs_older_than_the_window_count_as_duplicates_and_beyond_window) {
  seq_tracker t;
  t.observe(1);
  t.observe(2000);
  EXPECT_EQ(t.lost(), 1998u);
  EXPECT_EQ(t.observe(1), seq_verdict::beyond_window);
  EXPECT_EQ(t.observe(500), seq_verdict::beyond_window);  // never seen, but too old to know
  EXPECT_EQ(t.beyond_window(), 2u);
  EXPECT_EQ(t.duplicates(), 2u);
  EXPECT_EQ(t.observe(2000 - seq_tracker::window + 1), seq_verdict::reordered);  // just inside
  EXPECT_EQ(t.lost(), 1997u);
  // A jump by more than the window forgets everything below it.
  EXPECT_EQ(t.observe(2000 + 5 * seq_tracker::window), seq_verdict::after_gap);
  EXPECT_EQ(t.observe(2000 + 5 * seq_tracker::window - 1), seq_verdict::reordered);
}

// The definitions, with unbounded memory.
struct reference {
  std::set<std::int64_t> seen;
  std::uint64_t duplicates = 0, reordered = 0;
  void observe(std::int64_t s) {
    if (seen.count(s)) {
      ++duplicates;
      return;
    }
    if (!seen.empty() && s < *seen.rbegin()) ++reordered;
    seen.insert(s);
  }
  std::uint64_t lost() const {
    return static_cast<std::uint64_t>(*seen.rbegin() - *seen.begin() + 1) - seen.size();
  }
};

TEST(seq_tracker, agrees_with_the_unbounded_definition_on_random_drops_repeats_and_shuffles) {
  std::mt19937_64 rng(9);
  for (int round = 0; round < 20; ++round) {
    // 1..n with ~3 % dropped, ~2 % repeated later, shuffled within blocks smaller than
    // the window (a broker or a redelivery reorders locally).
    const std::int64_t n = 20'000;
    std::vector<std::int64_t> wire;
    std::uniform_real_distribution<double> u(0, 1);
    for (std::int64_t s = 1; s <= n; ++s) {
      if (u(rng) < 0.03) continue;
      wire.push_back(s);
      if (u(rng) < 0.02) wire.push_back(s);
    }
    const std::size_t block = 1 + rng() % 400;
    for (std::size_t i = 0; i < wire.size(); i += block)
      std::shuffle(wire.begin() + static_cast<std::ptrdiff_t>(i),
                   wire.begin() + static_cast<std::ptrdiff_t>(std::min(wire.size(), i + block)),
                   rng);
    seq_tracker t;
    reference r;
    for (const auto s : wire) {
      t.observe(s);
      r.observe(s);
    }
    ASSERT_EQ(t.lost(), r.lost()) << round;
    ASSERT_EQ(t.duplicates(), r.duplicates) << round;
    ASSERT_EQ(t.reordered(), r.reordered) << round;
    ASSERT_EQ(t.first_seq(), *r.seen.begin());
    ASSERT_EQ(t.last_seq(), *r.seen.rbegin());
    ASSERT_EQ(t.received(), wire.size());
    ASSERT_EQ(t.beyond_window(), 0u);
  }
}

uuid_bytes machine(std::uint8_t b) {
  uuid_bytes id{};
  id.fill(b);
  return id;
}

TEST(stream_accounting, keeps_each_machine_and_stream_apart_and_sums_them) {
  stream_accounting a;
  for (std::int64_t s : {1, 2, 4}) a.observe(machine(2), stream::energy, s);     // lost 1
  for (std::int64_t s : {1, 3, 2, 2}) a.observe(machine(2), stream::status, s);  // reorder, dup
  for (std::int64_t s : {5, 6}) a.observe(machine(1), stream::energy, s);
  a.observe(machine(1), stream::energy, std::nullopt);
  const auto& t = a.totals();
  EXPECT_EQ(t.streams, 3u);
  EXPECT_EQ(t.tracked, 9u);
  EXPECT_EQ(t.untracked, 1u);
  EXPECT_EQ(t.lost, 1u);
  EXPECT_EQ(t.duplicates, 1u);
  EXPECT_EQ(t.reordered, 1u);
  const auto f = a.figures();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].machine_id, to_string(machine(1)));
  EXPECT_EQ(f[0].first_seq, 5);
  EXPECT_EQ(f[0].last_seq, 6);
  EXPECT_EQ(f[1].s, stream::energy);
  EXPECT_EQ(f[1].lost, 1u);
  EXPECT_EQ(f[2].s, stream::status);
  EXPECT_EQ(f[2].received, 4u);
  EXPECT_EQ(f[2].duplicates, 1u);
  EXPECT_EQ(f[2].reordered, 1u);
}

TEST(stream_accounting, streams_beyond_the_cap_are_counted_as_untracked) {
  stream_accounting a(2);
  a.observe(machine(1), stream::energy, 1);
  a.observe(machine(1), stream::status, 1);
  a.observe(machine(2), stream::energy, 1);
  a.observe(machine(1), stream::energy, 3);
  EXPECT_EQ(a.totals().streams, 2u);
  EXPECT_EQ(a.totals().untracked, 1u);
  EXPECT_EQ(a.totals().lost, 1u);
  EXPECT_EQ(a.figures().size(), 2u);
}

}  // namespace
}  // namespace factorysim::ingest
