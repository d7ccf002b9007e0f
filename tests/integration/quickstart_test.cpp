// docs/quickstart.md, run as documented (issue 13): `scripts/demo.sh --backfill-hours 1
// --no-live` with the binary under test, a real mosquitto and a private PostgreSQL 15 (the
// script's own), then every SQL block of the quickstart through psql against the database the
// script printed. The backfill must be stored completely, the rollups filled, and the database
// still running after the script ended.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/postgres_server.hpp"

namespace {

namespace ft = factorysim::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string source_dir = FACTORYSIM_SOURCE_DIR;

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The ```sql blocks of a Markdown file, in order.
std::vector<std::string> sql_blocks(const std::string& markdown) {
  std::vector<std::string> out;
  const std::regex block("```sql\n([\\s\\S]*?)```");
  for (auto it = std::sregex_iterator(markdown.begin(), markdown.end(), block);
       it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

class quickstart_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ft::make_temp_dir("factorysim-quickstart");
    ::chmod(dir_.c_str(), 0755);  // the postgres user enters it for its data folder
    env_ = {{"FACTORYSIM_BIN", FACTORYSIM_BINARY},
            {"FACTORYSIM_RUN_DIR", dir_ + "/run"},
            {"FACTORYSIM_PG_DIR", dir_ + "/pg"},
            {"FACTORYSIM_DB", ""},
            {"FACTORYSIM_NO_DB", ""}};
  }
  void TearDown() override {
    ft::run_child({"bash", source_dir + "/scripts/pg-local.sh", "destroy"},
                  {env_, source_dir, 60s});
    fs::remove_all(dir_);
  }
  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(quickstart_test, demo_backfill_then_every_documented_query_answers) {
  const auto demo =
      ft::run_child({"bash", source_dir + "/scripts/demo.sh", "--backfill-hours", "1", "--no-live"},
                    {env_, source_dir, 180s});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(demo.err, m, std::regex("demo: PostgreSQL: (host=[^\n]*?)  ")))
      << demo.err;
  const std::string db = m[1];
  // The whole backfill was stored before the script went on, and it says how to stop the
  // database it leaves running.
  const auto summary =
      nlohmann::json::parse(read_all(dir_ + "/run/backfill-summary.json")).at("published");
  EXPECT_NE(
      demo.err.find("demo: stored " + std::to_string(summary.at("energy").get<int>()) + " energy"),
      std::string::npos)
      << demo.err;
  EXPECT_NE(demo.err.find("demo: the private PostgreSQL keeps running"), std::string::npos);
  EXPECT_NE(demo.err.find("scripts/pg-local.sh stop"), std::string::npos);
  EXPECT_NE(demo.err.find("v_machine_status"), std::string::npos) << "the printed queries";

  // Still up after the script ended: the printed psql commands work.
  EXPECT_EQ(ft::query_int(db, "SELECT count(*) FROM energy_readings"),
            summary.at("energy").get<int>());
  for (const char* rollup :
       {"energy_readings_1min", "energy_readings_15min", "energy_readings_1hour",
        "production_data_15min", "environmental_data_1min"})
    EXPECT_GT(ft::query_int(db, std::string("SELECT count(*) FROM ") + rollup), 0) << rollup;

  const auto blocks = sql_blocks(read_all(source_dir + "/docs/quickstart.md"));
  ASSERT_GE(blocks.size(), 5u);
  for (const auto& sql : blocks) {
    const auto r =
        ft::run_child({"psql", db, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql});
    EXPECT_EQ(r.exit_code, 0) << sql << r.err;
    if (sql.find("may be empty") == std::string::npos) {
      EXPECT_FALSE(r.out.empty()) << "no rows from the quickstart's query:\n" << sql;
    }
  }
}

TEST_F(quickstart_test, demo_options_are_checked) {
  const auto r = ft::run_child({"bash", source_dir + "/scripts/demo.sh", "--no-live"},
                               {env_, source_dir, 30s});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-live needs --backfill-hours N"), std::string::npos) << r.err;
  const auto h = ft::run_child({"bash", source_dir + "/scripts/demo.sh", "--backfill-hours", "x"},
                               {env_, source_dir, 30s});
  EXPECT_EQ(h.exit_code, 2);
}

}  // namespace
