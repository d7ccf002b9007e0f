#include "benchrun/rate_profile.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace factorysim::benchrun {
namespace {

std::string write_scenario(const std::string& bench_yaml) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("bench-profile-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
  std::ofstream(path) << "name: x\n" << bench_yaml;
  return path.string();
}

TEST(rate_profile, steps_hold_and_ramps_go_linearly_from_the_rate_before) {
  rate_profile p;
  p.segments = {{false, 20000, 60}, {true, 80000, 120}};
  EXPECT_DOUBLE_EQ(p.duration_s(), 180);
  EXPECT_DOUBLE_EQ(p.rate_at(0), 20000);
  EXPECT_DOUBLE_EQ(p.rate_at(59.9), 20000);
  EXPECT_DOUBLE_EQ(p.rate_at(60), 20000);
  EXPECT_DOUBLE_EQ(p.rate_at(120), 50000);
  EXPECT_DOUBLE_EQ(p.rate_at(500), 80000);
}

TEST(rate_profile, a_ramp_first_starts_from_zero) {
  rate_profile p;
  p.segments = {{true, 1000, 10}};
  EXPECT_DOUBLE_EQ(p.rate_at(5), 500);
}

TEST(rate_profile, reads_the_bench_section_of_a_scenario) {
  const auto file = write_scenario(
      "bench:\n  warmup: 3s\n  machines: 50\n  profile:\n    - {rate: 20000, for: 60s}\n"
      "    - {ramp_to: 80000, for: 2m}\n");
  const auto s = read_bench_section(file);
  ASSERT_TRUE(s.profile.has_value());
  ASSERT_EQ(s.profile->segments.size(), 2u);
  EXPECT_DOUBLE_EQ(s.profile->segments[1].duration_s, 120);
  EXPECT_TRUE(s.profile->segments[1].ramp);
  EXPECT_EQ(s.machines, 50u);
  EXPECT_EQ(s.warmup_s, 3);
  std::filesystem::remove(file);
}

TEST(rate_profile, a_scenario_without_bench_section_has_no_profile) {
  const auto file = write_scenario("seed: 1\n");
  EXPECT_FALSE(read_bench_section(file).profile.has_value());
  std::filesystem::remove(file);
}

TEST(rate_profile, bad_entries_name_file_line_and_field) {
  const auto file = write_scenario(
      "bench:\n  profile:\n    - {rate: 20000, for: 60s}\n    - {rate: 100, for: soon}\n");
  try {
    read_bench_section(file);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), file +
                                         ":5:24: bench.profile[1].for: must be a duration such "
                                         "as 60s or 2m, got soon");
  }
  std::filesystem::remove(file);
  const auto both = write_scenario("bench:\n  profile:\n    - {rate: 1, ramp_to: 2, for: 1s}\n");
  EXPECT_THROW(read_bench_section(both), std::runtime_error);
  std::filesystem::remove(both);
  const auto unknown = write_scenario("bench:\n  speed: 3\n");
  EXPECT_THROW(read_bench_section(unknown), std::runtime_error);
  std::filesystem::remove(unknown);
}

}  // namespace
}  // namespace factorysim::benchrun
