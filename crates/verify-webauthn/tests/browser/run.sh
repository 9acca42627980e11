#!/usr/bin/env bash
# Captures fresh WebAuthn credentials from Debian's Chromium (CDP virtual authenticator).
#
#   tests/browser/run.sh [out_dir]      (default: a new temporary directory)
#
# Installs what it needs (Debian's chromium when /usr/bin/chromium is missing, then
# `npm ci` for playwright-core), writes one <scenario>.json per scenario into out_dir and
# prints out_dir's path as its last line. Verify the captures with
#
#   VERIFY_WEBAUTHN_CAPTURES=<out_dir> cargo test -p verify-webauthn --test chromium
#
# To refresh the committed fixtures: tests/browser/run.sh testdata/chromium (from the
# crate directory). Network: only Debian's and npm's package registries, for installs;
# the capture itself talks to 127.0.0.1 alone.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-$(mktemp -d "${TMPDIR:-/tmp}/verify-webauthn-captures.XXXXXX")}"
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

timeout 300 node capture.mjs "$out_dir" >&2
echo "$out_dir"
