#!/usr/bin/env bash
# Smoke-runs every cargo-fuzz target: .ci/fuzz.sh [seconds per target, default 20]
#
# Installs cargo-fuzz if missing, builds all targets once (no sanitizer, so one build
# serves every run), then runs each target listed by `cargo fuzz list` for N seconds
# on a COPY of its committed corpus (CI never rewrites fuzz/corpus), printing the
# executions count. Fails on the first crash, leak or timeout, after printing the
# reproducer libFuzzer wrote under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [seconds]" >&2; exit 2 ;;
esac

export CARGO_TERM_COLOR=never
# cargo-fuzz needs nightly flags (-Zsanitizer, sancov); the stable toolchain takes
# them with RUSTC_BOOTSTRAP=1, as rustls' CI does.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

cd fuzz
echo "==== building every fuzz target ===="
cargo fuzz build -s none

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

targets=()
while IFS= read -r target; do
    [ -n "$target" ] && targets+=("$target")
done < <(cargo fuzz list)
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz targets listed" >&2; exit 1; }

failed=()
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    if [ -d "corpus/$target" ]; then
        cp -R "corpus/$target/." "$corpus/"
    fi
    log="$work/$target.log"
    echo "==== $target (${seconds}s, $(find "$corpus" -type f | wc -l) corpus files) ===="
    status=0
    cargo fuzz run -s none "$target" "$corpus" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1 || true)"
    if [ -z "$execs" ]; then
        execs="$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)"
    fi
    if [ "$status" -ne 0 ]; then
        echo "FAILED: $target (exit $status) after ${execs:-?} executions"
        tail -n 60 "$log"
        failed+=("$target")
    else
        echo "ok: $target, ${execs:-?} executions"
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz targets that crashed: ${failed[*]}" >&2
    exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s without a crash"
