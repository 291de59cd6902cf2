#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's PostgreSQL tests and benchmarks.
#   scripts/pg-test-cluster.sh start   initdb into $MF_PG_DIR, start on a free loopback port
#   scripts/pg-test-cluster.sh url     print the test URL (role magflow, database magflow_test)
#   scripts/pg-test-cluster.sh stop    stop it and remove the directory
# Runs the server as the `postgres` user when started as root (PostgreSQL refuses root).
set -euo pipefail
DIR=${MF_PG_DIR:-/tmp/magflow-pg-test}
PASSWORD=magflow-test-pw

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$d" ]; then
    echo "pg-test-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$d"
}

# PostgreSQL refuses to run as root: as root, the server runs as `postgres` (created if the
# package did not).
ensure_owner() {
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ -f "$DIR/url" ] && as_owner "$(bindir)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      exit 0
    fi
    BIN=$(bindir)
    ensure_owner
    rm -rf "$DIR"
    mkdir -p "$DIR/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres "$DIR"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $PORT -k $DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60" start >/dev/null
    as_owner "$BIN/psql" -q -h "$DIR/sock" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE ROLE magflow LOGIN CREATEDB CREATEROLE PASSWORD '$PASSWORD';
CREATE DATABASE magflow_test OWNER magflow;
SQL
    echo "postgresql://magflow:$PASSWORD@127.0.0.1:$PORT/magflow_test" >"$DIR/url"
    ;;
  url)
    cat "$DIR/url"
    ;;
  stop)
    if [ -d "$DIR/data" ]; then
      as_owner "$(bindir)/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|url|stop" >&2
    exit 2
    ;;
esac
