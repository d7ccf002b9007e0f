#include "benchrun/rate_profile.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "scenarios/text_formats.hpp"

namespace factorysim::benchrun {

double rate_profile::duration_s() const noexcept {
  double d = 0;
  for (const auto& s : segments) d += s.duration_s;
  return d;
}

double rate_profile::rate_at(double t_s) const noexcept {
  double start = 0, previous_rate = 0;
  for (const auto& s : segments) {
    if (t_s < start + s.duration_s) {
      if (!s.ramp) return s.rate_per_s;
      const double f = s.duration_s > 0 ? (t_s - start) / s.duration_s : 1;
      return previous_rate + (s.rate_per_s - previous_rate) * f;
    }
    start += s.duration_s;
    previous_rate = s.rate_per_s;
  }
  return previous_rate;
}

rate_profile rate_profile::constant(double rate_per_s, double duration_s) {
  rate_profile p;
  p.segments.push_back({false, rate_per_s, duration_s});
  return p;
}

namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& path,
                       const std::string& message) {
  const auto mark = n.Mark();
  throw std::runtime_error(file + ":" + std::to_string(mark.line + 1) + ":" +
                           std::to_string(mark.column + 1) + ": " + path + ": " + message);
}

double positive_number(const std::string& file, const YAML::Node& n, const std::string& path) {
  double v = 0;
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(file, n, path, "must be a number, got " + (n.IsScalar() ? n.Scalar() : "a non-scalar"));
  }
  if (!(v > 0)) fail(file, n, path, "must be > 0, got " + n.Scalar());
  return v;
}

double duration_s(const std::string& file, const YAML::Node& n, const std::string& path,
                  bool zero_allowed = false) {
  const auto d = n.IsScalar() ? scenarios::parse_duration(n.Scalar()) : std::nullopt;
  if (!d || d->count() < 0 || (d->count() == 0 && !zero_allowed))
    fail(file, n, path,
         "must be a duration such as 60s or 2m, got " +
             (n.IsScalar() ? n.Scalar() : std::string("a non-scalar")));
  return static_cast<double>(d->count()) / 1000.0;
}

}  // namespace

bench_section read_bench_section(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file + ": " + e.what());
  }
  bench_section out;
  if (!root.IsMap() || !root["bench"]) return out;
  const YAML::Node b = root["bench"];
  if (!b.IsMap()) fail(file, b, "bench", "must be a map (profile, machines, warmup)");
  for (const auto& kv : b) {
    const std::string key = kv.first.as<std::string>();
    if (key != "profile" && key != "machines" && key != "warmup")
      fail(file, kv.first, "bench", "unknown key \"" + key + "\" (profile, machines, warmup)");
  }
  if (const auto m = b["machines"]) {
    const double v = positive_number(file, m, "bench.machines");
    out.machines = static_cast<std::size_t>(v);
  }
  if (const auto w = b["warmup"]) out.warmup_s = duration_s(file, w, "bench.warmup", true);
  if (const auto p = b["profile"]) {
    if (!p.IsSequence() || p.size() == 0)
      fail(file, p, "bench.profile", "must be a non-empty list of {rate|ramp_to, for}");
    rate_profile profile;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const YAML::Node s = p[i];
      const std::string path = "bench.profile[" + std::to_string(i) + "]";
      if (!s.IsMap())
        fail(file, s, path, "must be a map {rate: R, for: D} or {ramp_to: R, for: D}");
      for (const auto& kv : s) {
        const std::string key = kv.first.as<std::string>();
        if (key != "rate" && key != "ramp_to" && key != "for")
          fail(file, kv.first, path, "unknown key \"" + key + "\" (rate, ramp_to, for)");
      }
      if (bool(s["rate"]) == bool(s["ramp_to"]))
        fail(file, s, path, "needs exactly one of rate and ramp_to");
      if (!s["for"]) fail(file, s, path, "needs for (a duration)");
      rate_segment seg;
      seg.ramp = bool(s["ramp_to"]);
      seg.rate_per_s = positive_number(file, seg.ramp ? s["ramp_to"] : s["rate"],
                                       path + (seg.ramp ? ".ramp_to" : ".rate"));
      seg.duration_s = duration_s(file, s["for"], path + ".for");
      profile.segments.push_back(seg);
    }
    out.profile = profile;
  }
  return out;
}

}  // namespace factorysim::benchrun
