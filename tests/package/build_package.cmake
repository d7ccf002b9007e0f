# cmake -DCPACK=cpack -DCONFIG=<build>/CPackConfig.cmake -DOUT=<dir> -P build_package.cmake
# Builds the .deb of this build tree into a clean OUT (the package tests' fixture).
file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${CPACK}" -G DEB --config "${CONFIG}" -B "${OUT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cpack failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
