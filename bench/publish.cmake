# Publish-rate driver used by bench/publish_bench.sh (a plain main, not Google Benchmark: the
# broker round trip is the thing measured).
factorysim_bench(publish_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/publish_bench.cpp LIBS sim)
