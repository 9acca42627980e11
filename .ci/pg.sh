#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for verify-store-sql's tests and benchmark.
#
#   .ci/pg.sh start   install PostgreSQL if needed (Debian), initdb a cluster in a temp
#                     dir as the postgres user (trust auth, loopback only, fsync off),
#                     start it on port ${VERIFY_PG_PORT:-the first free one from 55432},
#                     create the database verify_test, record what it started in this
#                     checkout's state file, and print `export VERIFY_TEST_POSTGRES_URL=...`
#   .ci/pg.sh stop    stop the cluster this checkout's state file records and delete its
#                     directory; nothing else (no state file: nothing to stop)
#   .ci/pg.sh url     print the URL of the recorded cluster
#   .ci/pg.sh run CMD...  start, run CMD with VERIFY_TEST_POSTGRES_URL set, stop
#                     (also when CMD fails or is interrupted); exits with CMD's status
#
# The PostgreSQL tests are #[ignore]d (a plain `cargo test` counts them as ignored), so
# the command asks for them:
#
#   .ci/pg.sh run cargo test -p verify-store-sql -- --include-ignored
#   or: eval "$(.ci/pg.sh start)"; trap '.ci/pg.sh stop' EXIT; cargo test ... -- --include-ignored
#
# State is per checkout: $VERIFY_PG_STATE, default <checkout>/target/pg-state (target/
# is ignored by git). It holds the data directory, port and postmaster pid this script
# started; `stop` stops a cluster only when that directory's running postmaster is the
# recorded pid, so it never stops a cluster it did not start (another checkout's, the
# system's). Only the export line goes to stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STATE="${VERIFY_PG_STATE:-$ROOT/target/pg-state}"

log() { printf 'pg.sh: %s\n' "$*" >&2; }

url_for() { printf 'postgres://postgres@127.0.0.1:%s/verify_test\n' "$1"; }

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

# Whether something listens on 127.0.0.1:$1.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The port to use: $VERIFY_PG_PORT (which must be free), else the first free port
# from 55432.
pick_port() {
    local port
    if [ -n "${VERIFY_PG_PORT:-}" ]; then
        if port_busy "$VERIFY_PG_PORT"; then
            log "port $VERIFY_PG_PORT (VERIFY_PG_PORT) is in use by another server; not touching it"
            return 1
        fi
        printf '%s\n' "$VERIFY_PG_PORT"
        return 0
    fi
    for port in $(seq 55432 55531); do
        if ! port_busy "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    log "no free port in 55432..55531"
    return 1
}

# Reads the state file into REC_DIR, REC_PORT, REC_PID (empty when absent).
read_state() {
    REC_DIR="" REC_PORT="" REC_PID=""
    [ -f "$STATE" ] || return 1
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
            dir) REC_DIR="$value" ;;
            port) REC_PORT="$value" ;;
            pid) REC_PID="$value" ;;
        esac
    done < "$STATE"
    [ -n "$REC_DIR" ]
}

# Whether the recorded cluster is running: its data directory's postmaster.pid names
# the recorded pid and that process is alive.
recorded_running() {
    [ -n "$REC_PID" ] && [ -f "$REC_DIR/data/postmaster.pid" ] &&
        [ "$(head -n 1 "$REC_DIR/data/postmaster.pid")" = "$REC_PID" ] &&
        kill -0 "$REC_PID" 2>/dev/null
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
    if read_state; then
        log "this checkout's state file $STATE records a cluster in $REC_DIR; stopping it first"
        stop
    fi
    local port dir pid
    port="$(pick_port)"
    dir="$(mktemp -d /tmp/verify-pg.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    mkdir -p "$(dirname "$STATE")"
    # Recorded before anything runs, so a failed start is still cleaned up by `stop`.
    printf 'dir=%s\nport=%s\n' "$dir" "$port" > "$STATE"
    log "initdb in $dir ($bin)"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start -o \
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir \
         -c max_connections=400" >&2
    pid="$(head -n 1 "$dir/data/postmaster.pid")"
    printf 'dir=%s\nport=%s\npid=%s\n' "$dir" "$port" "$pid" > "$STATE"
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres verify_test
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $pid, state $STATE)"
    printf 'export VERIFY_TEST_POSTGRES_URL=%s\n' "$(url_for "$port")"
}

stop() {
    if ! read_state; then
        log "no cluster recorded in $STATE: nothing to stop"
        return 0
    fi
    local bin
    bin="$(find_bin)"
    if recorded_running; then
        if [ -n "$bin" ]; then
            as_pg "$bin/pg_ctl" -D "$REC_DIR/data" -m fast -w stop >&2 || true
        fi
    elif [ -f "$REC_DIR/data/postmaster.pid" ]; then
        # Its directory is used by a postmaster this script did not record: leave both.
        log "$REC_DIR/data has a postmaster that is not pid ${REC_PID:-?}; not stopping it or removing $REC_DIR"
        rm -f "$STATE"
        return 0
    fi
    case "$REC_DIR" in
        /tmp/verify-pg.*) rm -rf "$REC_DIR" ;;
        *) log "not removing $REC_DIR: not a directory this script creates" ;;
    esac
    rm -f "$STATE"
    log "stopped and removed $REC_DIR"
}

url() {
    if read_state && [ -n "$REC_PORT" ]; then
        url_for "$REC_PORT"
    else
        log "no cluster recorded in $STATE"
        return 1
    fi
}

run() {
    local export_line status=0
    trap 'stop' EXIT
    trap 'exit 130' INT TERM
    export_line="$(start)"
    eval "$export_line"
    log "running with VERIFY_TEST_POSTGRES_URL=$VERIFY_TEST_POSTGRES_URL: $*"
    "$@" || status=$?
    return "$status"
}

case "${1:-}" in
    start) start ;;
    run) shift; [ "$#" -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }; run "$@" ;;
    stop) stop ;;
    url) url ;;
    *) echo "usage: $0 start|stop|url|run CMD..." >&2; exit 2 ;;
esac
