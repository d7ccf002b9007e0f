// The random stream and the seed derivation are part of the determinism contract.
#include "machines/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace factorysim::machines {
namespace {

TEST(rng, same_seed_same_sequence_other_seed_differs) {
  rng a(123), b(123), c(124);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differ += x != c.next() ? 1 : 0;
  }
  EXPECT_GT(differ, 990);
}

TEST(rng, xoshiro_reference_values_are_kept) {
  // xoshiro256** seeded by splitmix64(0), values from an independent implementation.
  // Pinned: changing the generator changes every scenario's output.
  rng r(0);
  EXPECT_EQ(r.next(), 0x99EC5F36CB75F2B4ULL);
  EXPECT_EQ(r.next(), 0xBF6E1F784956452AULL);
  EXPECT_EQ(r.next(), 0x1A5F849D4933E6E0ULL);
}

TEST(rng, uniform_in_unit_interval_with_right_mean) {
  rng r(7);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

TEST(rng, normal_has_zero_mean_unit_variance) {
  rng r(99);
  double sum = 0, sq = 0;
  constexpr int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sq += x * x;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(sq / n - mean * mean, 1.0, 0.02);
}

TEST(rng, hash64_is_fnv1a) {
  EXPECT_EQ(hash64(""), 0xCBF29CE484222325ULL);
  EXPECT_EQ(hash64("a"), 0xAF63DC4C8601EC8CULL);
  EXPECT_EQ(hash64("foobar"), 0x85944171F73967E8ULL);
}

TEST(rng, derive_seed_depends_on_root_and_key) {
  const auto s = derive_seed(1, "c0000000-0000-0000-0000-000000000001");
  EXPECT_EQ(s, derive_seed(1, "c0000000-0000-0000-0000-000000000001"));
  EXPECT_NE(s, derive_seed(2, "c0000000-0000-0000-0000-000000000001"));
  EXPECT_NE(s, derive_seed(1, "c0000000-0000-0000-0000-000000000002"));
  EXPECT_NE(derive_seed(1, "x"), derive_seed(1, "x/faults"));
}

TEST(rng, hashed_normal_is_pure_and_roughly_standard) {
  EXPECT_EQ(hashed_normal(5, 6), hashed_normal(5, 6));
  double sum = 0, sq = 0;
  constexpr int n = 50000;
  for (int i = 0; i < n; ++i) {
    const double x = hashed_normal(17, static_cast<std::uint64_t>(i));
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sq / n, 1.0, 0.05);
}

}  // namespace
}  // namespace factorysim::machines
