# RSS per simulated machine with 10,000 replicated machines (a plain main; see memory_bench.cpp).
factorysim_bench(memory_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/memory_bench.cpp LIBS sim)
target_compile_definitions(memory_bench PRIVATE FACTORYSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
