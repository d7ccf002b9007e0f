// The replay's pure parts (issue 13): reading a capture (tsv and jsonl, malformed lines with
// their number, machines and time range) and rebasing a payload's time values in place.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scenarios/text_formats.hpp"
#include "sim/capture.hpp"
#include "sim/replayer.hpp"

namespace {

namespace sim = factorysim::sim;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

const std::string e1 =
    R"({"time":"2024-06-01T00:00:01.000Z","machine_id":"m-1","seq":1,"power_kw":1.500})";
const std::string s1 =
    R"({"time":"2024-06-01T00:00:03.000Z","machine_id":"m-2","seq":1,"is_running":true})";

TEST(capture, tsv_lines_machines_and_time_range) {
  const auto p = write_temp("cap.tsv", "a/m1/energy\t" + e1 + "\n\nb/m2/status\t" + s1 + "\r\n");
  sim::capture_file c(p.string());
  const auto ix = c.index();
  EXPECT_FALSE(ix.jsonl);
  EXPECT_EQ(ix.messages, 2u);
  ASSERT_EQ(ix.machines.size(), 2u);
  EXPECT_EQ(ix.machines[0].topic, "a/m1");
  EXPECT_EQ(ix.machines[0].machine_id, "m-1");
  EXPECT_EQ(ix.machines[1].machine_id, "m-2");
  EXPECT_EQ(*ix.first_time, *factorysim::scenarios::parse_rfc3339("2024-06-01T00:00:01Z"));
  EXPECT_EQ(*ix.last_time, *factorysim::scenarios::parse_rfc3339("2024-06-01T00:00:03Z"));
  std::size_t off = 0, line = 0;
  sim::capture_message m;
  ASSERT_TRUE(c.next(off, line, m));
  EXPECT_EQ(m.topic, "a/m1/energy");
  EXPECT_EQ(m.payload, e1);
  EXPECT_FALSE(m.retain);
  ASSERT_TRUE(c.next(off, line, m));
  EXPECT_EQ(m.line, 3u);
  EXPECT_EQ(m.payload, s1);  // the CR of a CRLF line is not part of it
  EXPECT_FALSE(c.next(off, line, m));
  fs::remove(p);
}

TEST(capture, jsonl_lines_keep_the_payload_bytes_and_the_retained_flag) {
  const auto p = write_temp("cap.jsonl", R"({"topic":"b/m2/status","retain":true,"payload":)" +
                                             s1 + "}\n");
  sim::capture_file c(p.string());
  EXPECT_TRUE(c.index().jsonl);
  std::size_t off = 0, line = 0;
  sim::capture_message m;
  ASSERT_TRUE(c.next(off, line, m));
  EXPECT_EQ(m.topic, "b/m2/status");
  EXPECT_EQ(m.payload, s1);
  EXPECT_EQ(m.retain, true);
  fs::remove(p);
}

TEST(capture, malformed_lines_are_named_by_number) {
  const auto p = write_temp("bad.tsv", "a/energy\t{}\nno-tab\n");
  sim::capture_file c(p.string());
  try {
    c.index();
    FAIL() << "no error";
  } catch (const sim::capture_error& e) {
    EXPECT_EQ(std::string(e.what()), p.string() + ":2: expected topic<TAB>payload");
  }
  fs::remove(p);
  const auto j = write_temp("bad.jsonl", R"({"topic":"x","payload":{}})" "\n");
  EXPECT_THROW(sim::capture_file(j.string()).index(), sim::capture_error);
  fs::remove(j);
  EXPECT_THROW(sim::capture_file("/nonexistent/capture.tsv"), sim::capture_error);
  EXPECT_THROW(sim::capture_file("-"), sim::capture_error);
}

TEST(rebase_payload, shifts_time_and_at_values_only) {
  const std::string p =
      R"({"time":"2024-06-01T01:00:00.000Z","machine_id":"m","seq":2,"event":"end",)"
      R"("started_at":"2024-06-01T00:30:00.000Z","ended_at":"2024-06-01T01:00:00.000Z",)"
      R"("note_at":"not a time","source":"2024-06-01T00:00:00.000Z"})";
  std::string out;
  std::vector<sim::flat_field> scratch;
  EXPECT_EQ(sim::rebase_payload(p, 24h + 1500ms, out, scratch), 3);
  EXPECT_EQ(out,
            R"({"time":"2024-06-02T01:00:01.500Z","machine_id":"m","seq":2,"event":"end",)"
            R"("started_at":"2024-06-02T00:30:01.500Z","ended_at":"2024-06-02T01:00:01.500Z",)"
            R"("note_at":"not a time","source":"2024-06-01T00:00:00.000Z"})");
  EXPECT_EQ(sim::rebase_payload("not json", 1h, out, scratch), -1);
  EXPECT_EQ(out, "not json");
}

}  // namespace
