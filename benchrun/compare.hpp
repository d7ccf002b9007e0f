#pragma once
/// `factorysim bench compare OLD.json NEW.json`: the deltas between two reports, and whether
/// NEW regressed: throughput fell, or p99 latency rose, by more than the tolerance. Pure
/// (files in, table and verdict out), so that a CI job can gate on the exit code.

#include <nlohmann/json.hpp>
#include <string>

namespace factorysim::benchrun {

struct compare_result {
  std::string table;        ///< one line per figure: name, old, new, change, verdict
  bool regression = false;  ///< throughput fell or p99 rose beyond the tolerance
};

/// "5%", "5", "0.5%" -> 0.05, 0.05, 0.005; throws bench_usage_error otherwise.
double parse_tolerance(const std::string& text);

/// Compares two parsed reports; throws bench_usage_error when either is not a bench report.
compare_result compare_reports(const nlohmann::json& old_report, const nlohmann::json& new_report,
                               double tolerance);

/// Reads and compares two files; unreadable or malformed files are bench_usage_error.
compare_result compare_report_files(const std::string& old_file, const std::string& new_file,
                                    double tolerance);

/// The end-of-run summary printed on stderr (a view of the report).
std::string summary_text(const nlohmann::json& report);

}  // namespace factorysim::benchrun
