#!/usr/bin/env bash
# Publish rate into a local broker: factorysim's MQTT clients (our own mqtt::publisher, MQTT 5
# and 3.1.1, and libmosquitto behind the same interface: `mqtt.client`) vs `mosquitto_pub -l`,
# the same number of messages of the same size into the same private broker in the same run.
#
#   bench/publish_bench.sh [-n COUNT] [-s SIZE] [-q "1 0"] [-w WINDOW] [-b BUILD_DIR] [-S]
#     -n messages per contender (default 100000)   -s payload bytes (default 200)
#     -q QoS levels to run (default "1 0")          -w in-flight window (default 1000)
#     -b build dir holding bench/publish_bench (default build)
#     -S no subscriber (by default one mosquitto_sub counts the arrivals of each contender)
#
# Each contender is a function `contender_<name> QOS TOPIC` that publishes $count messages of
# $size bytes to $port on TOPIC and returns when its publisher is done; run_contender times it
# and checks the arrivals. To add one (e.g. `factorysim run --mode backfill`), write its
# function and add its name to the `contenders` list below.
set -euo pipefail
cd "$(dirname "$0")/.."

count=100000
size=200
qos_levels="1 0"
window=1000
build_dir=build
subscribe=1
while getopts "n:s:q:w:b:S" opt; do
  case $opt in
    n) count=$OPTARG ;; s) size=$OPTARG ;; q) qos_levels=$OPTARG ;; w) window=$OPTARG ;;
    b) build_dir=$OPTARG ;; S) subscribe=0 ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
driver="$build_dir/bench/publish_bench"
[ -x "$driver" ] || { echo "publish_bench: $driver not built (cmake --build $build_dir --target publish_bench)" >&2; exit 2; }

# --- a private broker on a free loopback port --------------------------------------------------
work=$(mktemp -d /tmp/factorysim-publish-bench-XXXXXX)
broker_pid=
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 50); do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" || break
done
cat >"$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
user root
persistence false
max_queued_messages 0
max_inflight_messages 0
log_dest file $work/mosquitto.log
EOF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/stderr.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 200); do port_in_use "$port" && break; sleep 0.05; done
port_in_use "$port" || { echo "publish_bench: mosquitto did not start:" >&2; cat "$work"/*.log >&2; exit 1; }

# The same lines for every contender: "<seq> xxx...", $size bytes each.
lines="$work/lines.txt"
awk -v n="$count" -v s="$size" 'BEGIN {
  pad = ""; for (i = 0; i < s; i++) pad = pad "x";
  for (i = 0; i < n; i++) { line = i " " pad; print substr(line, 1, s) } }' >"$lines"

now() { date +%s.%N; }

# --- contenders: publish $count messages of $size bytes at QoS $1 to topic $2 ------------------
contender_mqtt_client() {
  "$driver" --port "$port" --count "$count" --size "$size" --qos "$1" --window "$window" --topic "$2" >"$work/driver.out"
}
contender_mqtt_client_v311() {
  "$driver" --port "$port" --count "$count" --size "$size" --qos "$1" --window "$window" --topic "$2" --mqtt-version 3.1.1 >"$work/driver.out"
}
contender_libmosquitto() {
  # libmosquitto 2.0.11 in the same Asio loop (`mqtt.client: libmosquitto`), same window.
  "$driver" --port "$port" --count "$count" --size "$size" --qos "$1" --window "$window" --topic "$2" --client libmosquitto >"$work/driver.out"
}
contender_mosquitto_pub() {
  # mosquitto_pub's default window (-M 20).
  mosquitto_pub -p "$port" -q "$1" -t "$2" -l <"$lines"
}
contender_mosquitto_pub_window() {
  # mosquitto_pub given the same in-flight window as our client.
  mosquitto_pub -p "$port" -q "$1" -t "$2" -M "$window" -l <"$lines"
}
contenders=(mqtt_client mqtt_client_v311 libmosquitto mosquitto_pub mosquitto_pub_window)

declare -A rate
run_contender() {
  local name=$1 qos=$2 topic="bench/$1/q$2" sub_pid= t0 t1 received=-
  if [ "$subscribe" = 1 ]; then
    mosquitto_sub -p "$port" -q "$qos" -t "$topic" -C "$count" -W 600 >"$work/sub.out" 2>/dev/null &
    sub_pid=$!
    sleep 0.3  # let the subscription land before the first message
  fi
  t0=$(now)
  "contender_$name" "$qos" "$topic"
  t1=$(now)
  if [ -n "$sub_pid" ]; then
    # QoS 0 may lose messages on purpose: give the subscriber a bounded grace period.
    for _ in $(seq 1 100); do kill -0 "$sub_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$sub_pid" 2>/dev/null || true
    wait "$sub_pid" 2>/dev/null || true
    received=$(wc -l <"$work/sub.out")
  fi
  rate[$name.$qos]=$(awk -v n="$count" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  printf '%-22s qos=%s  %8d msgs x %4d B  %7.3f s  %9s msgs/s  received=%s\n' \
    "$name" "$qos" "$count" "$size" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "${rate[$name.$qos]}" "$received"
}

echo "publish_bench: mosquitto $(/usr/sbin/mosquitto -h 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$port, $(nproc) cores"
for qos in $qos_levels; do
  for c in "${contenders[@]}"; do run_contender "$c" "$qos"; done
  printf 'ratio qos=%s mqtt_client / mosquitto_pub = %s   (vs -M %s: %s)   mqtt_client / libmosquitto = %s\n' "$qos" \
    "$(awk -v a="${rate[mqtt_client.$qos]}" -v b="${rate[mosquitto_pub.$qos]}" 'BEGIN { printf "%.2f", a / b }')" \
    "$window" \
    "$(awk -v a="${rate[mqtt_client.$qos]}" -v b="${rate[mosquitto_pub_window.$qos]}" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="${rate[mqtt_client.$qos]}" -v b="${rate[libmosquitto.$qos]}" 'BEGIN { printf "%.2f", a / b }')"
done

# --- contender `factorysim run --mode backfill` (helper "engine") ------------------------------
# The simulator publishes its own messages, so the comparison uses them on both sides: a dry run
# with --output gives the exact messages of a backfill of the demo plant (about $count of them,
# 200-300 bytes each); then `factorysim run --mode backfill` publishes them to the broker (seven
# machines = seven MQTT sessions, window $window each) and `mosquitto_pub -l` publishes the same
# payload lines, same count and sizes, to the same broker. Both are timed from process start to
# exit (the simulator exits after every QoS 1 message was acknowledged).
factorysim_bin="$build_dir/cli/factorysim"
if [ ! -x "$factorysim_bin" ]; then
  echo "publish_bench: $factorysim_bin not built: skipping the factorysim contender" >&2
  exit 0
fi
hours=$(( (count + 25577) / 25578 ))  # the demo plant publishes 25,578 messages per simulated hour
sim_from=2024-06-01T00:00:00Z
sim_to=$(date -u -d "2024-06-01 00:00:00 UTC + $hours hours" +%Y-%m-%dT%H:%M:%SZ)
for qos in $qos_levels; do
  sed -e "s/^  qos: .*/  qos: $qos/" \
      -e "s/^  client_id: .*/  client_id: factorysim-bench\n  max_inflight: $window/" \
      scenarios/demo-plant.yaml >"$work/bench-plant.yaml"
  "$factorysim_bin" run "$work/bench-plant.yaml" --mode backfill --from "$sim_from" --to "$sim_to" \
    --output "$work/sim.tsv" --no-progress 2>"$work/sim-dry.err"
  cut -f2 "$work/sim.tsv" >"$work/sim-lines.txt"
  n=$(wc -l <"$work/sim-lines.txt")
  avg=$(awk '{ s += length($0) } END { printf "%.0f", s / NR }' "$work/sim-lines.txt")

  declare -A sim_rate
  for who in factorysim_run mosquitto_pub_same_lines; do
    sub_pid=
    received=-
    if [ "$subscribe" = 1 ]; then
      # -R: ignore the retained status a previous run left behind.
      pattern="factory/#"; [ "$who" = mosquitto_pub_same_lines ] && pattern="bench/sim-lines/q$qos"
      mosquitto_sub -p "$port" -q "$qos" -R -t "$pattern" -C "$n" -W 600 >"$work/sub.out" 2>/dev/null &
      sub_pid=$!
      sleep 0.3
    fi
    t0=$(now)
    if [ "$who" = factorysim_run ]; then
      "$factorysim_bin" run "$work/bench-plant.yaml" --mqtt-port "$port" --mode backfill \
        --from "$sim_from" --to "$sim_to" --no-progress 2>"$work/sim-run.err" \
        || { echo "publish_bench: factorysim run failed:" >&2; cat "$work/sim-run.err" >&2; exit 1; }
    else
      mosquitto_pub -p "$port" -q "$qos" -t "bench/sim-lines/q$qos" -l <"$work/sim-lines.txt"
    fi
    t1=$(now)
    if [ -n "$sub_pid" ]; then
      for _ in $(seq 1 100); do kill -0 "$sub_pid" 2>/dev/null || break; sleep 0.1; done
      kill "$sub_pid" 2>/dev/null || true
      wait "$sub_pid" 2>/dev/null || true
      received=$(wc -l <"$work/sub.out")
    fi
    sim_rate[$who]=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    printf '%-22s qos=%s  %8d msgs x %4d B  %7.3f s  %9s msgs/s  received=%s\n' \
      "$who" "$qos" "$n" "$avg" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
      "${sim_rate[$who]}" "$received"
  done
  printf 'ratio qos=%s factorysim run / mosquitto_pub -l (same %d messages) = %s\n' "$qos" "$n" \
    "$(awk -v a="${sim_rate[factorysim_run]}" -v b="${sim_rate[mosquitto_pub_same_lines]}" 'BEGIN { printf "%.2f", a / b }')"
done
