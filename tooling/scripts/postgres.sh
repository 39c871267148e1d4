#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of @proto/storage-postgres.
#
#   bash tooling/scripts/postgres.sh install   # the Debian package, when no PostgreSQL is installed
#   bash tooling/scripts/postgres.sh start     # initdb (first time) + start; prints the URL
#   bash tooling/scripts/postgres.sh env       # prints `export PROTO_POSTGRES_URL=...`
#   bash tooling/scripts/postgres.sh kill      # immediate shutdown by PID (SIGQUIT: a crash)
#   bash tooling/scripts/postgres.sh stop      # fast shutdown by PID, then removes the cluster
#
# The server listens on 127.0.0.1 only, on a free port, with trust authentication for the
# `postgres` user (tests only: never expose it). Its state lives in $PROTO_POSTGRES_STATE
# (default <repo>/.tmp/postgres, git-ignored): `url`, `pid`, `port`, `data` (the cluster, under
# /tmp so that the postgres user can reach it) and `log`. `start` after `kill` starts the same
# cluster again on the same port (crash recovery), so a test can kill the server and bring it
# back. PostgreSQL refuses to run as root: as root, every server command runs as the
# `postgres` user (runuser); as anyone else, as that user.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
state="${PROTO_POSTGRES_STATE:-$repo/.tmp/postgres}"

say() { echo "[postgres] $*" >&2; }

bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

install_server() {
  if bindir >/dev/null; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL is not installed and this user cannot install it: run 'sudo apt-get install -y postgresql' (or set PROTO_POSTGRES_URL to a server of your own)"
    exit 3
  fi
  local started=$SECONDS
  say "installing the Debian package postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # The package would create and start a cluster of its own on port 5432: the tests need none.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold postgresql >&2
  say "installed in $((SECONDS - started)) s"
  bindir >/dev/null || { say "the postgresql package installed no initdb"; exit 3; }
}

# Runs a command as the user that owns the cluster.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() {
  [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null
}

free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

start() {
  install_server
  local bin
  bin="$(bindir)"
  mkdir -p "$state"
  if running; then cat "$state/url"; return 0; fi
  local data port
  if [ -f "$state/data" ] && [ -d "$(cat "$state/data")/base" ]; then
    data="$(cat "$state/data")"
    port="$(cat "$state/port")"
  else
    data="$(mktemp -d /tmp/proto-postgres.XXXXXX)/data"
    mkdir -p "$data"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$(dirname "$data")"; fi
    as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
      as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$state/initdb.log" 2>&1 ||
      { cat "$state/initdb.log" >&2; exit 4; }
    port="$(free_port)"
    echo "$data" >"$state/data"
    echo "$port" >"$state/port"
  fi
  local log
  log="$(dirname "$data")/server.log"
  # fsync and synchronous_commit stay on: the tests check durability across crashes.
  as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $(dirname "$data") -c max_connections=300" \
    start >&2 || { cat "$log" >&2; exit 5; }
  head -1 "$data/postmaster.pid" >"$state/pid"
  echo "$log" >"$state/log"
  echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$state/url"
  cat "$state/url"
}

stop_by_pid() {
  local signal="$1" pid
  pid="$(cat "$state/pid")"
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "server $pid did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  install) install_server ;;
  start) start ;;
  env) echo "export PROTO_POSTGRES_URL=$(start)" ;;
  kill)
    # Immediate shutdown: the postmaster kills its backends without a checkpoint, like a crash.
    if running; then stop_by_pid QUIT; fi
    ;;
  stop)
    if running; then stop_by_pid INT; fi
    if [ -f "$state/data" ]; then rm -rf "$(dirname "$(cat "$state/data")")"; fi
    rm -rf "$state"
    ;;
  *)
    echo "usage: bash tooling/scripts/postgres.sh install|start|env|kill|stop" >&2
    exit 2
    ;;
esac
