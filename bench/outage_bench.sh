#!/usr/bin/env bash
# Outage catch-up benchmark (issue 12): how long the ingestor takes to catch up after a database
# outage while the plant keeps publishing at half of what the pipeline can carry.
#  1. capacity: `factorysim run` backfills CAP_SIM_S simulated seconds of bench/ingest_e2e.yaml
#     (2,000 compressors at 1 s, QoS 1) through mosquitto and `factorysim ingest` into a private
#     PostgreSQL 15; rows/s from the first publish to the last commit = the capacity C;
#  2. the same simulator in accelerated mode at the speed that makes LOAD (default 0.5) x C
#     readings per second; after WARMUP_S the database is stopped (`pg_ctl stop -m fast`) for
#     OUTAGE_S seconds (default 300: five minutes) while the ingestor spools and keeps
#     acknowledging; then it is started again. Catch-up time: from the database's return until
#     the spool is empty and the ingestor is committing at the live rate again (two status
#     lines in a row with no spool and an empty queue), with the load still running.
# Reports C, the load, the rows spooled during the outage, the catch-up time and its ratio to
# the outage, and checks that every published reading is stored exactly once.
#   bench/outage_bench.sh [BUILD_DIR]        (default: build)
# Env: OUTAGE_S (300), WARMUP_S (60), LOAD (0.5), CAP_SIM_S (300), MAX_CATCHUP_S (1800), KEEP=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin="$build/cli/factorysim"
outage_s=${OUTAGE_S:-300}
warmup_s=${WARMUP_S:-60}
load=${LOAD:-0.5}
cap_sim_s=${CAP_SIM_S:-300}
max_catchup_s=${MAX_CATCHUP_S:-1800}
scenario="$root/bench/ingest_e2e.yaml"
machines=2000  # bench/ingest_e2e.yaml: replicas, one reading per second each on 3 streams
[ -x "$bin" ] || { echo "outage_bench: build $bin first" >&2; exit 2; }

. "$root/bench/bench_lib.sh"
bench_setup outage-bench
log() { echo "outage_bench: $*" >&2; }
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
stored() { sql -tAc "SELECT (SELECT count(*) FROM energy_readings) + (SELECT count(*) FROM production_data) + (SELECT count(*) FROM environmental_data)"; }

start_ingest() {  # start_ingest LOG
  "$bin" ingest --db "$db" --mqtt-port "$port" --client-id outage-bench --spool-dir "$work/spool" \
    --spool-max-mb 16384 --status-interval-s 1 2>"$1" &
  ingest_pid=$!
  pids+=($ingest_pid)
  for _ in $(seq 100); do grep -q subscribed "$1" && break; sleep 0.1; done
}
field() { sed -n "s/.* $1 \\([0-9]*\\).*/\\1/p" <<<"$2"; }
wait_stored() {  # wait_stored LOG COUNT: until the ingestor counts COUNT new rows, queue empty
  local deadline=$(( $(date +%s) + 900 )) last
  while :; do
    last=$(grep 'new rows' "$1" | tail -1 || true)
    if [ -n "$last" ] && [ "$(field 'new rows' "$last")" -ge "$2" ] && [ "$(field queue "$last")" = 0 ]; then return 0; fi
    [ "$(date +%s)" -lt "$deadline" ] || { log "timed out waiting for $2 rows"; return 1; }
    sleep 0.2
  done
}

# --- 1. capacity ---------------------------------------------------------------------------
start_ingest "$work/ingest-capacity.log"
from=2025-06-02T08:00:00Z
to=$(date -u -d "$from + $cap_sim_s seconds" +%Y-%m-%dT%H:%M:%SZ)
t0=$(now)
"$bin" run "$scenario" --mqtt-port "$port" --control off --no-progress --from "$from" --to "$to" 2>"$work/run-capacity.log"
cap_expected=$((machines * 3 * cap_sim_s))
wait_stored "$work/ingest-capacity.log" "$cap_expected"
t1=$(now)
capacity=$(python3 -c "print($cap_expected / ($t1 - $t0))")
kill -TERM "$ingest_pid"; wait "$ingest_pid" || true
log "capacity: $(printf %.0f "$capacity") rows/s ($cap_expected readings in $(python3 -c "print(round($t1 - $t0, 1))") s)"

# --- 2. load with an outage ----------------------------------------------------------------
sql -c "TRUNCATE energy_readings, production_data, environmental_data" -c "CHECKPOINT" >/dev/null
rate=$(python3 -c "print($load * $capacity)")
speed=$(python3 -c "print(round($rate / ($machines * 3), 3))")
run_wall_s=$((warmup_s + outage_s + max_catchup_s))
from=2025-06-03T08:00:00Z
to=$(date -u -d "$from + $(python3 -c "print(int($run_wall_s * $speed))") seconds" +%Y-%m-%dT%H:%M:%SZ)
log "load: $(printf %.0f "$rate") readings/s (speed $speed), warm-up ${warmup_s} s, outage ${outage_s} s"
start_ingest "$work/ingest.log"
"$bin" run "$scenario" --mqtt-port "$port" --control off --no-progress --mode accelerated \
  --speed "$speed" --from "$from" --to "$to" --summary-json "$work/run.json" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
sleep "$warmup_s"
"$root/scripts/pg-local.sh" stop
t_down=$(now)
log "database stopped"
sleep "$outage_s"
db=$("$root/scripts/pg-local.sh" start)
t_up=$(now)
spool_peak_kib=$(grep -o 'spool [0-9]* batches/[0-9]* KiB' "$work/ingest.log" | sed 's/.*batches.\([0-9]*\) KiB/\1/' | sort -n | tail -1)
log "database back after $(python3 -c "print(round($t_up - $t_down, 1))") s; spool peak ${spool_peak_kib:-0} KiB"
# Caught up: two status lines in a row, written after the database came back, with the
# database up, nothing in the spool and nothing queued.
t_caught=""
deadline=$(( $(date +%s) + max_catchup_s ))
lines_before=$(wc -l <"$work/ingest.log")
while [ "$(date +%s)" -lt "$deadline" ]; do
  ok=$(tail -n +"$((lines_before + 1))" "$work/ingest.log" | grep 'new rows' | tail -2 |
       grep -c 'queue 0 .* spool 0 batches/0 KiB db up' || true)
  if [ "$ok" = 2 ]; then t_caught=$(now); break; fi
  sleep 0.5
done
kill -INT "$run_pid" 2>/dev/null || true
wait "$run_pid" || true
# Let the last acknowledged messages land, then stop the ingestor.
sleep 5
kill -TERM "$ingest_pid"; wait "$ingest_pid" || true
got=$(stored)
published=$(python3 -c "import json; p=json.load(open('$work/run.json'))['published']; print(sum(p.get(k, 0) for k in ('energy', 'production', 'environmental')))" 2>/dev/null || echo '?')
# Nothing lost or doubled inside what was stored: per machine, energy rows = seq range.
holes=$(sql -tAc "SELECT coalesce(sum(max_seq - min_seq + 1 - n), 0) FROM (SELECT machine_id, min(seq) AS min_seq, max(seq) AS max_seq, count(*) AS n FROM energy_readings GROUP BY machine_id) s")
dups=$(sql -tAc "SELECT count(*) - count(DISTINCT (machine_id, seq)) FROM energy_readings")
if [ -n "$t_caught" ]; then
  catchup=$(python3 -c "print($t_caught - $t_up)")
  outage=$(python3 -c "print($t_up - $t_down)")
  printf 'outage catch-up: capacity %.0f rows/s, load %.0f readings/s (%.0f%%), outage %.0f s: caught up %.1f s after the database returned (%.2f x the outage); spool peak %s KiB\n' \
    "$capacity" "$rate" "$(python3 -c "print(100 * $load)")" "$outage" "$catchup" \
    "$(python3 -c "print($catchup / $outage)")" "${spool_peak_kib:-0}"
else
  KEEP=1
  echo "outage_bench: NOT caught up within $max_catchup_s s; logs kept in $work" >&2
fi
echo "stored $got readings of $published published; energy rows missing inside each machine's seq range: $holes; duplicated: $dups"
grep 'done:' "$work/ingest.log" || true
[ -n "$t_caught" ] && [ "$holes" = 0 ] && [ "$dups" = 0 ]
