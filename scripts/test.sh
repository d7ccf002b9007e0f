#!/usr/bin/env bash
# The second command: installs what is missing, builds with warnings as errors, runs every test
# (unit and integration; integration tests start their own mosquitto and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
FACTORYSIM_CMAKE_ARGS="-DFACTORYSIM_WERROR=ON ${FACTORYSIM_CMAKE_ARGS:-}" scripts/setup.sh build
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900 "$@"
