#pragma once
/// The version of this build: the project version and the git commit it was configured from
/// (cmake/factorysim_version.cmake; "unknown" outside git).

#include <string>

namespace factorysim::cli {

/// "0.1.0".
std::string version();
/// The 12-digit abbreviated commit, or "unknown".
std::string commit();
/// "factorysim 0.1.0 (commit 1a2b3c4d5e6f)": what --version prints.
std::string version_line();

}  // namespace factorysim::cli
