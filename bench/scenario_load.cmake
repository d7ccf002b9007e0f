factorysim_bench(scenario_load_bench SOURCES scenario_load_bench.cpp LIBS scenarios)
target_compile_definitions(scenario_load_bench PRIVATE FACTORYSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
