// libFuzzer target: the ingestor's payload decoder (ingest/wire_decoder.hpp), which must never
// throw: every input is a row or a counted reject. The first byte picks the stream of the
// topic; the rest is the payload. A row's times must format back to RFC 3339. Issue 12.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ingest/wire_decoder.hpp"

namespace ingest = factorysim::ingest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view topics[] = {
      "factory/demo/compressor-1/energy",        "factory/demo/compressor-1/production",
      "factory/demo/compressor-1/environmental", "factory/demo/compressor-1/status",
      "factory/demo/compressor-1/events",        "factory/demo/compressor-1/truth",
      "factory/demo/compressor-1/nope",          "x"};
  const std::string_view topic = topics[data[0] % std::size(topics)];
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  ingest::decode_options o;
  o.now_us = 1'717'200'000'000'000;  // 2024-06-01: the future-time window is checked too
  // decode_message is noexcept in spirit: an exception escaping it aborts the fuzzer.
  const ingest::decode_result r = ingest::decode_message(topic, payload, o);
  if (const auto* rej = std::get_if<ingest::reject>(&r)) {
    if (ingest::to_string(rej->reason).empty()) __builtin_trap();
  }
  ingest::unix_us t = 0;
  if (ingest::parse_rfc3339(payload, t)) (void)ingest::format_rfc3339_ms(t);
  return 0;
}
