#!/usr/bin/env bash
# MANTIS narrow rows (issue 11): `factorysim loadgen --narrow` against `psql \copy` of the SAME
# rows into the SAME indexed table (mantis.sensor_data_raw, unique (sensor_id, time)), side
# by side in one run on one private PostgreSQL 15. Goal: loadgen >= 0.9 x psql.
#   bench/narrow_copy_bench.sh [BUILD_DIR] [ROWS]     (defaults: build, 2000000)
# Method: loadgen writes ROWS narrow rows (WORKERS workers, default 2; 10,000-row binary COPY
# transactions) into the empty table and reports rows/s; the rows are exported as text, the
# table truncated, and psql loads the same file with one `\copy` (text format, one
# transaction, one connection). Both start from an empty table with its index; both timings
# include the commit. Repeated REPS times (default 3), alternating; medians are reported.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
rows="${2:-2000000}"
reps="${REPS:-3}"
fs="$build/cli/factorysim"
export FACTORYSIM_PG_DIR="${FACTORYSIM_PG_DIR:-/tmp/factorysim-narrow-bench}"
pg=$(scripts/pg-local.sh start)
trap 'scripts/pg-local.sh destroy >/dev/null 2>&1 || true' EXIT
psql=(/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -d "$pg")
"$fs" db init --db "$pg" --scenario scenarios/demo-plant.yaml --profile enms,mantis \
  --partitions-ahead 0 >/dev/null 2>&1
dump=$(mktemp /tmp/narrow-rows.XXXXXX)
chmod 0644 "$dump"
lg=() ; ps=()
for r in $(seq "$reps"); do
  "${psql[@]}" -c "TRUNCATE mantis.sensor_data_raw"
  "$fs" loadgen --db "$pg" --scenario scenarios/demo-plant.yaml --narrow --rows "$rows" --workers "${WORKERS:-2}" \
    --json "$dump.json" >/dev/null 2>&1
  lg+=("$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows_per_s'])" "$dump.json")")
  "${psql[@]}" -c "\\copy (SELECT time, sensor_id, value FROM mantis.sensor_data_raw) TO '$dump'"
  "${psql[@]}" -c "TRUNCATE mantis.sensor_data_raw"
  "${psql[@]}" -c "CHECKPOINT"
  t0=$(date +%s.%N)
  "${psql[@]}" -c "\\copy mantis.sensor_data_raw (time, sensor_id, value) FROM '$dump'"
  t1=$(date +%s.%N)
  n=$("${psql[@]}" -At -c "SELECT count(*) FROM mantis.sensor_data_raw")
  ps+=("$(python3 -c "print($n / ($t1 - $t0))")")
  echo "run $r: loadgen --narrow ${lg[-1]} rows/s, psql \\copy ${ps[-1]} rows/s ($n rows)"
done
rm -f "$dump" "$dump.json"
python3 - "${lg[@]}" -- "${ps[@]}" <<'PY'
import statistics, sys
a = sys.argv[1:]
i = a.index('--')
lg, ps = [float(x) for x in a[:i]], [float(x) for x in a[i + 1:]]
l, p = statistics.median(lg), statistics.median(ps)
print(f"median: loadgen --narrow {l:,.0f} rows/s, psql \\copy {p:,.0f} rows/s, ratio {l / p:.2f} (goal >= 0.9)")
PY
