#!/usr/bin/env bash
# Differential test: the same registrations and assertions (valid and mutated, every
# attestation format and credential algorithm verify-webauthn supports) through
# verify-webauthn, py_webauthn and python-fido2 (both pinned in requirements.txt).
#
#   crates/verify-webauthn/tests/differential/run.sh
#
# Environment:
#   DIFFERENTIAL_VENV   reuse this virtualenv (created if missing) instead of a new one
#                       in the temporary directory
#   PYTHON              the interpreter for the venv (default python3, >= 3.10)
#   DIFFERENTIAL_CASES  also keep the generated cases (JSON lines) at this path
#
# Creates a virtualenv, installs requirements.txt with pip (PyPI is the only network
# use), generates the cases with `cargo run -p verify-webauthn --example differential`
# (debug profile; CARGO_TARGET_DIR is honoured), and runs compare.py on them: it prints
# the agreement table and exits non-zero on any disagreement not explained in
# allowlist.py (docs/webauthn-differential.md).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/verify-differential.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

venv="${DIFFERENTIAL_VENV:-$tmp/venv}"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

cases="${DIFFERENTIAL_CASES:-$tmp/cases.jsonl}"
(cd "$repo" && cargo run -q -p verify-webauthn --example differential -- "$cases")
timeout 300 "$venv/bin/python" "$here/compare.py" "$cases"
