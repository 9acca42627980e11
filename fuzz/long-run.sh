#!/usr/bin/env bash
# Long fuzzing campaign: fuzz/long-run.sh [seconds per target, default 600] [parallel, default 2] [target...]
#
# Runs every cargo-fuzz target (or only those named) for N seconds (wall clock), P targets at a time, each on
# a working copy of its committed corpus. A crash fails the run and leaves libFuzzer's
# reproducer under fuzz/artifacts/<target>/. When a target ends clean, the inputs that
# reached new coverage are merged back into fuzz/corpus/<target> (`-merge=1` keeps only
# inputs that add coverage, so the committed corpora stay small), ready to commit.
# A summary line per target (seconds, executions, corpus size before/after) is written
# to $LOG_DIR/summary.txt; full logs stay beside it.
#
# .ci/fuzz.sh is the short smoke run CI does; this script is the campaign run by hand
# before a release or after a parser changes.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-600}"
parallel="${2:-2}"
shift $(($# < 2 ? $# : 2))
case "$seconds$parallel" in
    '' | *[!0-9]*) echo "usage: $0 [seconds] [parallel]" >&2; exit 2 ;;
esac
log_dir="${LOG_DIR:-/tmp/verify-fuzz-long}"
mkdir -p "$log_dir"
export CARGO_TERM_COLOR=never RUSTC_BOOTSTRAP=1

cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo fuzz build -s none

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz targets listed" >&2; exit 1; }
: >"$log_dir/summary.txt"

run_one() {
    local target="$1" work="$log_dir/work/$1" log="$log_dir/$1.log" status=0
    rm -rf "$work"
    mkdir -p "$work" "corpus/$target"
    cp -R "corpus/$target/." "$work/"
    local before
    before="$(find "corpus/$target" -type f | wc -l)"
    cargo fuzz run -s none "$target" "$work" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    local execs
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1 || true)"
    if [ "$status" -ne 0 ]; then
        echo "FAILED $target exit=$status execs=${execs:-?} (see $log)" | tee -a "$log_dir/summary.txt"
        return 1
    fi
    cargo fuzz run -s none "$target" "corpus/$target" "$work" -- -merge=1 \
        >"$log_dir/$target.merge.log" 2>&1
    local after
    after="$(find "corpus/$target" -type f | wc -l)"
    echo "ok $target seconds=$seconds execs=${execs:-?} corpus=$before->$after" |
        tee -a "$log_dir/summary.txt"
}

failed=0
running=0
for target in "${targets[@]}"; do
    run_one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done

sort -o "$log_dir/summary.txt" "$log_dir/summary.txt"
cat "$log_dir/summary.txt"
[ "$failed" -eq 0 ] || { echo "a fuzz target crashed" >&2; exit 1; }
echo "all ${#targets[@]} targets ran ${seconds}s clean"
