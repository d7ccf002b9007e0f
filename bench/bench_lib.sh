# Sourced by the bench/*.sh scripts: a temp work folder removed at exit (KEEP=1 keeps it), the
# children in `pids` killed at exit, and a private PostgreSQL 15 there (scripts/pg-local.sh)
# with enough locks for `db init`'s day partitions; `db` is its conninfo, `sql` runs psql on it.
#   bench_setup NAME      (needs `root` set)
psql_bin=/usr/lib/postgresql/15/bin/psql
now() { date +%s.%N; }
bench_setup() {
  work=$(mktemp -d "/tmp/factorysim-$1.XXXXXX")
  chmod 0755 "$work"
  export FACTORYSIM_PG_DIR="$work/pg"
  pids=()
  trap bench_cleanup EXIT
  db=$("$root/scripts/pg-local.sh" start)
  # db init creates a day partition per table from the scenario's start up to now, in one
  # transaction: an old scenario start needs more locks than the default 64 per transaction.
  sql -c "ALTER SYSTEM SET max_locks_per_transaction = 4096" >/dev/null
  "$root/scripts/pg-local.sh" stop >/dev/null
  db=$("$root/scripts/pg-local.sh" start)
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$root/scripts/pg-local.sh" destroy >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
sql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
