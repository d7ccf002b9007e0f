#pragma once
/// Where the executable finds the files it ships with: next to an installed or packaged
/// binary (`<prefix>/bin/factorysim` -> `<prefix>/share/factorysim/`), else the source tree
/// it was built from (docs/packaging.md).

#include <filesystem>
#include <string>
#include <vector>

namespace factorysim::cli {

/// The folder of the running executable (/proc/self/exe), empty if unknown.
std::filesystem::path executable_dir();

/// The folders a bare scenario name is looked up in, in order: $FACTORYSIM_SCENARIO_DIR,
/// <exe>/../share/factorysim/scenarios, the source tree's scenarios/.
std::vector<std::filesystem::path> scenario_dirs();

/// `arg` itself when it names an existing file or contains a '/'; otherwise the first of
/// scenario_dirs() holding `arg` or `arg.yaml` (so `factorysim run demo-plant` works from any
/// folder once installed); `arg` unchanged when none does (the loader then says it cannot
/// read it).
std::string resolve_scenario(const std::string& arg);

}  // namespace factorysim::cli
