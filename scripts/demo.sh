#!/usr/bin/env bash
# The first command: installs what is missing, builds, then runs the whole pipeline on the
# embedded default until Ctrl-C: a private mosquitto (config, persistence, log under .run/), a
# private PostgreSQL 15 (scripts/pg-local.sh, data under /tmp where the postgres user can
# reach it), `factorysim db init`, `factorysim ingest`, and `factorysim run` on the scenario in
# real time.
#   scripts/demo.sh [SCENARIO] [extra `factorysim run` options]
# Env: FACTORYSIM_DB=CONNINFO uses your PostgreSQL/TimescaleDB instead of the private one;
#      FACTORYSIM_NO_DB=1 runs the simulator and broker only.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
scripts/setup.sh build
scenario="${1:-scenarios/demo-plant.yaml}"; shift || true
bin="$root/build/cli/factorysim"
run_dir="$root/.run"; mkdir -p "$run_dir"

free_port() { local p; while :; do p=$((20000 + RANDOM % 40000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }; done; }

pids=()
cleanup() {
  # Newest first: the ingestor flushes while the broker is still there.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true
  done
  if [ -n "${pg_started:-}" ]; then scripts/pg-local.sh stop || true; fi
}
trap cleanup EXIT

# A private broker: its config, persistence and log stay under .run/mosquitto.
mqtt_port=$(free_port)
mkdir -p "$run_dir/mosquitto"
cat > "$run_dir/mosquitto/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $run_dir/mosquitto/
log_dest file $run_dir/mosquitto/mosquitto.log
max_queued_messages 1000000
user root
CONF
# In a session of its own: Ctrl-C goes to the terminal's whole process group, and mosquitto
# would quit at once, while the simulator still publishes its final statuses. cleanup stops
# it after the simulator and the ingestor are done.
setsid mosquitto -c "$run_dir/mosquitto/mosquitto.conf" &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break; sleep 0.1
done
echo "demo: mosquitto on 127.0.0.1:$mqtt_port (log: $run_dir/mosquitto/mosquitto.log)" >&2
echo "demo: watch it with:  mosquitto_sub -h 127.0.0.1 -p $mqtt_port -t 'factory/#' -v" >&2

if [ -z "${FACTORYSIM_NO_DB:-}" ]; then
  db="${FACTORYSIM_DB:-}"
  if [ -z "$db" ]; then
    db=$(scripts/pg-local.sh start); pg_started=1
  fi
  "$bin" db init --db "$db" --scenario "$scenario"
  "$bin" ingest --db "$db" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" \
      --spool-dir "$run_dir/spool" --status-interval-s 30 2>>"$run_dir/ingest.log" &
  pids+=($!)
  echo "demo: PostgreSQL: $db  (ingest log: $run_dir/ingest.log)" >&2
  echo "demo: watch rows arrive with:  psql \"$db\" -c 'select machine_id, count(*), max(time) from energy_readings group by 1'" >&2
fi
echo "demo: control endpoint: curl -s http://127.0.0.1:8089/status  (docs/control-api.md); Ctrl-C stops" >&2

# In the foreground: Ctrl-C reaches the simulator once, it publishes every machine's final
# status, flushes and exits 0; then cleanup stops the ingestor (SIGTERM flushes its batches),
# the broker and the database.
"$bin" run "$scenario" --mqtt-host 127.0.0.1 --mqtt-port "$mqtt_port" "$@"
