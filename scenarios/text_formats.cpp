// Small hand-written parsers: strict on purpose, since a scenario that silently reads "15min"
// as 15 s (or "2024-06-01" as midnight UTC of some other day) is worse than an error.
#include "scenarios/text_formats.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <date/date.h>

namespace factorysim::scenarios {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Reads exactly n digits at s[pos]; advances pos.
std::optional<int> fixed_digits(std::string_view s, std::size_t& pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, char c) noexcept {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<date::sys_days> make_days(int y, int m, int d) noexcept {
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(m)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days{ymd};
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// SHA-1 (FIPS 180-4), only for uuid5; not for anything that needs a secure hash.
class sha1 {
 public:
  void update(const unsigned char* data, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      block_[fill_++] = data[i];
      if (fill_ == 64) {
        compress();
        fill_ = 0;
      }
    }
    length_bytes_ += n;
  }
  std::array<unsigned char, 20> finish() noexcept {
    const std::uint64_t bits = length_bytes_ * 8;
    const unsigned char pad = 0x80;
    update(&pad, 1);
    const unsigned char zero = 0;
    while (fill_ != 56) update(&zero, 1);
    for (int i = 7; i >= 0; --i) {
      const auto b = static_cast<unsigned char>(bits >> (8 * i));
      update(&b, 1);
    }
    std::array<unsigned char, 20> out{};
    for (std::size_t i = 0; i < 5; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        out[4 * i + j] = static_cast<unsigned char>(h_[i] >> (24 - 8 * j));
    return out;
  }

 private:
  static std::uint32_t rotl(std::uint32_t x, int n) noexcept { return (x << n) | (x >> (32 - n)); }
  void compress() noexcept {
    std::array<std::uint32_t, 80> w{};
    for (std::size_t i = 0; i < 16; ++i)
      w[i] = (std::uint32_t{block_[4 * i]} << 24) | (std::uint32_t{block_[4 * i + 1]} << 16) |
             (std::uint32_t{block_[4 * i + 2]} << 8) | std::uint32_t{block_[4 * i + 3]};
    for (std::size_t i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (std::size_t i = 0; i < 80; ++i) {
      std::uint32_t f = 0, k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  std::array<std::uint32_t, 5> h_{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::array<unsigned char, 64> block_{};
  std::size_t fill_ = 0;
  std::uint64_t length_bytes_ = 0;
};

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) noexcept {
  const auto total_ms = parse_duration_ms(s);
  if (!total_ms) return std::nullopt;
  const double rounded = std::round(*total_ms);
  if (std::abs(*total_ms - rounded) > 1e-6 * std::max(1.0, *total_ms)) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(rounded)};
}

std::optional<double> parse_duration_ms(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  constexpr double max_ms = 100.0 * 366 * 86400 * 1000;  // a century is plenty
  double total_ms = 0;
  std::size_t pos = 0;
  bool plain = true;
  while (pos < s.size()) {
    // number: digits [. digits]
    const std::size_t start = pos;
    double value = 0;
    while (pos < s.size() && is_digit(s[pos])) value = value * 10 + (s[pos++] - '0');
    if (pos == start) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      double scale = 0.1;
      const std::size_t frac_start = pos;
      while (pos < s.size() && is_digit(s[pos])) {
        value += (s[pos++] - '0') * scale;
        scale /= 10;
      }
      if (pos == frac_start) return std::nullopt;
    }
    double unit_ms = 0;
    if (pos == s.size()) {
      if (!plain || start != 0) return std::nullopt;  // "1h30" is ambiguous
      unit_ms = 1000;
    } else if (s.substr(pos, 2) == "ms") {
      unit_ms = 1;
      pos += 2;
    } else {
      switch (s[pos]) {
        case 's': unit_ms = 1000; break;
        case 'm': unit_ms = 60'000; break;
        case 'h': unit_ms = 3'600'000; break;
        case 'd': unit_ms = 86'400'000; break;
        default: return std::nullopt;
      }
      ++pos;
    }
    plain = false;
    total_ms += value * unit_ms;
    if (total_ms > max_ms) return std::nullopt;
  }
  return total_ms;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<machines::sim_time> parse_rfc3339(std::string_view s) noexcept {
  std::size_t pos = 0;
  const auto year = fixed_digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  const auto month = fixed_digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  const auto day = fixed_digits(s, pos, 2);
  if (!day || pos >= s.size()) return std::nullopt;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  const auto hour = fixed_digits(s, pos, 2);
  if (!hour || !expect(s, pos, ':')) return std::nullopt;
  const auto minute = fixed_digits(s, pos, 2);
  if (!minute || !expect(s, pos, ':')) return std::nullopt;
  const auto second = fixed_digits(s, pos, 2);
  if (!second) return std::nullopt;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    // RFC 3339 allows any number of digits; simulated time has milliseconds, so the digits
    // after the third are read and dropped (truncation: 00.1239 is 00.123, never 00.124).
    while (pos < s.size() && is_digit(s[pos])) {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;  // RFC 3339 requires a zone
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    const auto oh = fixed_digits(s, pos, 2);
    if (!oh || !expect(s, pos, ':')) return std::nullopt;
    const auto om = fixed_digits(s, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = sign * (*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto days = make_days(*year, *month, *day);
  if (!days) return std::nullopt;
  using namespace std::chrono;
  return machines::sim_time{time_point_cast<milliseconds>(*days) + hours{*hour} +
                            minutes{*minute - offset_min} + seconds{*second} +
                            milliseconds{millis}};
}

std::string format_rfc3339(machines::sim_time t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const date::year_month_day ymd{date::sys_days{day}};
  const auto ms = (t - day).count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(ms / 3'600'000), static_cast<int>(ms / 60'000 % 60),
                static_cast<int>(ms / 1000 % 60), static_cast<int>(ms % 1000));
  return buf;
}

std::optional<int> parse_clock_minutes(std::string_view s) noexcept {
  std::size_t pos = 0;
  const auto hour = fixed_digits(s, pos, 2);
  if (!hour || !expect(s, pos, ':')) return std::nullopt;
  const auto minute = fixed_digits(s, pos, 2);
  if (!minute || pos != s.size() || *minute > 59) return std::nullopt;
  const int total = *hour * 60 + *minute;
  if (total > 24 * 60) return std::nullopt;
  return total;
}

std::optional<machines::civil_date> parse_civil_date(std::string_view s) noexcept {
  std::size_t pos = 0;
  const auto year = fixed_digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  const auto month = fixed_digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  const auto day = fixed_digits(s, pos, 2);
  if (!day || pos != s.size() || !make_days(*year, *month, *day)) return std::nullopt;
  return machines::civil_date{*year, *month, *day};
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (hex_value(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string normalize_uuid(std::string_view s) {
  std::string out{s};
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string uuid5(std::string_view namespace_id, std::string_view name) {
  std::array<unsigned char, 16> ns{};
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < namespace_id.size() && n < 16; ++i) {
    if (namespace_id[i] == '-') continue;
    ns[n++] = static_cast<unsigned char>(hex_value(namespace_id[i]) * 16 +
                                         hex_value(namespace_id[i + 1]));
    ++i;
  }
  sha1 h;
  h.update(ns.data(), ns.size());
  h.update(reinterpret_cast<const unsigned char*>(name.data()), name.size());
  auto digest = h.finish();
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0x0F]);
  }
  return out;
}

}  // namespace factorysim::scenarios
