#include "benchrun/proc_sampler.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace factorysim::benchrun {

namespace {

struct stat_fields {
  bool ok = false;
  pid_t ppid = 0;
  double cpu_s = 0;
};

stat_fields read_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  stat_fields f;
  // The command (field 2) is parenthesised and may hold spaces: fields count from its end.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return f;
  std::istringstream rest(text.substr(close + 2));
  std::string state;
  long ppid = 0;
  rest >> state >> ppid;
  // Fields 5..13, then utime (14) and stime (15).
  std::string skip;
  for (int i = 0; i < 9; ++i) rest >> skip;
  unsigned long long utime = 0, stime = 0;
  rest >> utime >> stime;
  if (!rest) return f;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  f.ok = true;
  f.ppid = static_cast<pid_t>(ppid);
  f.cpu_s = static_cast<double>(utime + stime) / ticks;
  return f;
}

/// PSS in KiB from smaps_rollup (`proportional`), else (or when unreadable) VmRSS.
double memory_kib(pid_t pid, bool proportional) {
  const std::string base = "/proc/" + std::to_string(pid);
  if (proportional) {
    std::ifstream in(base + "/smaps_rollup");
    std::string key;
    double value = 0;
    std::string unit;
    while (in >> key) {
      if (key == "Pss:") {
        in >> value;
        return value;
      }
      std::getline(in, unit);
    }
  }
  std::ifstream in(base + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

double hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

}  // namespace

std::vector<pid_t> descendants_of(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    const auto f = read_stat(pid);
    if (f.ok) children[f.ppid].push_back(pid);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

void proc_sampler::watch(const std::string& role, pid_t root, bool with_children) {
  watched w;
  w.root = root;
  w.with_children = with_children;
  roles_[role] = w;
}

void proc_sampler::forget(const std::string& role) {
  if (auto it = roles_.find(role); it != roles_.end()) it->second.active = false;
}

std::map<std::string, process_usage> proc_sampler::sample() {
  std::map<std::string, process_usage> out;
  const auto now = std::chrono::steady_clock::now();
  for (auto& [role, w] : roles_) {
    if (!w.active) continue;
    std::vector<pid_t> pids{w.root};
    if (w.with_children) {
      auto more = descendants_of(w.root);
      pids.insert(pids.end(), more.begin(), more.end());
    }
    process_usage u;
    std::map<pid_t, double> cpu_now;
    double cpu_delta_s = 0;
    double kib = 0;
    for (pid_t p : pids) {
      const auto f = read_stat(p);
      if (!f.ok) continue;
      ++u.processes;
      cpu_now[p] = f.cpu_s;
      // A process born since the last sample counts from zero: its whole CPU is new.
      const auto prev = w.last_cpu_s.find(p);
      cpu_delta_s +=
          f.cpu_s - (prev == w.last_cpu_s.end() ? (w.samples == 0 ? f.cpu_s : 0.0) : prev->second);
      kib += memory_kib(p, w.with_children);
    }
    const double wall_s =
        w.samples == 0 ? 0 : std::chrono::duration<double>(now - w.last_at).count();
    u.cpu_percent = wall_s > 0 ? std::max(0.0, 100.0 * cpu_delta_s / wall_s) : 0;
    u.rss_mib = kib / 1024.0;
    w.peak_rss_mib = std::max(w.peak_rss_mib, u.rss_mib);
    if (!w.with_children) w.peak_rss_mib = std::max(w.peak_rss_mib, hwm_kib(w.root) / 1024.0);
    u.peak_rss_mib = w.peak_rss_mib;
    if (w.samples > 0) {
      w.cpu_sum += u.cpu_percent;
      w.cpu_max = std::max(w.cpu_max, u.cpu_percent);
    }
    ++w.samples;
    w.last_cpu_s = std::move(cpu_now);
    w.last_at = now;
    out[role] = u;
  }
  return out;
}

std::map<std::string, proc_sampler::totals> proc_sampler::summary() const {
  std::map<std::string, totals> out;
  for (const auto& [role, w] : roles_) {
    totals t;
    t.cpu_percent_mean = w.samples > 1 ? w.cpu_sum / (w.samples - 1) : 0;
    t.cpu_percent_max = w.cpu_max;
    t.peak_rss_mib = w.peak_rss_mib;
    out[role] = t;
  }
  return out;
}

}  // namespace factorysim::benchrun
