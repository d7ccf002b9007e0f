#!/usr/bin/env bash
# The second command: installs what is missing, builds with warnings as errors, runs every test
# (unit and integration; integration tests start their own mosquitto and PostgreSQL).
# Then, unless FACTORYSIM_TEST_FAST=1 or ctest arguments select a subset (tests/README.md):
#   - a clang build with ASan/UBSan and libFuzzer (build-sanitize/) runs each fuzz target of
#     tests/fuzz for FACTORYSIM_FUZZ_SECONDS (default 20) on its seed corpus, and
#   - the unit tests and the quicker integration tests again in that build.
set -euo pipefail
cd "$(dirname "$0")/.."
FACTORYSIM_CMAKE_ARGS="-DFACTORYSIM_WERROR=ON ${FACTORYSIM_CMAKE_ARGS:-}" scripts/setup.sh build
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900 "$@"

if [ "${FACTORYSIM_TEST_FAST:-0}" = 1 ] || [ $# -gt 0 ]; then
  exit 0
fi

# ---- issue 12: fuzzing and the sanitizer build of the suite
started=$(date +%s)
san_dir=${FACTORYSIM_SANITIZE_BUILD_DIR:-build-sanitize}
if [ ! -f "$san_dir/CMakeCache.txt" ]; then
  # Warnings are gcc's business (the build above, -Werror); clang's differ.
  # shellcheck disable=SC2086
  CC=clang CXX=clang++ cmake -S . -B "$san_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    ${FACTORYSIM_CMAKE_ARGS:-} -DFACTORYSIM_WERROR=OFF -DFACTORYSIM_FUZZ=ON \
    -DFACTORYSIM_BENCH=OFF >&2
fi
cmake --build "$san_dir" -j"$(nproc)" >&2
echo "test.sh: sanitizer build ready after $(( $(date +%s) - started )) s" >&2

fuzz_seconds="${FACTORYSIM_FUZZ_SECONDS:-20}"
for target in mqtt_codec wire_decoder scenario_loader control_router; do
  corpus="$san_dir/fuzz-corpus/$target"   # what the fuzzer adds; the seeds stay as checked in
  artifacts="$san_dir/fuzz-artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  echo "test.sh: fuzzing $target for ${fuzz_seconds} s" >&2
  if ! "$san_dir/tests/fuzz/${target}_fuzz" -max_total_time="$fuzz_seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
      "$corpus" "tests/fuzz/$target" > "$san_dir/fuzz-$target.log" 2>&1; then
    tail -n 60 "$san_dir/fuzz-$target.log" >&2
    echo "test.sh: $target found a crash: $(ls "$artifacts"); reproduce with" \
         "$san_dir/tests/fuzz/${target}_fuzz FILE, then add it as a regression test" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$san_dir/fuzz-$target.log" >&2 || true
done
echo "test.sh: fuzzing done after $(( $(date +%s) - started )) s" >&2

# A report in a child factorysim must kill it with SIGABRT, an exit status no test expects.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:${UBSAN_OPTIONS:-}"
# Every unit test, and the integration tests of our own sockets and processes; left out: the
# .deb build, the documented demo, InfluxDB, TimescaleDB and the SQL-only suites, whose code
# under test is not ours or is exercised above (tests/README.md).
ctest --test-dir "$san_dir" --output-on-failure -j"$(nproc)" --timeout 900 -L unit
ctest --test-dir "$san_dir" --output-on-failure -j"$(nproc)" --timeout 900 -L integration \
  -E '^(package_|quickstart|influx|timescale|db_init|kpi|partitions|rollups|schema|postgres_server)'
echo "test.sh: fuzzing and sanitizer suite took $(( $(date +%s) - started )) s" >&2
