#include "ingest/json_scanner.hpp"

namespace factorysim::ingest::json {
namespace {

constexpr int max_depth = 32;

struct cursor {
  const char* p;
  const char* end;
  const char* begin;
  scan_error* error;

  bool fail(std::string_view what) {
    error->offset = static_cast<std::size_t>(p - begin);
    error->what = what;
    return false;
  }
  void skip_ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() ||
        std::string_view(p, word.size()) != word)
      return fail("invalid literal");
    p += word.size();
    return true;
  }
};

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool valid_utf8(std::string_view s);

// Scans a string starting after its opening quote; leaves p after the closing quote.
bool scan_string(cursor& c, std::string_view& raw, bool& has_escape) {
  const char* start = c.p;
  has_escape = false;
  while (c.p < c.end) {
    const auto ch = static_cast<unsigned char>(*c.p);
    if (ch == '"') {
      raw = std::string_view(start, static_cast<std::size_t>(c.p - start));
      ++c.p;
      return true;
    }
    if (ch < 0x20) return c.fail("control character in string");
    if (ch >= 0x80) {
      // JSON text is UTF-8 (RFC 8259 section 8.1): a bad sequence makes it not JSON.
      const std::size_t len = (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 0;
      if (len == 0 || static_cast<std::size_t>(c.end - c.p) < len ||
          !valid_utf8(std::string_view(c.p, len)))
        return c.fail("invalid UTF-8 in string");
      c.p += len;
      continue;
    }
    if (ch == '\\') {
      has_escape = true;
      ++c.p;
      if (c.p >= c.end) break;
      switch (*c.p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          ++c.p;
          break;
        case 'u':
          if (c.end - c.p < 5 || !is_hex(c.p[1]) || !is_hex(c.p[2]) || !is_hex(c.p[3]) ||
              !is_hex(c.p[4]))
            return c.fail("bad \\u escape");
          c.p += 5;
          break;
        default:
          return c.fail("bad escape");
      }
      continue;
    }
    ++c.p;
  }
  return c.fail("unterminated string");
}

bool scan_number(cursor& c, value& v, int depth) {
  const char* start = c.p;
  if (*c.p == '-') ++c.p;
  if (c.p < c.end && *c.p == 'I') {  // -Infinity (not JSON; reported as non-finite)
    if (depth > 1) return c.fail("invalid literal");
    if (!c.literal("Infinity")) return false;
    v.type = kind::number;
    v.non_finite_token = true;
    v.number_text = std::string_view(start, static_cast<std::size_t>(c.p - start));
    return true;
  }
  bool integer = true;
  if (c.p >= c.end) return c.fail("bad number");
  if (*c.p == '0') {
    ++c.p;
  } else if (*c.p >= '1' && *c.p <= '9') {
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9') ++c.p;
  } else {
    return c.fail("bad number");
  }
  if (c.p < c.end && *c.p == '.') {
    integer = false;
    ++c.p;
    if (c.p >= c.end || *c.p < '0' || *c.p > '9') return c.fail("bad number");
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9') ++c.p;
  }
  if (c.p < c.end && (*c.p == 'e' || *c.p == 'E')) {
    integer = false;
    ++c.p;
    if (c.p < c.end && (*c.p == '+' || *c.p == '-')) ++c.p;
    if (c.p >= c.end || *c.p < '0' || *c.p > '9') return c.fail("bad number");
    while (c.p < c.end && *c.p >= '0' && *c.p <= '9') ++c.p;
  }
  v.type = kind::number;
  v.is_integer = integer;
  v.number_text = std::string_view(start, static_cast<std::size_t>(c.p - start));
  return true;
}

bool scan_value(cursor& c, value& v, int depth);

bool scan_container(cursor& c, char close, int depth) {
  if (depth > max_depth) return c.fail("nesting too deep");
  c.skip_ws();
  if (c.p < c.end && *c.p == close) {
    ++c.p;
    return true;
  }
  value inner;
  for (;;) {
    c.skip_ws();
    if (close == '}') {
      if (c.p >= c.end || *c.p != '"') return c.fail("expected a key");
      ++c.p;
      std::string_view raw;
      bool esc = false;
      if (!scan_string(c, raw, esc)) return false;
      c.skip_ws();
      if (c.p >= c.end || *c.p != ':') return c.fail("expected ':'");
      ++c.p;
      c.skip_ws();
    }
    if (!scan_value(c, inner, depth)) return false;
    c.skip_ws();
    if (c.p >= c.end) return c.fail("unterminated container");
    if (*c.p == ',') {
      ++c.p;
      continue;
    }
    if (*c.p == close) {
      ++c.p;
      return true;
    }
    return c.fail("expected ',' or end of container");
  }
}

bool scan_value(cursor& c, value& v, int depth) {
  v = value{};
  if (c.p >= c.end) return c.fail("expected a value");
  const char* start = c.p;
  switch (*c.p) {
    case '"':
      ++c.p;
      v.type = kind::string;
      return scan_string(c, v.raw, v.has_escape);
    case '{':
    case '[': {
      const char close = *c.p == '{' ? '}' : ']';
      v.type = close == '}' ? kind::object : kind::array;
      ++c.p;
      if (!scan_container(c, close, depth + 1)) return false;
      v.raw = std::string_view(start, static_cast<std::size_t>(c.p - start));
      return true;
    }
    case 't':
      v.type = kind::boolean;
      v.boolean = true;
      return c.literal("true");
    case 'f':
      v.type = kind::boolean;
      return c.literal("false");
    case 'n':
      return c.literal("null");
    case 'N':
    case 'I':
      // NaN / Infinity are not JSON, but common writers emit them: name the real problem
      // when it is one of our fields; anywhere deeper it is just not JSON.
      if (depth > 1) return c.fail("invalid literal");
      if (!c.literal(*c.p == 'N' ? "NaN" : "Infinity")) return false;
      v.type = kind::number;
      v.non_finite_token = true;
      v.number_text = std::string_view(start, static_cast<std::size_t>(c.p - start));
      return true;
    default:
      if (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')) return scan_number(c, v, depth);
      return c.fail("unexpected character");
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::uint32_t hex4(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9') v |= static_cast<std::uint32_t>(ch - '0');
    else if (ch >= 'a' && ch <= 'f') v |= static_cast<std::uint32_t>(ch - 'a' + 10);
    else v |= static_cast<std::uint32_t>(ch - 'A' + 10);
  }
  return v;
}

// Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == 0) return false;
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1Fu; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0Fu; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07u; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    // Find the longest valid prefix of up to 4 bytes starting here.
    std::size_t len = 0;
    for (std::size_t n = 1; n <= 4 && i + n <= s.size(); ++n) {
      if (valid_utf8(s.substr(i, n))) {
        len = n;
        break;
      }
    }
    if (len == 0) {
      out.push_back('?');
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool decode_string(std::string_view raw, bool has_escape, std::string& out) {
  out.clear();
  if (!has_escape) {
    if (!valid_utf8(raw)) return false;
    out.assign(raw);
    return true;
  }
  out.reserve(raw.size());
  std::size_t i = 0;
  std::size_t run_start = 0;
  while (i < raw.size()) {
    if (raw[i] != '\\') {
      ++i;
      continue;
    }
    const std::string_view run = raw.substr(run_start, i - run_start);
    if (!valid_utf8(run)) return false;
    out.append(run);
    const char e = raw[i + 1];  // the scanner guarantees a valid escape follows
    i += 2;
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        std::uint32_t cp = hex4(raw.data() + i);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 6 > raw.size() || raw[i] != '\\' || raw[i + 1] != 'u') return false;
          const std::uint32_t low = hex4(raw.data() + i + 2);
          if (low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        if (cp == 0) return false;
        append_utf8(out, cp);
        break;
      }
      default: out.push_back(e); break;  // " \ /
    }
    run_start = i;
  }
  const std::string_view tail = raw.substr(run_start);
  if (!valid_utf8(tail)) return false;
  out.append(tail);
  return true;
}

namespace detail {

scan_status scan_object(std::string_view doc,
                        bool (*on_pair)(void*, std::string_view, const value&), void* ctx,
                        scan_error& error, std::string& key_buffer) {
  cursor c{doc.data(), doc.data() + doc.size(), doc.data(), &error};
  c.skip_ws();
  if (c.p >= c.end) {
    c.fail("empty document");
    return scan_status::not_json;
  }
  if (*c.p != '{') {
    // Still tell "valid JSON but not an object" from garbage.
    value v;
    if (!scan_value(c, v, 0)) return scan_status::not_json;
    c.skip_ws();
    if (c.p != c.end) {
      c.fail("trailing characters");
      return scan_status::not_json;
    }
    if (v.non_finite_token) return scan_status::not_json;
    c.fail("not an object");
    return scan_status::not_object;
  }
  ++c.p;
  c.skip_ws();
  bool stopped = false;
  if (c.p < c.end && *c.p == '}') {
    ++c.p;
  } else {
    value v;
    for (;;) {
      c.skip_ws();
      if (c.p >= c.end || *c.p != '"') {
        c.fail("expected a key");
        return scan_status::not_json;
      }
      ++c.p;
      std::string_view key_raw;
      bool key_escaped = false;
      if (!scan_string(c, key_raw, key_escaped)) return scan_status::not_json;
      c.skip_ws();
      if (c.p >= c.end || *c.p != ':') {
        c.fail("expected ':'");
        return scan_status::not_json;
      }
      ++c.p;
      c.skip_ws();
      if (!scan_value(c, v, 1)) return scan_status::not_json;
      if (!stopped) {
        std::string_view key = key_raw;
        if (key_escaped) {
          if (!decode_string(key_raw, true, key_buffer)) key_buffer.clear();
          key = key_buffer;
        }
        // Keep scanning after a stop so that "not JSON" still wins over a field error.
        if (!on_pair(ctx, key, v)) stopped = true;
      }
      c.skip_ws();
      if (c.p >= c.end) {
        c.fail("unterminated object");
        return scan_status::not_json;
      }
      if (*c.p == ',') {
        ++c.p;
        continue;
      }
      if (*c.p == '}') {
        ++c.p;
        break;
      }
      c.fail("expected ',' or '}'");
      return scan_status::not_json;
    }
  }
  c.skip_ws();
  if (c.p != c.end) {
    c.fail("trailing characters");
    return scan_status::not_json;
  }
  return stopped ? scan_status::stopped : scan_status::ok;
}

}  // namespace detail

bool for_each_string_impl(std::string_view raw_array, void (*on_item)(void*, std::string&&),
                          void* ctx) {
  scan_error error;
  cursor c{raw_array.data(), raw_array.data() + raw_array.size(), raw_array.data(), &error};
  c.skip_ws();
  if (c.p >= c.end || *c.p != '[') return false;
  ++c.p;
  c.skip_ws();
  if (c.p < c.end && *c.p == ']') return true;
  std::string item;
  for (;;) {
    c.skip_ws();
    if (c.p >= c.end || *c.p != '"') return false;
    ++c.p;
    std::string_view raw;
    bool esc = false;
    if (!scan_string(c, raw, esc)) return false;
    if (!decode_string(raw, esc, item)) return false;
    on_item(ctx, std::move(item));
    item = std::string();
    c.skip_ws();
    if (c.p >= c.end) return false;
    if (*c.p == ',') {
      ++c.p;
      continue;
    }
    return *c.p == ']';
  }
}

}  // namespace factorysim::ingest::json
