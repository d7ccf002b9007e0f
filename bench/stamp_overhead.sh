#!/usr/bin/env bash
# Issue 9 goal: the in-band timing (run --stamp-send-time, the ingestor's latency histograms)
# costs at most 5 % of end-to-end throughput. The same MQTT end to end as ingest_bench.sh
# (bench/ingest_e2e.yaml, QoS 1, mosquitto -> factorysim ingest -> PostgreSQL), run
# alternately without and with --stamp-send-time (ABAB..., so that drift of a shared machine
# hits both), rows/s from the first publish to the last commit; best and median of each.
# The seq accounting runs in both (it is always on in the ingestor).
#   bench/stamp_overhead.sh [BUILD_DIR]      (default: build)
# Env: ROUNDS (default 3 pairs), TO (end of the backfill, default 2025-06-02T08:05:00Z:
# 2,000 machines x 300 s x 3 = 1.8 M readings), KEEP=1 (keep the temp dir).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin="$build/cli/factorysim"
rounds=${ROUNDS:-3}
to=${TO:-2025-06-02T08:05:00Z}
scenario="$root/bench/ingest_e2e.yaml"
psql_bin=/usr/lib/postgresql/15/bin/psql
[ -x "$bin" ] || { echo "stamp_overhead: build $bin first" >&2; exit 2; }

work=$(mktemp -d /tmp/factorysim-stamp-bench.XXXXXX)
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
sql -c "ALTER SYSTEM SET max_locks_per_transaction = 4096" >/dev/null
"$root/scripts/pg-local.sh" stop >/dev/null
db=$("$root/scripts/pg-local.sh" start)
"$bin" db init --db "$db" --scenario "$scenario" >&2
now() { date +%s.%N; }

port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
mkdir -p "$work/mosquitto"
cat >"$work/mosquitto/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
CONF
mosquitto -c "$work/mosquitto/mosquitto.conf" >"$work/mosquitto/log" 2>&1 &
pids+=($!)
sleep 0.5

stored() { sql -tAc "SELECT (SELECT count(*) FROM energy_readings) + (SELECT count(*) FROM production_data) + (SELECT count(*) FROM environmental_data)"; }

one_run() {  # one_run NAME [run options]: prints rows/s
  local name=$1; shift
  sql -c "TRUNCATE energy_readings, production_data, environmental_data" -c "CHECKPOINT" >/dev/null
  "$bin" ingest --db "$db" --mqtt-port "$port" --client-id "bench-$name" --spool-dir "$work/spool-$name" \
    --status-interval-s 1 --summary-json "$work/$name.json" 2>"$work/$name.ingest.log" &
  local ingest_pid=$!
  pids+=($ingest_pid)
  for _ in $(seq 100); do grep -q subscribed "$work/$name.ingest.log" && break; sleep 0.1; done
  local t0 t1 published
  t0=$(now)
  "$bin" run "$scenario" --mqtt-port "$port" --control off --no-progress --to "$to" "$@" 2>"$work/$name.run.log"
  published=$(sed -n 's/.*published \([0-9]*\) messages.*/\1/p' "$work/$name.run.log")
  local deadline=$(( $(date +%s) + 600 ))
  while :; do
    local last new_rows queue
    last=$(grep 'new rows' "$work/$name.ingest.log" | tail -1 || true)
    new_rows=$(sed -n 's/.* new rows \([0-9]*\).*/\1/p' <<<"$last")
    queue=$(sed -n 's/.* queue \([0-9]*\).*/\1/p' <<<"$last")
    if [ -n "$new_rows" ] && [ "$new_rows" -ge "$published" ] && [ "$queue" = 0 ]; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.2
  done
  t1=$(now)
  kill -TERM "$ingest_pid"; wait "$ingest_pid" || true
  local got; got=$(stored)
  python3 -c "print($got / ($t1 - $t0))"
  echo "stamp_overhead: $name: $got rows in $(python3 -c "print(round($t1 - $t0, 1))") s ($published messages published)" >&2
}

off=(); on=()
for r in $(seq "$rounds"); do
  off+=("$(one_run "off$r")")
  on+=("$(one_run "on$r" --stamp-send-time)")
  echo "stamp_overhead: round $r: without $(printf %.0f "${off[-1]}") rows/s, with $(printf %.0f "${on[-1]}") rows/s" >&2
done
python3 - "$work/on$rounds.json" "${off[*]}" "${on[*]}" <<'PY'
import json, statistics, sys
off = [float(x) for x in sys.argv[2].split()]
on = [float(x) for x in sys.argv[3].split()]
s = json.load(open(sys.argv[1]))
l = s["latency"]
print("without --stamp-send-time: best %8.0f rows/s, median %8.0f  (%s)" % (max(off), statistics.median(off), ", ".join("%.0f" % x for x in off)))
print("with    --stamp-send-time: best %8.0f rows/s, median %8.0f  (%s)" % (max(on), statistics.median(on), ", ".join("%.0f" % x for x in on)))
print("ratio with / without:      best %8.3f, median %8.3f  (goal >= 0.95)" % (max(on) / max(off), statistics.median(on) / statistics.median(off)))
print("last stamped run: %d stamped, lost %d, duplicates %d; publish->commit p50 %.0f ms p99 %.0f ms max %.0f ms; send delay p99 %.0f ms"
      % (s["stamped"], s["lost"], s["duplicates"], l["publish_to_committed_ms"]["p50"], l["publish_to_committed_ms"]["p99"],
         l["publish_to_committed_ms"]["max"], l["send_delay_ms"]["p99"]))
PY
