#!/usr/bin/env bash
# End-to-end test of verify-server's web page in Debian's Chromium.
#
#   crates/verify-server/tests/browser/run.sh [artifact_dir]
#       (default: $CI_ARTIFACTS/browser-e2e, else a new temporary directory)
#
# Installs what it needs (Debian's chromium when /usr/bin/chromium is missing, then
# `npm ci` for playwright-core), builds the server binary with cargo (debug profile;
# CARGO_TARGET_DIR is honoured), and runs e2e.mjs: the server on 127.0.0.1 with a
# fresh SQLite file, the page opened as http://localhost:<port>, a CDP virtual
# authenticator; 1,000 registration and sign-in challenges read through the
# browser's own atob; passkey register + sign-in, a server restart on the same SQLite
# file and sign-in again, TOTP enrollment with codes computed in the test, push
# enrollment of the device pane and approval of a challenge sent from the relying
# party pane. One screenshot per step, the server's log and the page's console go
# to artifact_dir. Fails on any failed step, console error or page error.
# Network: only Debian's and npm's package registries, for installs; the test
# itself talks to 127.0.0.1 alone.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
if [ -n "${1:-}" ]; then
    out_dir="$1"
elif [ -n "${CI_ARTIFACTS:-}" ]; then
    out_dir="$CI_ARTIFACTS/browser-e2e"
else
    out_dir="$(mktemp -d "${TMPDIR:-/tmp}/verify-server-e2e.XXXXXX")"
fi
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "installing Debian's chromium" >&2
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >&2
fi
if ! command -v node >/dev/null 2>&1; then
    echo "run.sh needs Node.js (node and npm) on PATH" >&2
    exit 1
fi

cd "$here"
# npm ci writes node_modules/.package-lock.json; a lockfile newer than that (a pulled
# dependency change) means the installed tree is stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi

(cd "$repo" && cargo build -q -p verify-server --bin verify-server)
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
export VERIFY_SERVER_BIN="$target_dir/debug/verify-server"

timeout 600 node e2e.mjs "$out_dir"
echo "browser e2e passed; screenshots and logs in $out_dir"
