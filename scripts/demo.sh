#!/usr/bin/env bash
# The first command (docs/quickstart.md): installs what is missing, builds, then runs the whole
# pipeline on a scenario: a private mosquitto (config, persistence, log under .run/), a private
# PostgreSQL 15 (scripts/pg-local.sh, data under /tmp where the postgres user can reach it),
# `factorysim db init`, `factorysim ingest`; optionally a backfill of the last N hours first
# (then `db maintain` fills the rollups); then `factorysim run` in real time until Ctrl-C,
# with `db maintain --every 60` keeping the rollups fresh.
#   scripts/demo.sh [SCENARIO] [demo options] [extra `factorysim run` options]
# Demo options (anywhere on the line):
#   --backfill-hours N   first publish the last N hours of history (as fast as the pipeline
#                        takes it), wait until it is stored, refresh the rollups over it
#   --no-live            stop after the backfill instead of going on in real time
#   --maintain-every S   seconds between `db maintain` runs while live (default 60, 0 = none)
#   --stop-db            stop the private PostgreSQL at the end (default: it keeps running, so
#                        that the printed psql commands work; stop it with scripts/pg-local.sh stop)
# Every other option goes to both `factorysim run`s (e.g. --replicas 10, --seed 7).
# Env: FACTORYSIM_DB=CONNINFO uses your PostgreSQL/TimescaleDB instead of the private one;
#      FACTORYSIM_NO_DB=1 runs the simulator and broker only;
#      FACTORYSIM_BIN=PATH uses that factorysim binary and skips install and build;
#      FACTORYSIM_RUN_DIR=DIR keeps the broker, spool and logs there (default .run/);
#      FACTORYSIM_PG_DIR=DIR the private PostgreSQL's folder (scripts/pg-local.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scenario=scenarios/demo-plant.yaml
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then scenario="$1"; shift; fi
backfill_hours=0; live=1; maintain_every=60; stop_db=0; run_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backfill-hours) backfill_hours="${2:?--backfill-hours needs a number of hours}"; shift 2 ;;
    --no-live) live=0; shift ;;
    --maintain-every) maintain_every="${2:?--maintain-every needs seconds}"; shift 2 ;;
    --stop-db) stop_db=1; shift ;;
    *) run_args+=("$1"); shift ;;
  esac
done
case "$backfill_hours" in ''|*[!0-9]*) echo "demo: --backfill-hours must be a whole number of hours" >&2; exit 2 ;; esac
case "$maintain_every" in ''|*[!0-9]*) echo "demo: --maintain-every must be a whole number of seconds" >&2; exit 2 ;; esac
if [ "$live" -eq 0 ] && [ "$backfill_hours" -eq 0 ]; then
  echo "demo: --no-live needs --backfill-hours N (else there is nothing to run)" >&2; exit 2
fi

if [ -n "${FACTORYSIM_BIN:-}" ]; then
  bin="$FACTORYSIM_BIN"
else
  scripts/setup.sh build
  bin="$root/build/cli/factorysim"
fi
run_dir="${FACTORYSIM_RUN_DIR:-$root/.run}"; mkdir -p "$run_dir"

# shellcheck source=free-port.sh
source "$root/scripts/free-port.sh"

pids=()
db=""
cleanup() {
  # Newest first: the ingestor flushes while the broker is still there.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true
  done
  if [ -n "${pg_started:-}" ]; then
    if [ "$stop_db" -eq 1 ]; then
      scripts/pg-local.sh stop || true
      echo "demo: stopped the private PostgreSQL (its data stays in ${FACTORYSIM_PG_DIR:-/tmp/factorysim-pg-local})" >&2
    else
      echo "demo: the private PostgreSQL keeps running for your queries: psql \"$db\"" >&2
      local env_prefix=""; [ -z "${FACTORYSIM_PG_DIR:-}" ] || env_prefix="FACTORYSIM_PG_DIR=$FACTORYSIM_PG_DIR "
      echo "demo: stop it with:  ${env_prefix}scripts/pg-local.sh stop   (remove its data: ${env_prefix}scripts/pg-local.sh destroy)" >&2
    fi
  fi
}
trap cleanup EXIT

# A private broker: its config, persistence and log stay under the run folder.
start_broker() {
  mqtt_port=$(free_port)
  mkdir -p "$run_dir/mosquitto"; : > "$run_dir/mosquitto/mosquitto.log"  # this start's log only
  cat > "$run_dir/mosquitto/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $run_dir/mosquitto/
log_dest file $run_dir/mosquitto/mosquitto.log
max_queued_messages 1000000
user root
CONF
  # Each helper in a session of its own: Ctrl-C goes to the terminal's whole process group, and
  # mosquitto would quit at once (and the ingestor flush and exit) while the simulator still
  # publishes its final statuses. cleanup stops them after the simulator is done.
  setsid mosquitto -c "$run_dir/mosquitto/mosquitto.conf" &
  broker_pid=$!
  for _ in $(seq 100); do
    # Up means: still running, past its bind (it logs "running" then) and accepting. A port
    # that merely accepts could belong to whoever took it first.
    kill -0 "$broker_pid" 2>/dev/null || return 1
    if grep -q "mosquitto version .* running" "$run_dir/mosquitto/mosquitto.log" 2>/dev/null &&
       (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}
# Another program can still take the port between free_port and mosquitto's bind; a broker
# that died on "Address already in use" is started again on a fresh port. Any other failure
# ends the demo with the broker's log.
for attempt in 1 2 3; do
  if start_broker; then pids+=("$broker_pid"); break; fi
  kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true
  if [ "$attempt" -lt 3 ] && grep -q "Address already in use" "$run_dir/mosquitto/mosquitto.log" 2>/dev/null; then
    echo "demo: port $mqtt_port was taken before mosquitto bound it; trying another" >&2
    continue
  fi
  echo "demo: mosquitto did not come up on 127.0.0.1:$mqtt_port; its log:" >&2
  tail -n 20 "$run_dir/mosquitto/mosquitto.log" >&2 2>/dev/null || true
  exit 1
done
echo "demo: mosquitto on 127.0.0.1:$mqtt_port (log: $run_dir/mosquitto/mosquitto.log)" >&2
echo "demo: watch it with:  mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'factory/#' -v" >&2

if [ -z "${FACTORYSIM_NO_DB:-}" ]; then
  db="${FACTORYSIM_DB:-}"
  if [ -z "$db" ]; then
    db=$(scripts/pg-local.sh start); pg_started=1
  fi
  # db init must know the machines `run --replicas N` will publish.
  init_args=()
  for ((i = 0; i < ${#run_args[@]}; i++)); do
    case "${run_args[i]}" in
      --replicas) init_args+=(--replicas "${run_args[i + 1]:-}") ;;
      --replicas=*) init_args+=("${run_args[i]}") ;;
    esac
  done
  "$bin" db init --db "$db" --scenario "$scenario" "${init_args[@]}"
  setsid "$bin" ingest --db "$db" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" \
      --spool-dir "$run_dir/spool" --status-interval-s 30 2>"$run_dir/ingest.log" &
  pids+=($!)
  # Messages published before the ingestor's first subscription would not be queued for it.
  for _ in $(seq 300); do
    grep -q '^ingest: subscribed' "$run_dir/ingest.log" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "demo: the ingestor exited:" >&2; cat "$run_dir/ingest.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: PostgreSQL: $db  (ingest log: $run_dir/ingest.log)" >&2
fi

psql_hint() {
  [ -n "$db" ] || return 0
  cat >&2 <<HINT
demo: what to look at (docs/quickstart.md explains each):
  psql "$db" -c "select machine_name, operating_mode, current_power_kw, is_stale from v_machine_status"
  psql "$db" -c "select factory_name, local_date, energy_kwh, machines_reporting from v_factory_energy_today"
  psql "$db" -c "select bucket, machine_id, avg_power_kw, total_energy_kwh from energy_readings_15min order by bucket desc limit 12"
  psql "$db" -c "select machine_name, total_energy_kwh, peak_demand_kw, total_cost, currency, total_co2_kg from calculate_all_kpis('c0000000-0000-0000-0000-000000000001', now() - interval '24 hours', now())"
  psql "$db" -c "select machine_name, detected_at, anomaly_type, severity from v_active_anomalies"
HINT
}

if [ "$backfill_hours" -gt 0 ]; then
  from=$(date -u -d "-$backfill_hours hours" +%Y-%m-%dT%H:%M:00Z)
  to=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "demo: backfilling $from .. $to" >&2
  "$bin" run "$scenario" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" --mode backfill \
      --from "$from" --to "$to" --control off --summary-json "$run_dir/backfill-summary.json" \
      "${run_args[@]}"
  if [ -n "$db" ]; then
    # The broker has every message; wait until the ingestor has stored them all.
    published() { sed -n "/\"published\"/,/}/s/.*\"$1\": \([0-9]*\).*/\1/p" "$run_dir/backfill-summary.json"; }
    want="$(published energy) $(published production) $(published environmental)"
    range="time > '$from' and time <= '$to'"
    for i in $(seq 600); do
      have=$(psql "$db" -X -At -F ' ' -c "select (select count(*) from energy_readings where $range), (select count(*) from production_data where $range), (select count(*) from environmental_data where $range)")
      read -r e p v <<<"$have"; read -r we wp wv <<<"$want"
      if [ "$e" -ge "$we" ] && [ "$p" -ge "$wp" ] && [ "$v" -ge "$wv" ]; then break; fi
      [ $((i % 10)) -eq 0 ] && echo "demo: stored $e of $we energy readings ..." >&2
      sleep 0.5
    done
    if [ "$e" -lt "$we" ] || [ "$p" -lt "$wp" ] || [ "$v" -lt "$wv" ]; then
      echo "demo: warning: only $e/$we energy, $p/$wp production, $v/$wv environmental readings stored after 5 minutes; see $run_dir/ingest.log" >&2
    else
      echo "demo: stored $e energy, $p production, $v environmental readings of the backfill" >&2
    fi
    # The 1min/15min/1hour/1day rollups over the whole backfill (and the hour before).
    "$bin" db maintain --db "$db" --refresh-hours $((backfill_hours + 1))
  fi
  psql_hint
fi

if [ "$live" -eq 0 ]; then exit 0; fi

if [ -n "$db" ] && [ "$maintain_every" -gt 0 ]; then
  setsid "$bin" db maintain --db "$db" --every "$maintain_every" --refresh-hours 1 \
      2>>"$run_dir/maintain.log" &
  pids+=($!)
  echo "demo: db maintain every ${maintain_every} s refreshes the rollups (log: $run_dir/maintain.log)" >&2
fi
[ "$backfill_hours" -gt 0 ] || psql_hint
echo "demo: control endpoint: curl -s http://127.0.0.1:8089/status  (docs/control-api.md); Ctrl-C stops" >&2

# In the foreground: Ctrl-C reaches the simulator once, it publishes every machine's final
# status, flushes and exits 0; then cleanup stops db maintain, the ingestor (SIGTERM flushes
# its batches) and the broker; the database keeps running unless --stop-db.
"$bin" run "$scenario" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" "${run_args[@]}"
