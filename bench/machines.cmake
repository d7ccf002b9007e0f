# Model stepping speed: readings per second per core for every machine type.
factorysim_bench(model_step_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/model_step_bench.cpp LIBS machines)
