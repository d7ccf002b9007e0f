#include "sim/flat_json.hpp"

#include <cstdint>

namespace factorysim::sim {

namespace {

class scanner {
 public:
  explicit scanner(std::string_view s) : s_(s) {}

  void skip_space() noexcept {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) noexcept {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool peek(char c) noexcept {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  bool at_end() noexcept {
    skip_space();
    return pos_ == s_.size();
  }
  std::size_t pos() const noexcept { return pos_; }

  /// A JSON string at the cursor, decoded into `out`.
  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) return false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return false;
      switch (s_[pos_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair: \uD83D\uDE00
            std::uint32_t low = 0;
            if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') return false;
            pos_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  /// A JSON number at the cursor (RFC 8259 grammar); its text in `raw`.
  bool number(std::string_view& raw, bool& integer) noexcept {
    skip_space();
    const std::size_t start = pos_;
    integer = true;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !digit(s_[pos_])) return false;
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (pos_ >= s_.size() || !digit(s_[pos_])) return false;
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !digit(s_[pos_])) return false;
      while (pos_ < s_.size() && digit(s_[pos_])) ++pos_;
    }
    raw = s_.substr(start, pos_ - start);
    return true;
  }

  bool literal(std::string_view word) noexcept {
    skip_space();
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::string_view slice(std::size_t from) const noexcept { return s_.substr(from, pos_ - from); }

 private:
  static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
  bool hex4(std::uint32_t& v) noexcept {
    if (pos_ + 4 > s_.size()) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

bool parse_flat_json(std::string_view payload, std::vector<flat_field>& out) {
  out.clear();
  scanner sc(payload);
  if (!sc.eat('{')) return false;
  if (sc.eat('}')) return sc.at_end();
  for (;;) {
    flat_field f;
    if (!sc.string(f.key) || !sc.eat(':')) return false;
    sc.skip_space();
    const std::size_t start = sc.pos();
    f.offset = start;
    if (sc.peek('"')) {
      f.kind = flat_kind::string;
      if (!sc.string(f.text)) return false;
    } else if (sc.peek('[')) {
      f.kind = flat_kind::array;
      sc.eat('[');
      if (!sc.eat(']')) {
        for (;;) {
          std::string item;
          if (!sc.string(item)) return false;
          f.items.push_back(std::move(item));
          if (sc.eat(']')) break;
          if (!sc.eat(',')) return false;
        }
      }
    } else if (sc.literal("true") || sc.literal("false")) {
      f.kind = flat_kind::boolean;
    } else if (sc.literal("null")) {
      f.kind = flat_kind::null;
    } else {
      f.kind = flat_kind::number;
      std::string_view ignored;
      if (!sc.number(ignored, f.is_integer)) return false;
    }
    f.raw = sc.slice(start);
    if (f.kind == flat_kind::number || f.kind == flat_kind::boolean) f.text = std::string(f.raw);
    out.push_back(std::move(f));
    if (sc.eat('}')) return sc.at_end();
    if (!sc.eat(',')) return false;
  }
}

const flat_field* find_field(const std::vector<flat_field>& fields, std::string_view key) noexcept {
  for (const auto& f : fields)
    if (f.key == key) return &f;
  return nullptr;
}

}  // namespace factorysim::sim
