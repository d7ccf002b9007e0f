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
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
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
