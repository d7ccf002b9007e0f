// The Debian package (issue 13): cpack (the package_build fixture) builds
// factorysim_<version>_<arch>.deb from this build; dpkg-deb -I shows its name, version and declared
// dependencies, dpkg-deb -c its files; the binary of a dpkg-deb -x tree, run from outside the
// source tree, finds the packaged sql/ and scenarios/ (not the source tree's) and sets up a real
// PostgreSQL with them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/postgres_server.hpp"

namespace {

namespace ft = factorysim::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Lookups by environment are switched off: only the binary's own location counts.
const ft::child_options packaged{
    {{"FACTORYSIM_SQL_DIR", ""}, {"FACTORYSIM_SCENARIO_DIR", ""}}, std::string("/"), 120s};

class package_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The package_build fixture (tests/package/CMakeLists.txt) ran cpack into this folder.
    deb_ = FACTORYSIM_PACKAGE_DIR "/factorysim_" FACTORYSIM_PACKAGE_VERSION "_amd64.deb";
    dir_ = ft::make_temp_dir("factorysim-package");
    tree_ = dir_ + "/tree";
    if (fs::exists(deb_)) extract_exit_ = ft::run_child({"dpkg-deb", "-x", deb_, tree_}).exit_code;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    ASSERT_TRUE(fs::exists(deb_)) << deb_ << " missing: run the package_build test first";
    ASSERT_EQ(extract_exit_, 0);
  }

  static inline std::string dir_, deb_, tree_;
  static inline int extract_exit_ = -1;
};

TEST_F(package_test, control_fields_declare_name_version_and_dependencies) {
  const auto r = ft::run_child({"dpkg-deb", "-I", deb_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Package: factorysim\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Version: " FACTORYSIM_PACKAGE_VERSION "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Architecture: amd64\n"), std::string::npos) << r.out;
  const auto depends_at = r.out.find("Depends: ");
  ASSERT_NE(depends_at, std::string::npos) << r.out;
  const std::string depends = r.out.substr(depends_at, r.out.find('\n', depends_at) - depends_at);
  // From dpkg-shlibdeps (the libraries the binary links) and the listed ones.
  for (const char* dep : {"libyaml-cpp", "libpqxx", "libpq5", "libssl3", "libstdc++6", "tzdata"})
    EXPECT_NE(depends.find(dep), std::string::npos) << dep << " missing in " << depends;
  EXPECT_NE(r.out.find("Recommends: mosquitto"), std::string::npos) << r.out;
}

TEST_F(package_test, contents_are_the_binary_sql_scenarios_and_docs) {
  const auto r = ft::run_child({"dpkg-deb", "-c", deb_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* path :
       {"./usr/bin/factorysim", "./usr/share/factorysim/sql/001_extensions.sql",
        "./usr/share/factorysim/scenarios/demo-plant.yaml",
        "./usr/share/factorysim/scenarios/quick-test.yaml", "./usr/share/doc/factorysim/README.md",
        "./usr/share/doc/factorysim/quickstart.md", "./usr/share/doc/factorysim/cli.md"})
    EXPECT_NE(r.out.find(std::string(path) + "\n"), std::string::npos) << path;
  // Every migration of the source tree, byte for byte.
  const fs::path src = fs::path(FACTORYSIM_SOURCE_DIR) / "sql";
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.path().extension() != ".sql") continue;
    ++n;
    const fs::path packaged_file =
        fs::path(tree_) / "usr/share/factorysim/sql" / e.path().filename();
    EXPECT_EQ(read_all(packaged_file), read_all(e.path())) << packaged_file;
  }
  EXPECT_GT(n, 5u);
}

TEST_F(package_test, packaged_binary_runs_and_finds_its_own_data) {
  const std::string bin = tree_ + "/usr/bin/factorysim";
  const auto v = ft::run_child({bin, "--version"}, packaged);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_TRUE(v.out.starts_with("factorysim " FACTORYSIM_PACKAGE_VERSION " (commit ")) << v.out;

  // A bare name, run from /: the scenario of the package tree, not of the source tree.
  const auto val = ft::run_child({bin, "validate", "demo-plant"}, packaged);
  ASSERT_EQ(val.exit_code, 0) << val.err;
  EXPECT_EQ(val.out.rfind(tree_ + "/usr/share/factorysim/scenarios/demo-plant.yaml: ok:", 0), 0u)
      << val.out;

  ft::postgres_server pg;
  const std::string db = pg.create_database("package");
  const auto init =
      ft::run_child({bin, "db", "init", "--db", db, "--scenario", "demo-plant"}, packaged);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.err.find("db: migrations from " + tree_ + "/usr/share/factorysim/sql\n"),
            std::string::npos)
      << init.err;
  EXPECT_EQ(ft::query_int(db, "SELECT count(*) FROM machines"), 7);

  // And it runs a scenario from the package into a file.
  const std::string out = dir_ + "/minute.tsv";
  const auto run =
      ft::run_child({bin, "run", "quick-test", "--output", out, "--control", "off"}, packaged);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_GT(fs::file_size(out), 1000u);
}

}  // namespace
