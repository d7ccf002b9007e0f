# Issue 9: the ingestor's per-message measurement work (seq accounting, histogram records).
factorysim_bench(measure_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/measure_bench.cpp
  LIBS ingest)
