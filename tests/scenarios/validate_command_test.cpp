// `factorysim validate`: exit codes and the problem lines, through the real binary.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

const std::string source_dir = FACTORYSIM_SOURCE_DIR;

struct result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

result validate(const std::string& args) {
  char dir_template[] = "/tmp/factorysim-validate-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  EXPECT_NE(dir, nullptr);
  const std::string out = std::string{dir} + "/out", err = std::string{dir} + "/err";
  const std::string command = std::string{"'"} + FACTORYSIM_BINARY + "' validate " + args +
                              " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::system(("rm -rf '" + std::string{dir} + "'").c_str());
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST(validate_command, valid_file_exits_0_with_a_summary) {
  const auto r = validate(source_dir + "/scenarios/demo-plant.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(lines(r.out).size(), 1u) << r.out;
  EXPECT_NE(r.out.find("demo-plant.yaml: ok: 2 factories, 7 machines, 0 scheduled faults"),
            std::string::npos)
      << r.out;
}

TEST(validate_command, broken_file_exits_2_listing_every_problem) {
  const std::string file = source_dir + "/tests/scenarios/broken/several-problems.yaml";
  const auto r = validate(file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  const std::vector<std::string> expected = {
      file + ":6:7: time.to: must be after time.from",
      file + ":8:9: mqtt.port: must be between 1 and 65535, got 70000",
      file + ":12:15: factories[0].timezone: unknown time zone \"Europe/Berlinn\"",
      file + ":16:21: machines[0].rated_power_kw: must be > 0, got -3",
      file + ":17:15: machines[0].interval: must be a duration",
      file + ":19:9: machines[1].id: duplicate machine id c0000000-0000-0000-0000-000000000001",
      file + ":20:11: machines[1].type: unknown machine type \"lathe\"",
      file + ":22:12: machines[1].topic: duplicate topic \"factory/x/compressor\"",
      file + ":24:14: faults[0].machine: no machine has id c0000000-0000-0000-0000-000000000042",
      file + ": 9 problems",
  };
  const auto got = lines(r.err);
  ASSERT_EQ(got.size(), expected.size()) << r.err;
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(got[i].rfind(expected[i], 0), 0u) << "line " << i << ": " << got[i];
}

TEST(validate_command, unreadable_file_exits_2) {
  const auto r = validate(source_dir + "/scenarios/no-such-file.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such-file.yaml"), std::string::npos) << r.err;
}

TEST(validate_command, checks_every_file_and_fails_if_any_is_bad) {
  const auto r = validate(source_dir + "/scenarios/quick-test.yaml " + source_dir +
                          "/tests/scenarios/broken/several-problems.yaml " + source_dir +
                          "/scenarios/load-test.yaml");
  EXPECT_EQ(r.exit_code, 2);
  const auto out = lines(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;
  EXPECT_NE(out[0].find("quick-test.yaml: ok"), std::string::npos);
  EXPECT_NE(out[1].find("load-test.yaml: ok: 1 factory, 10000 machines"), std::string::npos);
}

TEST(validate_command, no_file_is_bad_usage) {
  EXPECT_EQ(validate("").exit_code, 2);
}
