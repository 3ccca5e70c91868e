#!/usr/bin/env bash
# Times `runyard ls` before and after the summary cache, side by side in
# one run, on the same generated tree with a warm scan cache and page cache:
# cold (no summary cache), warm (summary cache written by the cold run),
# `ls --sort val/loss` and `ls --json`, with peak RSS.
#
#   tests/bench/ls.sh                                   # 20×25×40 runs, 30 cache files each
#   BEFORE=/path/to/old/runyard tests/bench/ls.sh       # the binary to compare with
#   TREE=/tmp/ry-bench/20x25x40x30/outputs tests/bench/ls.sh   # an existing tree
#   TASKS=4 MODELS=5 RUNS=10 tests/bench/ls.sh          # a quick small run
#
# The tree is generated like scan.sh's (tests/bench/out/, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

TASKS=${TASKS:-20} MODELS=${MODELS:-25} RUNS=${RUNS:-40} CACHE=${CACHE:-30}
REPEAT=${REPEAT:-3}
tree=${TREE:-"tests/bench/out/${TASKS}x${MODELS}x${RUNS}x${CACHE}/outputs"}
after=${AFTER:-target/release/runyard}
before=${BEFORE:-/work/main/target/release/runyard}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/runyard-bench-ls-cache}

[ -n "${AFTER:-}" ] || cargo build --release --quiet
if [ ! -d "$tree" ]; then
    echo "generating $tree ..."
    mkdir -p "$(dirname "$tree")"
    $after generate "$tree" --tasks "$TASKS" --models "$MODELS" --runs "$RUNS" --cache-files "$CACHE"
fi

# Best of REPEAT runs of a command: "seconds peak-KiB"; `prep` runs before each.
best() {
    local prep=$1 out=""
    shift
    for _ in $(seq "$REPEAT"); do
        eval "$prep"
        local r
        /usr/bin/time -o "$XDG_CACHE_HOME/time.txt" -f "%e %M" "$@" >/dev/null 2>&1
        r=$(tail -1 "$XDG_CACHE_HOME/time.txt")
        if [ -z "$out" ] || [ "$(echo "${r% *} < ${out% *}" | bc -l)" = 1 ]; then out=$r; fi
    done
    echo "$out"
}

no_summaries='rm -f "$XDG_CACHE_HOME"/runyard/summaries-*'
find "$tree/experiments" -path "*/metrics/*" -type f -exec cat {} + >/dev/null   # warm the page cache
runs=$(find "$tree/experiments" -mindepth 3 -maxdepth 3 | wc -l)
echo "tree: $tree ($runs runs), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), best of $REPEAT"
printf '%-28s %16s %16s\n' "" "before" "after"
row() {
    local name=$1 b=$2 a=$3
    printf '%-28s %7ss %6s MiB %7ss %6s MiB\n' "$name" "${b% *}" "$(( ${b#* } / 1024 ))" \
        "${a% *}" "$(( ${a#* } / 1024 ))"
}
for bin in "$before" "$after"; do "$bin" scan "$tree" >/dev/null; done   # warm scan caches
eval "$no_summaries"
row "ls, cold" "$(best "$no_summaries" "$before" ls "$tree")" "$(best "$no_summaries" "$after" ls "$tree")"
"$after" ls "$tree" >/dev/null
row "ls, warm" "$(best : "$before" ls "$tree")" "$(best : "$after" ls "$tree")"
row "ls --sort val/loss, warm" "$(best : "$before" ls "$tree" --sort val/loss)" \
    "$(best : "$after" ls "$tree" --sort val/loss)"
row "ls --json, warm" "$(best : "$before" ls "$tree" --json)" "$(best : "$after" ls "$tree" --json)"
row "ls --json, cold" "$(best "$no_summaries" "$before" ls "$tree" --json)" \
    "$(best "$no_summaries" "$after" ls "$tree" --json)"
ls -l "$XDG_CACHE_HOME"/runyard/summaries-* | awk '{ printf "summary cache: %.1f MiB\n", $5 / 1048576 }'
echo "(before has no summary cache: its warm rows read every run's files again)"
