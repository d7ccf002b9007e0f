#include <gtest/gtest.h>

#include "benchrun/reference_subscriber.hpp"

namespace factorysim::benchrun {
namespace {

TEST(seq_accounting, counts_duplicates_and_reordered_and_knows_every_seq_seen) {
  seq_accounting a;
  for (std::uint64_t s : {1, 2, 4, 3, 4, 6}) a.record(s);
  EXPECT_EQ(a.received, 6u);
  EXPECT_EQ(a.distinct, 5u);
  EXPECT_EQ(a.duplicates, 1u);  // 4 twice
  EXPECT_EQ(a.reordered, 1u);   // 3 after 4
  EXPECT_EQ(a.first_seq, 1u);
  EXPECT_EQ(a.last_seq, 6u);
  EXPECT_FALSE(a.seen[5]);  // lost
}

TEST(subscriber_line, parses_time_topic_properties_and_payload) {
  subscriber_line l;
  ASSERT_TRUE(parse_subscriber_line(
      "1700000000.250000000\tfactory/x/compressor-1/energy\tfs-sched-us:1700000000000000 "
      "fs-sent-us:1700000000000100\t{\"time\":\"t\",\"machine_id\":\"c1\",\"seq\":42,\"power_kw\":"
      "3}",
      l));
  EXPECT_DOUBLE_EQ(l.received_unix_s, 1700000000.25);
  EXPECT_EQ(l.stream, "energy");
  EXPECT_EQ(l.machine_id, "c1");
  EXPECT_TRUE(l.has_seq);
  EXPECT_EQ(l.seq, 42u);
  EXPECT_DOUBLE_EQ(l.sched_us, 1700000000000000.0);
}

TEST(subscriber_line, a_message_without_properties_or_seq_still_counts) {
  subscriber_line l;
  ASSERT_TRUE(parse_subscriber_line("1.5\tfactory/a/status\t\t{\"state\":\"online\"}", l));
  EXPECT_FALSE(l.has_seq);
  EXPECT_LT(l.sched_us, 0);
  EXPECT_FALSE(parse_subscriber_line("not a line", l));
}

}  // namespace
}  // namespace factorysim::benchrun
