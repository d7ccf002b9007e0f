// Exact bytes of the binary COPY encoder for known values (PostgreSQL 15 COPY BINARY format).
#include "ingest/copy_buffer.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ingest/wire_decoder.hpp"

namespace factorysim::ingest {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

TEST(copy_buffer, header_and_trailer) {
  copy_buffer b;
  b.begin();
  b.finish();
  EXPECT_EQ(b.data(), bytes({'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,  //
                             0, 0, 0, 0,                                             // flags
                             0, 0, 0, 0,                                             // ext
                             0xff, 0xff}));
}

TEST(copy_buffer, scalar_fields_are_big_endian_with_lengths) {
  copy_buffer b;
  b.tuple(3);
  b.put_int8(0x0102030405060708LL);
  b.put_int4(-2);
  b.put_bool(true);
  EXPECT_EQ(b.data(), bytes({0, 3,                                    // field count
                             0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,       // int8
                             0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe,       // int4 -2
                             0, 0, 0, 1, 1}));                          // bool
  EXPECT_EQ(b.tuples(), 1u);
}

TEST(copy_buffer, float8_and_null) {
  copy_buffer b;
  b.put_float8_or_null(1.0);  // 0x3FF0000000000000
  b.put_float8_or_null(-2.5);  // 0xC004000000000000
  b.put_float8_or_null(std::nan(""));
  b.put_null();
  EXPECT_EQ(b.data(), bytes({0, 0, 0, 8, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,  //
                             0, 0, 0, 8, 0xc0, 0x04, 0, 0, 0, 0, 0, 0,  //
                             0xff, 0xff, 0xff, 0xff,                    //
                             0xff, 0xff, 0xff, 0xff}));
}

TEST(copy_buffer, timestamptz_counts_microseconds_from_2000) {
  copy_buffer b;
  b.put_timestamptz(pg_epoch_offset_us);  // 2000-01-01T00:00:00Z -> 0
  unix_us t = 0;
  ASSERT_TRUE(parse_rfc3339("2000-01-01T00:00:01.000001Z", t));
  b.put_timestamptz(t);  // 1000001 = 0x0F4241
  ASSERT_TRUE(parse_rfc3339("1999-12-31T23:59:59Z", t));
  b.put_timestamptz(t);  // -1000000
  EXPECT_EQ(b.data(), bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,              //
                             0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x41,     //
                             0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0xbd, 0xc0}));
}

TEST(copy_buffer, uuid_and_text) {
  copy_buffer b;
  b.put_uuid(*parse_uuid("c0000000-0000-0000-0000-000000000007"));
  b.put_text("héllo");
  b.put_text_or_null("");
  std::string expected = bytes({0, 0, 0, 16, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
                                0, 0, 0, 6});
  expected += "héllo";
  expected += bytes({0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(b.data(), expected);
}

TEST(copy_buffer, clear_keeps_nothing) {
  copy_buffer b;
  b.begin();
  b.tuple(1);
  b.put_null();
  b.clear();
  EXPECT_TRUE(b.data().empty());
  EXPECT_EQ(b.tuples(), 0u);
}

}  // namespace
}  // namespace factorysim::ingest
