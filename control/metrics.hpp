#pragma once
/// GET /metrics: the run's counters and gauges in Prometheus' text exposition format 0.0.4
/// (HELP and TYPE before each family's samples, counters ending in _total, label values
/// escaped), run-wide and per machine and stream. Pure: engine snapshot in, text out.

#include <cstdint>
#include <string>
#include <string_view>

#include "control/router.hpp"
#include "sim/engine.hpp"

namespace factorysim::control {

/// The Content-Type Prometheus expects for the text format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Appends `value` escaped for a label value: backslash, double quote and newline.
void append_label_value(std::string& out, std::string_view value);
/// Appends `text` escaped for a HELP line: backslash and newline.
void append_help_text(std::string& out, std::string_view text);
/// Appends a sample value: integral values as integers, others as the shortest text that
/// reads back to the same double; NaN, +Inf, -Inf as Prometheus spells them.
void append_metric_value(std::string& out, double value);

/// The whole exposition for the engine's current state and the endpoint's own counters.
std::string render_metrics(const sim::engine& e, const control_stats& control);

}  // namespace factorysim::control
