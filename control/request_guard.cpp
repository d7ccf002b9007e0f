#include "control/request_guard.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace factorysim::control {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

/// The host part names this endpoint: loopback, localhost, or allowed by the rules.
bool host_part_allowed(const std::string& host, const host_rules& rules) {
  if (host.empty()) return false;
  if (host == "localhost" || host == "localhost." || host.ends_with(".localhost")) return true;
  if (is_loopback_address(host)) return true;
  if (rules.any_ip_literal && is_ip_literal(host)) return true;
  return std::any_of(rules.extra_hosts.begin(), rules.extra_hosts.end(),
                     [&](const std::string& h) { return lower(h) == host; });
}

}  // namespace

bool is_loopback_address(std::string_view host) noexcept {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).is_loopback();
  return a.is_loopback();
}

std::string host_of(std::string_view value) {
  value = trim(value);
  if (value.empty()) return {};
  std::string_view host;
  std::string_view rest;
  if (value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return {};
    host = value.substr(1, close - 1);
    rest = value.substr(close + 1);
  } else {
    const auto colon = value.find(':');
    host = value.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : value.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() > 6) return {};
    if (!std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {};
  }
  if (host.empty()) return {};
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || c == '/' || c == '@' || c == '\\') return {};
  }
  return lower(host);
}

bool host_allowed(std::string_view host_header, const host_rules& rules) {
  return host_part_allowed(host_of(host_header), rules);
}

bool origin_allowed(std::string_view origin, std::string_view host_header,
                    const host_rules& rules) {
  origin = trim(origin);
  if (origin.empty()) return true;
  std::string_view rest;
  if (origin.starts_with("http://"))
    rest = origin.substr(7);
  else if (origin.starts_with("https://"))
    rest = origin.substr(8);
  else
    return false;  // "null", file:, chrome-extension:, ...
  if (rest.find('/') != std::string_view::npos) return false;  // an Origin has no path
  const std::string host = host_of(rest);
  if (host.empty()) return false;
  if (host == "localhost" || host.ends_with(".localhost") || is_loopback_address(host)) return true;
  // The same host (and port) the request was sent to: the page came from this endpoint.
  return lower(trim(rest)) == lower(trim(host_header)) && host_part_allowed(host, rules);
}

bool is_json_content_type(std::string_view content_type) noexcept {
  const auto semi = content_type.find(';');
  const std::string_view media = trim(content_type.substr(0, semi));
  constexpr std::string_view want = "application/json";
  if (media.size() != want.size()) return false;
  for (std::size_t k = 0; k < want.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(media[k])) != want[k]) return false;
  return true;
}

}  // namespace factorysim::control
