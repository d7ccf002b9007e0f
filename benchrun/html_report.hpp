#pragma once
/// The report as one self-contained HTML page (a view of the JSON report): rates and latency
/// over time, the latency percentiles, the loss table, the manifest. Charts are inline SVG
/// drawn here (no script, nothing fetched), so that the page opens anywhere, offline. Pure.

#include <nlohmann/json.hpp>
#include <string>

namespace factorysim::benchrun {

std::string render_html(const nlohmann::json& report);

}  // namespace factorysim::benchrun
