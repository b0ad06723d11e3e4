#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (Debian's postgresql package; nothing is installed here).
#
#   scripts/postgres-scratch.sh start DIR PORT   # initdb into DIR if it is empty, start, wait until ready
#   scripts/postgres-scratch.sh stop DIR         # stop it (fast shutdown)
#
# Both are idempotent. The server listens on 127.0.0.1:PORT only, keeps its socket in DIR, trusts
# local and loopback connections (user "postgres", no password): connect with
# postgresql://postgres@127.0.0.1:PORT/postgres. Durability is off (fsync=off): the cluster is scratch.
# initdb refuses to run as root, so as root the cluster belongs to the "postgres" user, who must be
# able to reach DIR (create it under /tmp); this script chowns DIR itself.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

# Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin.
find_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
    echo "$dir"
  elif command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
  else
    echo "postgres-scratch: no PostgreSQL server found (install the postgresql package)" >&2
    exit 1
  fi
}

# Runs a server binary as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  as_owner "$BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1
}

(($# >= 2)) || usage
COMMAND=$1
DIR=$2
BIN=$(find_bin_dir)

case "$COMMAND" in
  start)
    (($# == 3)) || usage
    PORT=$3
    mkdir -p "$DIR"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$DIR"; fi
    chmod 700 "$DIR"
    if [[ ! -s "$DIR/PG_VERSION" ]]; then
      # initdb wants DIR empty, so its output is kept here rather than in a file there.
      if ! output=$(as_owner "$BIN/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync 2>&1); then
        echo "$output" >&2
        exit 1
      fi
    fi
    if ! running; then
      as_owner "$BIN/pg_ctl" start -D "$DIR" -l "$DIR/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    fi
    for _ in $(seq 1 100); do
      if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then exit 0; fi
      sleep 0.1
    done
    echo "postgres-scratch: the server in $DIR is not accepting connections on port $PORT" >&2
    exit 1
    ;;
  stop)
    (($# == 2)) || usage
    if [[ -s "$DIR/PG_VERSION" ]] && running; then
      as_owner "$BIN/pg_ctl" stop -D "$DIR" -m fast -w >/dev/null
    fi
    ;;
  *)
    usage
    ;;
esac
