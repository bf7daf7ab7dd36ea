#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the storage tests and prints its URL.
# Installs Debian's postgresql package when no server binaries are present.
# Usage: eval "$(bash .ci/postgres.sh)"   -> exports PORTAL_TEST_POSTGRES_URL and PG_DATA_DIR
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "installing postgresql from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

port=${PG_PORT:-55432}
data=$(mktemp -d /tmp/portal-pg.XXXXXX)
chown postgres:postgres "$data" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$bindir/initdb" -D "$data/db" -U portal --auth=trust -E UTF8 >&2
as_pg "$bindir/pg_ctl" -D "$data/db" -l "$data/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2
echo "export PORTAL_TEST_POSTGRES_URL=postgres://portal@127.0.0.1:$port/postgres"
echo "export PG_DATA_DIR=$data/db PG_BIN_DIR=$bindir"
