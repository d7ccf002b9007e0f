#pragma once
/// Test harness: runs a program (the factorysim binary, a script, psql, influx...) as a child
/// process with its stdout and stderr captured in files, a timeout, and extra environment
/// variables. For the tests of issue 13 (replay, run knobs, exports, package, quickstart).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace factorysim::test {

/// What a finished child left behind.
struct child_result {
  int exit_code = -1;  ///< exit status, 128 + signal, or -1 on timeout (the child was killed)
  std::string out;
  std::string err;
  double wall_s = 0;
};

struct child_options {
  std::map<std::string, std::string> env;  ///< added to (or replacing in) the environment
  std::optional<std::string> cwd;          ///< working folder; default: the test's
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
};

/// Runs `argv` (argv[0] a path or a name looked up in PATH) to completion.
child_result run_child(const std::vector<std::string>& argv, const child_options& options = {});
/// Runs the factorysim binary under test with `args`.
child_result run_factorysim_child(const std::vector<std::string>& args,
                                  const child_options& options = {});

/// A fresh private folder under /tmp (removed by the caller).
std::string make_temp_dir(const std::string& prefix);

}  // namespace factorysim::test
