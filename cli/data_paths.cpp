#include "cli/data_paths.hpp"

#include <cstdlib>
#include <system_error>

namespace factorysim::cli {

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path();
}

std::vector<std::filesystem::path> scenario_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("FACTORYSIM_SCENARIO_DIR"); env != nullptr && *env != '\0')
    dirs.emplace_back(env);
  if (const auto exe = executable_dir(); !exe.empty())
    dirs.push_back(exe.parent_path() / "share" / "factorysim" / "scenarios");
  dirs.emplace_back(FACTORYSIM_SOURCE_SCENARIOS);
  return dirs;
}

std::string resolve_scenario(const std::string& arg) {
  std::error_code ec;
  if (arg.empty() || arg.find('/') != std::string::npos || std::filesystem::exists(arg, ec))
    return arg;
  for (const auto& dir : scenario_dirs()) {
    for (const std::string& name : {arg, arg + ".yaml"}) {
      const auto p = dir / name;
      if (std::filesystem::is_regular_file(p, ec)) return p.string();
    }
  }
  return arg;
}

}  // namespace factorysim::cli
