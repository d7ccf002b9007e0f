#pragma once
/// The machine a bench ran on, for the manifest: CPU model, cores, memory, kernel.
#include <nlohmann/json.hpp>
#include <string>

namespace factorysim::benchrun {

/// {"cpu_model", "cores", "memory_mib", "kernel", "hostname"} from /proc and uname(2).
nlohmann::json host_info();
/// SHA-256 of a file, lowercase hex (throws std::runtime_error when unreadable).
std::string sha256_of_file(const std::string& path);

}  // namespace factorysim::benchrun
