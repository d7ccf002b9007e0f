#include "mqtt/session_options.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace factorysim::mqtt {

void load_credentials(session_options& options, const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the MQTT credentials file '" + file + "'");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line) && lines.size() < 3;) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
    if (lines.empty() || (lines.size() >= 2 && lines[1].empty() && lines[0].empty()))
      throw std::runtime_error("the MQTT credentials file '" + file + "' is empty");
    if (lines.size() == 1 || lines[1].empty()) {
      options.password = lines[0];
    } else {
      options.username = lines[0];
      options.password = lines[1];
    }
    return;
  }
  if (options.username.empty())
    if (const char* u = std::getenv("FACTORYSIM_MQTT_USERNAME"); u != nullptr) options.username = u;
  if (options.password.empty())
    if (const char* p = std::getenv("FACTORYSIM_MQTT_PASSWORD"); p != nullptr) options.password = p;
}

std::string broker_address(const session_options& options) {
  const bool v6 = options.host.find(':') != std::string::npos;
  return (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
}

}  // namespace factorysim::mqtt
