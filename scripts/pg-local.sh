#!/usr/bin/env bash
# A private PostgreSQL 15 for the demo and for trying things by hand, like the tests start:
# data and socket folders under a directory `postgres` can enter (default /tmp/factorysim-pg-local;
# PostgreSQL refuses root, so as root it runs as `postgres`), trust auth on 127.0.0.1 only.
#   scripts/pg-local.sh start [PORT]   starts it (free port if none given; reuses the data) and
#                                      prints its conninfo on stdout
#   scripts/pg-local.sh stop           fast shutdown (the data folder is kept)
#   scripts/pg-local.sh status         prints the conninfo if running, exit 1 if not
#   scripts/pg-local.sh destroy        stops it and removes the folder
# Env: FACTORYSIM_PG_DIR overrides the folder; FACTORYSIM_PG_DB the database (factorysim).
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
dir="${FACTORYSIM_PG_DIR:-/tmp/factorysim-pg-local}"
db="${FACTORYSIM_PG_DB:-factorysim}"
as_pg=(); [ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)

# shellcheck source=free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/free-port.sh"
conninfo() { echo "host=127.0.0.1 port=$(cat "$dir/port") user=postgres dbname=$db"; }
running() { [ -f "$dir/port" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if running; then conninfo; exit 0; fi
    mkdir -p "$dir"; chmod 0755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      (cd /tmp && "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # The tuned settings (deploy/postgresql/factorysim.conf), copied where postgres can read
    # them and included once; later starts pick up a changed copy.
    conf_src="$(cd "$(dirname "$0")/.." && pwd)/deploy/postgresql/factorysim.conf"
    if [ -f "$conf_src" ]; then
      "${as_pg[@]}" tee "$dir/data/factorysim.conf" <"$conf_src" >/dev/null
      grep -q "^include_if_exists 'factorysim.conf'" "$dir/data/postgresql.conf" \
        || echo "include_if_exists 'factorysim.conf'" | "${as_pg[@]}" tee -a "$dir/data/postgresql.conf" >/dev/null
    fi
    port="${2:-}"; chosen=0
    if [ -z "$port" ] && [ -f "$dir/port" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$dir/port")") 2>/dev/null; then
      port=$(cat "$dir/port"); chosen=1  # same address as last time when it is still free
    fi
    [ -n "$port" ] || { port=$(free_port); chosen=1; }
    "${as_pg[@]}" mkdir -p "$dir/sock"
    # A port we chose can still be taken before the server binds it; then a fresh one is tried
    # (a port the caller gave is not changed behind their back).
    for attempt in 1 2 3; do
      echo "$port" | "${as_pg[@]}" tee "$dir/port" >/dev/null
      # A local demo database: durability against power loss is traded for speed (fsync off).
      if (cd /tmp && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/sock -c fsync=off -c full_page_writes=off -c max_wal_size=2GB -c timezone=UTC" \
            start >/dev/null); then
        break
      fi
      if [ "$chosen" -eq 1 ] && [ "$attempt" -lt 3 ] && tail -n 20 "$dir/server.log" | grep -q "could not bind"; then
        echo "pg-local: port $port was taken before PostgreSQL bound it; trying another" >&2
        port=$(free_port); continue
      fi
      echo "pg-local: PostgreSQL did not start; log $dir/server.log:" >&2; tail -n 30 "$dir/server.log" >&2; exit 1
    done
    "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1 \
      || "$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "create database \"$db\"" >/dev/null
    conninfo
    ;;
  stop)
    running && (cd /tmp && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null)
    exit 0
    ;;
  status)
    if running; then conninfo; else exit 1; fi
    ;;
  destroy)
    running && (cd /tmp && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null) || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start [PORT] | stop | status | destroy" >&2; exit 2 ;;
esac
