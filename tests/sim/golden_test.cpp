// Golden output (STYLE.md "Tests"): a fixed-seed scenario's whole message stream must match the
// checked-in expectation byte for byte. Guards the wire format, the engine's message order and
// the models' determinism together. After an intended change, regenerate and review the diff:
//   FACTORYSIM_UPDATE_GOLDEN=1 <build>/tests/sim/golden_test
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "scenarios/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/file_sink.hpp"

namespace {

namespace fs = std::filesystem;
const fs::path golden_dir = fs::path(FACTORYSIM_SOURCE_DIR) / "tests/sim/golden";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string run_golden(const fs::path& out) {
  auto s = factorysim::scenarios::load_scenario((golden_dir / "engine-golden.yaml").string());
  boost::asio::io_context io;
  {
    factorysim::sim::file_sink sink(out.string());
    factorysim::sim::engine e(io, std::move(s), sink);
    bool ok = false;
    e.on_finished([&](bool good) { ok = good; });
    e.start();
    io.run();
    EXPECT_TRUE(ok);
  }
  return read_all(out);
}

TEST(golden, engine_golden_scenario_matches_byte_for_byte) {
  const fs::path out = fs::temp_directory_path() / ("factorysim-golden-" + std::to_string(::getpid()) + ".tsv");
  const std::string got = run_golden(out);
  fs::remove(out);
  ASSERT_GT(got.size(), 10'000u);
  const fs::path expected_file = golden_dir / "engine-golden.tsv";
  if (std::getenv("FACTORYSIM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expected_file, std::ios::binary) << got;
    std::cout << "golden_test: rewrote " << expected_file << '\n';
    return;
  }
  const std::string expected = read_all(expected_file);
  ASSERT_FALSE(expected.empty()) << expected_file << " missing";
  if (got == expected) return;
  // Point at the first differing line instead of dumping 60 KB.
  std::istringstream a(got), b(expected);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(a, la));
    const bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) break;
    if (la != lb || ha != hb) {
      FAIL() << "line " << line << " differs\n  got:      " << (ha ? la : "<end>")
             << "\n  expected: " << (hb ? lb : "<end>")
             << "\nIntended? Regenerate with FACTORYSIM_UPDATE_GOLDEN=1 and review the diff.";
    }
  }
}

}  // namespace
