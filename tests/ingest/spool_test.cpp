// The on-disk spool: exact round trip of raw bytes, order across reopen, size accounting,
// half-written files from a crash ignored, corrupt files reported.
#include "ingest/spool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace factorysim::ingest {
namespace {

class spool_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fs-spool-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::vector<spooled_message> batch_of(int first, int n) {
  std::vector<spooled_message> b;
  for (int i = first; i < first + n; ++i)
    b.push_back({"factory/m/energy", std::string("{\"i\":") + std::to_string(i) + std::string("}\0\xff", 3), i});
  return b;
}

TEST_F(spool_test, round_trip_keeps_every_byte) {
  std::vector<spooled_message> b = {{"a/energy", std::string("x\0y\xff\n", 5), 7},
                                    {"", "", 0},
                                    {"t/status", std::string(100000, 'p'), -5}};
  const auto decoded = spool::decode(spool::encode(b));
  ASSERT_EQ(decoded.size(), b.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(decoded[i].topic, b[i].topic);
    EXPECT_EQ(decoded[i].payload, b[i].payload);
    EXPECT_EQ(decoded[i].received_us, b[i].received_us);
  }
}

TEST_F(spool_test, batches_come_back_oldest_first_after_reopen) {
  {
    spool s(dir_, 1 << 20);
    EXPECT_TRUE(s.empty());
    s.append(batch_of(0, 3));
    s.append(batch_of(3, 2));
    EXPECT_EQ(s.batches(), 2u);
    EXPECT_GT(s.bytes(), 0u);
  }
  spool s(dir_, 1 << 20);  // a restart finds them
  ASSERT_EQ(s.batches(), 2u);
  auto first = s.oldest();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].received_us, 0);
  s.pop();
  s.append(batch_of(5, 1));  // appended after a pop: still behind the older batch
  auto second = s.oldest();
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*second)[0].received_us, 3);
  s.pop();
  EXPECT_EQ(s.oldest()->at(0).received_us, 5);
  s.pop();
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.bytes(), 0u);
  // Only the lock file stays behind.
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename(), ".lock");
}

// Issue 12: two ingestors given one spool folder overwrote each other's files, losing
// batches already acknowledged to the broker. The second one now fails at start.
TEST_F(spool_test, a_second_spool_on_the_same_folder_is_refused_naming_the_holder) {
  spool first(dir_, 1 << 20);
  try {
    spool second(dir_, 1 << 20);
    FAIL() << "a second spool on the same folder was allowed";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("in use by another ingestor"), std::string::npos) << what;
    EXPECT_NE(what.find("pid " + std::to_string(::getpid())), std::string::npos) << what;
  }
  first.append(batch_of(0, 2));
  EXPECT_EQ(first.batches(), 1u);
}

TEST_F(spool_test, the_lock_goes_with_the_spool) {
  { spool first(dir_, 1 << 20); }
  EXPECT_NO_THROW(spool again(dir_, 1 << 20));
}

TEST_F(spool_test, the_target_database_is_remembered_across_reopen) {
  spool_target t{"7312345678901234567", "plant", "enms", "127.0.0.1:5432"};
  {
    spool s(dir_, 1 << 20);
    EXPECT_TRUE(s.target().database.empty());
    s.set_target(t);
  }
  spool s(dir_, 1 << 20);
  EXPECT_EQ(s.target().system_identifier, t.system_identifier);
  EXPECT_EQ(s.target().database, "plant");
  EXPECT_EQ(s.target().schema, "enms");
  EXPECT_EQ(s.target().address, "127.0.0.1:5432");
  EXPECT_TRUE(t.mismatch(t).empty());
  auto other = t;
  other.system_identifier = "1";
  EXPECT_NE(t.mismatch(other).find("another PostgreSQL cluster"), std::string::npos);
  other = t;
  other.schema = "public";
  EXPECT_NE(t.mismatch(other).find("schema public"), std::string::npos);
  // Unknown fields are not compared; the address only stands in for an unknown cluster.
  spool_target partial{"", "plant", "", "127.0.0.1:5432"};
  EXPECT_TRUE(partial.mismatch(t).empty());
  other = t;
  other.address = "10.0.0.1:5432";
  EXPECT_TRUE(t.mismatch(other).empty()) << "same cluster reached another way";
  EXPECT_FALSE(partial.mismatch(other).empty());
}

TEST_F(spool_test, truncated_payloads_keep_their_size_and_digest) {
  std::vector<spooled_message> b(2);
  b[0] = {"t/energy", "{}", 1};
  b[1].topic = "t/big";
  b[1].payload = "prefix";
  b[1].received_us = 2;
  b[1].truncated = true;
  b[1].payload_bytes = 5'000'000;
  b[1].payload_sha256 = std::string(32, '\x5a');
  const auto d = spool::decode(spool::encode(b));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_FALSE(d[0].truncated);
  EXPECT_TRUE(d[1].truncated);
  EXPECT_EQ(d[1].payload, "prefix");
  EXPECT_EQ(d[1].payload_bytes, 5'000'000u);
  EXPECT_EQ(d[1].payload_sha256, std::string(32, '\x5a'));
}

TEST_F(spool_test, files_of_the_first_format_are_still_read) {
  // FSSPOOL1: count, then per record received_us (8), topic length (4), payload length (4).
  std::string v1 = "FSSPOOL1";
  v1 += std::string("\x01\x00\x00\x00", 4);
  v1 += std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8);
  v1 += std::string("\x01\x00\x00\x00", 4);
  v1 += std::string("\x02\x00\x00\x00", 4);
  v1 += "tab";
  const auto d = spool::decode(v1);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].topic, "t");
  EXPECT_EQ(d[0].payload, "ab");
  EXPECT_EQ(d[0].received_us, 7);
}

TEST(default_spool_dir, is_per_client_id_and_outside_the_working_directory) {
  const auto a = default_spool_dir("ingest-a");
  const auto b = default_spool_dir("ingest-b");
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.is_absolute()) << a;
  EXPECT_EQ(a.filename(), "ingest-a");
  EXPECT_EQ(default_spool_dir("x/../y").filename(), "x_.._y") << "one path component";
}

TEST_F(spool_test, full_at_the_size_limit) {
  spool s(dir_, 200);
  EXPECT_FALSE(s.full());
  s.append(batch_of(0, 10));
  EXPECT_TRUE(s.full());
  s.pop();
  EXPECT_FALSE(s.full());
}

TEST_F(spool_test, unfinished_tmp_files_are_discarded_and_corrupt_files_reported) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "0000000000000001.batch.tmp") << "half";
  std::ofstream(dir_ / "0000000000000002.batch") << "FSSPOOL1\x05";
  spool s(dir_, 1 << 20);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "0000000000000001.batch.tmp"));
  ASSERT_EQ(s.batches(), 1u);
  EXPECT_THROW(s.oldest(), std::runtime_error);
}

}  // namespace
}  // namespace factorysim::ingest
