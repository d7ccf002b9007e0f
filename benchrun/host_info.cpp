#include "benchrun/host_info.hpp"

#include <openssl/sha.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace factorysim::benchrun {

nlohmann::json host_info() {
  nlohmann::json j;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      j["cpu_model"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  if (!j.contains("cpu_model")) j["cpu_model"] = "unknown";
  j["cores"] = std::thread::hardware_concurrency();
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      j["memory_mib"] = std::stoull(line.substr(9)) / 1024;
      break;
    }
  }
  utsname u{};
  if (::uname(&u) == 0) {
    j["kernel"] = std::string(u.sysname) + " " + u.release;
    j["hostname"] = u.nodename;
  }
  return j;
}

std::string sha256_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace factorysim::benchrun
