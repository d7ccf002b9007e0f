// Parameter tables: every key settable, defaults within their documented ranges.
#include "machines/params.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "sim_helper.hpp"

namespace factorysim::machines {
namespace {

TEST(params, defaults_match_type_and_scale_with_rating) {
  for (auto t : testing::all_types) {
    EXPECT_EQ(default_params(t, 50).index(), static_cast<std::size_t>(t));
  }
  const auto small = std::get<compressor_params>(default_params(machine_type::compressor, 55));
  const auto big = std::get<compressor_params>(default_params(machine_type::compressor, 110));
  EXPECT_NEAR(big.free_air_delivery_m3_min, 2 * small.free_air_delivery_m3_min, 1e-9);
  const auto hvac = std::get<hvac_params>(default_params(machine_type::hvac, 150));
  EXPECT_DOUBLE_EQ(hvac.cooling_capacity_kw, 450);
}

TEST(params, every_field_is_settable_and_documented) {
  for (auto t : testing::all_types) {
    const auto fields = param_fields(t);
    ASSERT_FALSE(fields.empty());
    std::set<std::string_view> keys;
    for (const auto& f : fields) {
      EXPECT_TRUE(keys.insert(f.key).second) << "duplicate key " << f.key;
      EXPECT_LE(f.min, f.max) << f.key;
      EXPECT_FALSE(f.doc.empty()) << f.key;
      model_params p = default_params(t, 100);
      EXPECT_TRUE(set_param(p, f.key, f.max)) << f.key;
      EXPECT_NE(p.index(), std::variant_npos);
    }
    model_params p = default_params(t, 100);
    EXPECT_FALSE(set_param(p, "no_such_key", 1));
  }
}

TEST(params, set_param_changes_the_field) {
  model_params p = default_params(machine_type::compressor, 55);
  ASSERT_TRUE(set_param(p, "pressure_max_bar", 8.2));
  EXPECT_DOUBLE_EQ(std::get<compressor_params>(p).pressure_max_bar, 8.2);
  model_params m = default_params(machine_type::injection_molding, 120);
  ASSERT_TRUE(set_param(m, "cavities", 8));
  EXPECT_EQ(std::get<injection_molding_params>(m).cavities, 8);
  // A key of another type is unknown here.
  EXPECT_FALSE(set_param(m, "pressure_max_bar", 8.2));
}

TEST(params, defaults_lie_within_their_ranges_and_round_trip) {
  for (auto t : testing::all_types) {
    for (double rated : {1.0, 55.0, 150.0, 2000.0}) {
      model_params p = default_params(t, rated);
      for (const auto& f : param_fields(t)) {
        const auto v = get_param(p, f.key);
        ASSERT_TRUE(v) << f.key;
        EXPECT_GE(*v, f.min) << to_string(t) << "." << f.key << " at " << rated << " kW";
        EXPECT_LE(*v, f.max) << to_string(t) << "." << f.key << " at " << rated << " kW";
        const double mid = std::round(0.5 * (f.min + f.max));
        ASSERT_TRUE(set_param(p, f.key, mid));
        EXPECT_DOUBLE_EQ(*get_param(p, f.key), mid) << f.key;
      }
    }
  }
  EXPECT_FALSE(get_param(default_params(machine_type::pump, 45), "cavities"));
}

}  // namespace
}  // namespace factorysim::machines
