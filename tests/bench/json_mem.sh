#!/usr/bin/env bash
# Peak memory (max RSS, from /usr/bin/time -v) of `runyard ls --json`,
# `runyard du --json` and plain `runyard du`, beside `du -s`, on the same
# generated tree. Both JSON listings stream run by run, so they should stay
# near plain `du` whatever the number of runs.
#
#   tests/bench/json_mem.sh                 # 20 tasks × 25 models × 40 runs, 30-file caches (~1.04M entries)
#   TASKS=4 MODELS=5 RUNS=10 tests/bench/json_mem.sh   # a quick small run
#   TREE=/tmp/x/outputs tests/bench/json_mem.sh        # an existing tree (generated there if missing)
#   BIN=/tmp/runyard-old tests/bench/json_mem.sh       # another build, for a before/after
#
# The tree is the one scan.sh uses (tests/bench/out/, git-ignored), generated
# once and reused. Each command runs twice: walking everything (--no-cache)
# and through the scan cache, the way a second `runyard ls` runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

TASKS=${TASKS:-20} MODELS=${MODELS:-25} RUNS=${RUNS:-40} CACHE=${CACHE:-30}
tree=${TREE:-"tests/bench/out/${TASKS}x${MODELS}x${RUNS}x${CACHE}/outputs"}

if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=target/release/runyard
fi
if [ ! -d "$tree" ]; then
    echo "generating $tree ..."
    mkdir -p "$(dirname "$tree")"
    "$BIN" generate "$tree" --tasks "$TASKS" --models "$MODELS" --runs "$RUNS" --cache-files "$CACHE"
fi
# A cache and config of its own: the user's must not change the figures.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_CACHE_HOME="$scratch/cache" XDG_CONFIG_HOME="$scratch/config"

# Peak RSS in MiB and wall seconds of a command, its output discarded.
peak() {
    /usr/bin/time -v "$@" 2>"$scratch/time" >/dev/null
    local kib wall
    kib=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+).*/\1/p' "$scratch/time")
    wall=$(sed -nE 's/.*Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/\1/p' "$scratch/time")
    printf '%6.1f MiB  %8s' "$(echo "$kib / 1024" | bc -l)" "$wall"
}

du -s "$tree" >/dev/null   # warm the page cache
runs=$("$BIN" scan "$tree" | sed -E 's/.*"runs":([0-9]+).*/\1/')
echo "tree: $tree ($runs runs), $(nproc) cores; peak RSS, wall (m:ss)"
printf '%-22s %s\n' "du -s" "$(peak du -s "$tree")"
printf '%-22s %-26s %s\n' "" "--no-cache" "through the scan cache"
for cmd in "ls --json" "du --json" "du"; do
    # shellcheck disable=SC2086 # $cmd is two words on purpose
    cold=$(peak "$BIN" $cmd "$tree" --no-cache)
    # shellcheck disable=SC2086
    warm=$(peak "$BIN" $cmd "$tree")
    printf '%-22s %-26s %s\n' "runyard $cmd" "$cold" "$warm"
done
echo "target: ls --json and du --json ≤ 64 MiB"
