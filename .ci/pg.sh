#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for verify-store-sql's tests and benchmark.
#
#   .ci/pg.sh start   install PostgreSQL if needed (Debian), initdb a cluster in a temp
#                     dir as the postgres user (trust auth, loopback only, fsync off),
#                     start it on port ${VERIFY_PG_PORT:-55432}, create the database
#                     verify_test, and print `export VERIFY_TEST_POSTGRES_URL=...`
#   .ci/pg.sh stop    stop the cluster and delete its directory
#   .ci/pg.sh url     print the URL
#   .ci/pg.sh run CMD...  start, run CMD with VERIFY_TEST_POSTGRES_URL set, stop
#                     (also when CMD fails); exits with CMD's status
#
# Usage from CI:  .ci/pg.sh run cargo test -p verify-store-sql
#            or:  eval "$(.ci/pg.sh start)"; trap '.ci/pg.sh stop' EXIT; cargo test ...
# Only the export line goes to stdout; progress goes to stderr.
set -euo pipefail

PORT="${VERIFY_PG_PORT:-55432}"
STATE="${VERIFY_PG_STATE:-/tmp/verify-pg-$PORT}"   # holds the cluster's directory path
URL="postgres://postgres@127.0.0.1:$PORT/verify_test"

log() { printf 'pg.sh: %s\n' "$*" >&2; }

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then
            printf '%s\n' "$dir"
        fi
    done | sort -V | tail -n 1
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin
    bin="$(find_bin)"
    if [ -z "$bin" ]; then
        log "installing PostgreSQL (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bin="$(find_bin)"
    fi
    [ -n "$bin" ] || { log "no initdb found"; exit 1; }
    if [ -f "$STATE" ] && [ -d "$(cat "$STATE")" ]; then
        log "a cluster is already running from $(cat "$STATE"); stopping it first"
        stop
    fi
    local dir
    dir="$(mktemp -d /tmp/verify-pg.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    printf '%s\n' "$dir" > "$STATE"
    log "initdb in $dir ($bin)"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start -o \
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$dir \
         -c max_connections=400" >&2
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres verify_test
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
    printf 'export VERIFY_TEST_POSTGRES_URL=%s\n' "$URL"
}

stop() {
    [ -f "$STATE" ] || { log "no cluster recorded in $STATE"; return 0; }
    local dir bin
    dir="$(cat "$STATE")"
    bin="$(find_bin)"
    if [ -d "$dir/data" ] && [ -n "$bin" ]; then
        as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir" "$STATE"
    log "stopped and removed $dir"
}

run() {
    local export_line status=0
    export_line="$(start)"
    eval "$export_line"
    log "running with VERIFY_TEST_POSTGRES_URL=$VERIFY_TEST_POSTGRES_URL: $*"
    "$@" || status=$?
    stop
    return "$status"
}

case "${1:-}" in
    start) start ;;
    run) shift; [ "$#" -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }; run "$@" ;;
    stop) stop ;;
    url) printf '%s\n' "$URL" ;;
    *) echo "usage: $0 start|stop|url|run CMD..." >&2; exit 2 ;;
esac
