#include "cli/version.hpp"

#include "factorysim_version.hpp"

namespace factorysim::cli {

std::string version() {
  return FACTORYSIM_VERSION;
}

std::string commit() {
  return FACTORYSIM_COMMIT;
}

std::string version_line() {
  return "factorysim " + version() + " (commit " + commit() +
         (commit() == "unknown" ? ": built outside a git checkout)" : ")");
}

}  // namespace factorysim::cli
