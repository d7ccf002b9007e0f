#!/usr/bin/env bash
# Installs what factorysim needs from Debian's packages (only what is missing) and builds it.
#   scripts/setup.sh [BUILD_DIR]        (default: build)
# Env: FACTORYSIM_CMAKE_ARGS adds cmake options, e.g. -DFACTORYSIM_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libyaml-cpp-dev libmosquitto-dev libssl-dev libpq-dev libpqxx-dev
  nlohmann-json3-dev libcli11-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients postgresql-15 postgresql-client-15
  prometheus  # promtool: tests check GET /metrics with `promtool check metrics`
  influxdb influxdb-client  # tests load `run --format influx` into a private InfluxDB 1.x
  dpkg-dev  # dpkg-shlibdeps: CPack declares the .deb's library dependencies (docs/packaging.md)
  clang libclang-rt-14-dev  # libFuzzer and clang's sanitizers: scripts/test.sh's fuzz stage
  chromium  # headless: a test renders the bench's HTML report and checks its charts
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # policy-rc.d keeps the packaged mosquitto/postgresql services from starting: we run our own.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${FACTORYSIM_CMAKE_ARGS:-} >&2
fi
cmake --build "$build_dir" -j"$(nproc)" >&2
