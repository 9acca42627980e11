#!/usr/bin/env bash
# verify-server driven by the service's own Python helper library (twilio-python,
# pinned in requirements.txt): every documented flow, through the library, unpatched.
#
#   crates/verify-server/tests/twilio/run.sh
#
# Environment:
#   TWILIO_FLOWS_ALLOW_GAPS  comma-separated server gaps (ids of GAPS in flows.py)
#                            that may still fail; any other disagreement fails
#   TWILIO_FLOWS_VENV        reuse this virtualenv (created if missing) instead of a
#                            new one in the temporary directory
#   PYTHON                   the interpreter for the venv (default python3, >= 3.8)
#   VERIFY_SERVER_BIN        run this verify-server binary instead of building one
#
# Creates a virtualenv, installs requirements.txt with pip (PyPI is the only network
# use), builds the server with cargo (debug profile; CARGO_TARGET_DIR is honoured),
# starts it on a free 127.0.0.1 port with a fresh SQLite file and known API
# credentials (and webhook URLs to 127.0.0.1 allowed: the webhooks flow creates one,
# delivery is off), runs flows.py against it, and stops the server by its pid (also on
# failure). Exits non-zero if any flow disagrees. The server's log is printed when
# the run fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/verify-twilio.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

venv="${TWILIO_FLOWS_VENV:-$tmp/venv}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${VERIFY_SERVER_BIN:-}" ]; then
    (cd "$repo" && cargo build -q -p verify-server --bin verify-server)
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
    VERIFY_SERVER_BIN="$target_dir/debug/verify-server"
fi

port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export TWILIO_FLOWS_URL="http://127.0.0.1:$port"
export TWILIO_FLOWS_KEY="twilio-flows-key"
export TWILIO_FLOWS_SECRET="twilio-flows-secret-$RANDOM$RANDOM"

"$VERIFY_SERVER_BIN" --listen "127.0.0.1:$port" --database "sqlite://$tmp/verify.db" \
    --api-key "$TWILIO_FLOWS_KEY" --api-secret "$TWILIO_FLOWS_SECRET" \
    --base-url "$TWILIO_FLOWS_URL" --demo off --disable-webhook-delivery \
    --webhook-allow-destination 127.0.0.1 --allow-plaintext-secrets \
    >"$tmp/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
    if "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/api", timeout=1)' \
        "$TWILIO_FLOWS_URL" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "verify-server exited on start:" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    sleep 0.1
done

status=0
timeout 300 "$venv/bin/python" "$here/flows.py" || status=$?
if [ "$status" != 0 ]; then
    echo "---- verify-server log ----" >&2
    tail -n 100 "$tmp/server.log" >&2
fi
exit "$status"
