#!/usr/bin/env bash
# Run a command with MF_TEST_POSTGRES_URL set: as given, or (when it is unset and the server
# binaries are installed) a throwaway cluster started for the command and removed after it.
# Without either, the command runs as is (the PostgreSQL tests then skip, or fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${MF_TEST_POSTGRES_URL:-}" ] || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exec "$@"
fi
MF_PG_DIR=$(mktemp -d /tmp/magflow-pg.XXXXXX)
export MF_PG_DIR
trap 'scripts/pg-test-cluster.sh stop' EXIT
scripts/pg-test-cluster.sh start
MF_TEST_POSTGRES_URL=$(scripts/pg-test-cluster.sh url)
export MF_TEST_POSTGRES_URL
"$@"
