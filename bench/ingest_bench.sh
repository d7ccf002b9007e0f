#!/usr/bin/env bash
# Insert benchmark of issue 3, on a private PostgreSQL 15 (scripts/pg-local.sh in a temp dir):
#  1. `psql \copy energy_readings (...) FROM file WITH (FORMAT binary)` of N rows against
#     `factorysim loadgen` writing the same N rows into the same indexed table (best of 2 each,
#     table truncated and checkpointed before every run), and their ratio;
#  2. `loadgen --dedupe` (staging table + INSERT ... ON CONFLICT DO NOTHING, what ingest does):
#     the price of duplicate-proofing;
#  3. MQTT end to end: `factorysim run` (bench/ingest_e2e.yaml: 2,000 compressors, QoS 1,
#     15 simulated minutes = 5.4 M readings) -> mosquitto -> `factorysim ingest` -> PostgreSQL:
#     rows/s from the first publish to the last commit, the per-second commit rates, rows lost;
#  4. the broker-only reference of the same run: the same simulator into `mosquitto_sub -q 1`
#     (readings/s until the last arrived), and the ratio end to end / broker only (goal >= 0.9).
#   bench/ingest_bench.sh [BUILD_DIR]        (default: build)
# Env: E2E_SCENARIO (default bench/ingest_e2e.yaml) and E2E_EXPECTED (its readings), DB_INIT_ARGS (extra `db init` options, e.g.
# --no-timeseries-fk), ROWS (default 2000000), WORKERS (2), BATCH_ROWS (20000), SKIP_COPY=1 / SKIP_E2E=1 / SKIP_BROKER_ONLY=1 (skip a
# part), KEEP=1 (keep the temp dir).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin="$build/cli/factorysim"
rows=${ROWS:-2000000}
workers=${WORKERS:-2}
batch=${BATCH_ROWS:-20000}
psql_bin=/usr/lib/postgresql/15/bin/psql
[ -x "$bin" ] || { echo "ingest_bench: build $bin first" >&2; exit 2; }

work=$(mktemp -d /tmp/factorysim-ingest-bench.XXXXXX)
chmod 0755 "$work"
export FACTORYSIM_PG_DIR="$work/pg"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$root/scripts/pg-local.sh" destroy >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

db=$("$root/scripts/pg-local.sh" start)
sql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# db init creates a day partition per table from the scenario's start up to now, in one
# transaction: an old scenario start needs more locks than the default 64 per transaction.
sql -c "ALTER SYSTEM SET max_locks_per_transaction = 4096" >/dev/null
"$root/scripts/pg-local.sh" stop >/dev/null
db=$("$root/scripts/pg-local.sh" start)
now() { date +%s.%N; }
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

echo "ingest_bench: PostgreSQL at $db; $rows rows, $workers workers, batches of $batch" >&2
"$bin" db init --db "$db" --scenario "$root/scenarios/demo-plant.yaml" ${DB_INIT_ARGS:-} >&2
sql -c "SELECT ensure_partitions('2024-05-31', '2024-08-01')" >/dev/null
indexes=$(sql -tAc "SELECT string_agg(indexname, ', ') FROM pg_indexes WHERE tablename = 'energy_readings'")
cols="time, machine_id, power_kw, energy_kwh, energy_total_kwh, voltage_v, current_a, power_factor, frequency_hz, seq"
reset() { sql -c "TRUNCATE energy_readings" -c "CHECKPOINT"; }

loadgen() {  # loadgen JSON_OUT [extra args]
  local out=$1; shift
  "$bin" loadgen --db "$db" --scenario "$root/scenarios/demo-plant.yaml" --rows "$rows" \
    --workers "$workers" --batch-rows "$batch" --start 2024-06-01T00:00:00Z --json "$out" "$@" 2>/dev/null >&2
  [ "$(sql -tAc 'SELECT count(*) FROM energy_readings')" = "$rows" ] || { echo "ingest_bench: loadgen row count wrong" >&2; exit 1; }
  json_field "$out" rows_per_s
}

if [ -z "${SKIP_COPY:-}" ]; then
# The data file psql loads: the very rows loadgen generates, exported in binary.
reset
loadgen "$work/warmup.json" >/dev/null
sql -c "\\copy (SELECT $cols FROM energy_readings) TO '$work/rows.bin' WITH (FORMAT binary)"
echo "ingest_bench: $(du -h "$work/rows.bin" | cut -f1) binary COPY file; indexes on energy_readings: $indexes" >&2

best_psql=0; best_loadgen=0
for round in 1 2; do
  reset
  t0=$(now)
  sql -c "\\copy energy_readings ($cols) FROM '$work/rows.bin' WITH (FORMAT binary)"
  t1=$(now)
  r=$(python3 -c "print($rows / ($t1 - $t0))")
  echo "ingest_bench: round $round psql \\copy binary: $(printf %.0f "$r") rows/s" >&2
  best_psql=$(python3 -c "print(max($best_psql, $r))")
  reset
  r=$(loadgen "$work/loadgen$round.json")
  echo "ingest_bench: round $round loadgen:            $(printf %.0f "$r") rows/s" >&2
  best_loadgen=$(python3 -c "print(max($best_loadgen, $r))")
done
reset
dedupe=$(loadgen "$work/dedupe.json" --dedupe)
p50=$(python3 -c "import json; print(json.load(open('$work/loadgen2.json'))['commit_latency_ms']['p50'])")
p99=$(python3 -c "import json; print(json.load(open('$work/loadgen2.json'))['commit_latency_ms']['p99'])")

printf 'psql \\copy (FORMAT binary): %10.0f rows/s\n' "$best_psql"
printf 'factorysim loadgen:         %10.0f rows/s   (batch commit p50 %.0f ms, p99 %.0f ms)\n' "$best_loadgen" "$p50" "$p99"
printf 'ratio loadgen / psql:       %10.2f         (goal >= 0.90, and >= 250000 rows/s)\n' "$(python3 -c "print($best_loadgen / $best_psql)")"
printf 'loadgen --dedupe (staged):  %10.0f rows/s   (%.0f%% of direct: the cost of duplicate-proof writes)\n' \
  "$dedupe" "$(python3 -c "print(100 * $dedupe / $best_loadgen)")"

fi  # SKIP_COPY
[ -n "${SKIP_E2E:-}" ] && exit 0

# --- MQTT end to end ---------------------------------------------------------------------
reset
scenario="${E2E_SCENARIO:-$root/bench/ingest_e2e.yaml}"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
mkdir -p "$work/mosquitto"
cat >"$work/mosquitto/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/mosquitto/
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
EOF
mosquitto -c "$work/mosquitto/mosquitto.conf" >"$work/mosquitto/log" 2>&1 &
pids+=($!)
sleep 0.5
"$bin" db init --db "$db" --scenario "$scenario" >&2
# Readings on energy/production/environmental the scenario publishes (bench/ingest_e2e.yaml:
# 2,000 machines x 900 s x 3); another E2E_SCENARIO names its own.
expected=${E2E_EXPECTED:-5400000}
"$bin" ingest --db "$db" --mqtt-port "$port" --client-id bench-ingest --spool-dir "$work/spool" \
  --status-interval-s 1 2>"$work/ingest.log" &
ingest_pid=$!
pids+=($ingest_pid)
for _ in $(seq 100); do grep -q subscribed "$work/ingest.log" && break; sleep 0.1; done
t0=$(now)
"$bin" run "$scenario" --mqtt-port "$port" --control off --no-progress 2>"$work/run.log"
t_pub=$(now)
published=$(sed -n 's/.*published \([0-9]*\) messages.*/\1/p' "$work/run.log")
# Wait until the ingestor has committed a new row for every published message (its status
# line counts them). Not "received": redeliveries count there too.
stored() { sql -tAc "SELECT (SELECT count(*) FROM energy_readings) + (SELECT count(*) FROM production_data) + (SELECT count(*) FROM environmental_data)"; }
deadline=$(( $(date +%s) + 600 ))
while :; do
  last=$(grep 'new rows' "$work/ingest.log" | tail -1 || true)
  new_rows=$(sed -n 's/.* new rows \([0-9]*\).*/\1/p' <<<"$last")
  queue=$(sed -n 's/.* queue \([0-9]*\).*/\1/p' <<<"$last")
  if [ -n "$new_rows" ] && [ "$new_rows" -ge "${published:-$expected}" ] && [ "$queue" = 0 ]; then break; fi
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 0.2
done
kill -TERM "$ingest_pid"; wait "$ingest_pid" || true
t1=$(now)
got=$(stored)
printf 'MQTT end to end:            %10.0f rows/s   (%s readings stored of %s expected in %.1f s; simulator done after %.1f s; %s messages published)\n' \
  "$(python3 -c "print($got / ($t1 - $t0))")" "$got" "$expected" "$(python3 -c "print($t1 - $t0)")" "$(python3 -c "print($t_pub - $t0)")" "${published:-?}"
# Sustained: the committed rows of each 1 s status line, without the first and last two
# (start-up and drain), as median and lowest second.
python3 - "$work/ingest.log" <<'PY' || true
import re, statistics, sys
rates = []
for line in open(sys.argv[1]):
    m = re.search(r"rows/s energy (\d+) production (\d+) environmental (\d+)", line)
    if m:
        rates.append(sum(int(x) for x in m.groups()))
steady = rates[2:-2]
if steady:
    print("per second (1 s status lines, %d seconds without the first and last two): median %.0f, lowest %.0f, highest %.0f rows/s"
          % (len(steady), statistics.median(steady), min(steady), max(steady)))
PY
grep 'done:' "$work/ingest.log" >&2 || true
if [ "$got" != "$expected" ]; then
  KEEP=1  # keep the logs of a run that lost readings
  echo "ingest_bench: LOST $((expected - got)) readings; logs kept in $work (ingest.log, run.log, mosquitto/log)" >&2
  exit 1
fi
e2e_rate=$(python3 -c "print($got / ($t1 - $t0))")
[ -n "${SKIP_BROKER_ONLY:-}" ] && exit 0

# --- the broker-only reference: the same simulator into `mosquitto_sub -q 1` -------------------
# Same scenario, same broker, same session layout; a QoS 1 subscriber that only counts. Rate:
# readings received from the first publish until the last one arrived.
mosquitto_sub -p "$port" -q 1 -i bench-broker-only -t '#' -v 2>/dev/null |
  awk -v n="$expected" '$1 ~ /\/(energy|production|environmental)$/ { if (++c == n) { print c; fflush(); exit } }' \
  >"$work/sub.count" &
sub_pid=$!
pids+=($sub_pid)
sleep 1
t0=$(now)
"$bin" run "$scenario" --mqtt-port "$port" --control off --no-progress 2>"$work/run-broker-only.log"
wait "$sub_pid" 2>/dev/null || true
t1=$(now)
received=$(cat "$work/sub.count" 2>/dev/null || echo 0)
broker_rate=$(python3 -c "print($received / ($t1 - $t0))")
printf 'broker only (mosquitto_sub -q 1): %10.0f readings/s (%s of %s received in %.1f s)\n' \
  "$broker_rate" "$received" "$expected" "$(python3 -c "print($t1 - $t0)")"
printf 'ratio end to end / broker only:   %10.2f         (goal >= 0.90)\n' \
  "$(python3 -c "print($e2e_rate / $broker_rate)")"
