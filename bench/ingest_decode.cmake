# Decoder speed (ingest hot path): bench/ingest_decode_bench.cpp.
factorysim_bench(ingest_decode_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ingest_decode_bench.cpp
  LIBS ingest nlohmann_json::nlohmann_json)
