#pragma once
/// CPU and memory of the processes of a bench run, from /proc: CPU % (utime + stime over
/// wall time, 100 % = one core) between two samples, resident memory now and its peak. A
/// role (simulator, broker, ingestor, PostgreSQL) is a root pid plus, optionally, all its
/// descendants (PostgreSQL's backends); their memory is summed as PSS
/// (/proc/PID/smaps_rollup), so that shared buffers are counted once, not once per backend.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace factorysim::benchrun {

/// One role's usage over the last interval.
struct process_usage {
  double cpu_percent = 0;
  double rss_mib = 0;       ///< now (PSS summed over the role's processes)
  double peak_rss_mib = 0;  ///< highest `rss_mib` seen; for one process also its VmHWM
  int processes = 0;
};

class proc_sampler {
 public:
  /// Watches `root` (and its descendants when `with_children`) under `role`.
  void watch(const std::string& role, pid_t root, bool with_children);
  /// Stops watching a role (its process ended); its last figures stay.
  void forget(const std::string& role);
  /// Takes a sample now; the CPU % of each role since the previous sample.
  std::map<std::string, process_usage> sample();
  /// Peak and mean CPU % of each role over all samples so far.
  struct totals {
    double cpu_percent_mean = 0;
    double cpu_percent_max = 0;
    double peak_rss_mib = 0;
  };
  std::map<std::string, totals> summary() const;

 private:
  struct watched {
    pid_t root = -1;
    bool with_children = false;
    bool active = true;
    std::map<pid_t, double> last_cpu_s;  ///< per process, utime + stime
    std::chrono::steady_clock::time_point last_at{};
    double peak_rss_mib = 0;
    double cpu_sum = 0;
    double cpu_max = 0;
    int samples = 0;
  };
  std::map<std::string, watched> roles_;
};

/// The descendants of `root` (not root itself), from /proc/*/stat.
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace factorysim::benchrun
