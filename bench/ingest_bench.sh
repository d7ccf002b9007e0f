#!/usr/bin/env bash
# Insert benchmark of issue 3, on a private PostgreSQL 15 (scripts/pg-local.sh in a temp dir):
#  1. `psql \copy energy_readings (...) FROM file WITH (FORMAT binary)` of N rows against
#     `factorysim loadgen` writing the same N rows into the same indexed table (best of 2 each,
#     table truncated and checkpointed before every run), and their ratio;
#  2. `loadgen --dedupe` (staging table + INSERT ... ON CONFLICT DO NOTHING, what ingest does):
#     the price of duplicate-proofing;
#  3. MQTT end to end and 4. its broker-only reference, through `factorysim bench
#     --with-reference` (docs/bench.md), which does what this script did by hand: the report
#     (JSON) stays in the temp dir with KEEP=1.
#   bench/ingest_bench.sh [BUILD_DIR]        (default: build)
# Env: E2E_* (below, part 3), DB_INIT_ARGS (extra `db init` options, e.g.
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

# --- MQTT end to end and the broker-only reference: `factorysim bench` (docs/bench.md) -------
# The same load twice, back to back: broker only first (`mosquitto_sub -q 1` counting every
# seq), then simulator -> mosquitto -> ingest -> this PostgreSQL; per second rates, CPU and
# memory per process, the SQL check of every (machine, stream), and the ratio. Default load:
# closed loop (`--rate max`, as fast as the simulator's window of 10,000 lets messages through)
# for 60 s of 2,000 compressors. E2E_SCENARIO, E2E_MACHINES, E2E_RATE (a number: open loop),
# E2E_DURATION, E2E_ARGS (more bench options); SKIP_BROKER_ONLY=1 for the end-to-end run alone.
reset
e2e_json="$work/e2e.json"
reference=--with-reference
[ -n "${SKIP_BROKER_ONLY:-}" ] && reference=
status=0
"$bin" bench "${E2E_SCENARIO:-bench.yaml}" --db "$db" --machines "${E2E_MACHINES:-2000}" \
  --rate "${E2E_RATE:-max}" --duration "${E2E_DURATION:-60}" --warmup 5 --qos 1 $reference \
  --no-progress --json "$e2e_json" ${E2E_ARGS:-} || status=$?
python3 - "$e2e_json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
def f(v, fmt="%.0f"):
    return fmt % v if isinstance(v, (int, float)) else "-"
t = r["throughput"]
print("MQTT end to end:                  %10s rows/s committed (published %s msg/s, received %s msg/s; lost %s, SQL check %s)"
      % (f(t["committed_rows_per_s"]), f(t["published_per_s"]), f(t["received_per_s"]),
         f(r["accounting"].get("lost")), "agrees" if r["sql_check"].get("agrees") else "DISAGREES"))
if "reference" in r:
    print("broker only (mosquitto_sub -q 1): %10s msg/s received" % f(r["reference"]["throughput"]["received_per_s"]))
    print("ratio end to end / broker only:   %10s         (goal >= 0.90)"
          % f(r["ratio_to_reference"]["committed_rows_per_s"], "%.2f"))
PY
exit "$status"
