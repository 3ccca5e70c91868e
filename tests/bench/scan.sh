#!/usr/bin/env bash
# Times runyard's full per-run scan against `du -s` on the same generated
# tree, in the same run, warm page cache. Prints each figure, the ratio and
# peak memory.
#
#   tests/bench/scan.sh                 # 20 tasks × 25 models × 40 runs, 30-file caches (~1.04M entries)
#   TASKS=4 MODELS=5 RUNS=10 tests/bench/scan.sh   # a quick small run
#   THREADS="1 2 4" tests/bench/scan.sh            # thread counts to try
#
# The tree is generated once under tests/bench/out/ (git-ignored, ~5 GiB on
# disk for the full size) and reused while its shape is unchanged.
set -euo pipefail
cd "$(dirname "$0")/../.."

TASKS=${TASKS:-20} MODELS=${MODELS:-25} RUNS=${RUNS:-40} CACHE=${CACHE:-30}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-3}
tree="tests/bench/out/${TASKS}x${MODELS}x${RUNS}x${CACHE}/outputs"

cargo build --release --quiet
bin=target/release/runyard
if [ ! -d "$tree" ]; then
    echo "generating $tree ..."
    mkdir -p "$(dirname "$tree")"
    $bin generate "$tree" --tasks "$TASKS" --models "$MODELS" --runs "$RUNS" --cache-files "$CACHE"
fi

# Best of REPEAT wall times, in seconds, of a command.
best() {
    local best=""
    for _ in $(seq "$REPEAT"); do
        local t0 t1 s
        t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
        s=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; fi
    done
    printf '%.3f' "$best"
}

du -s "$tree" >/dev/null   # warm the page cache
entries=$($bin scan "$tree" --threads 2 --no-cache | sed -E 's/.*"entries":([0-9]+).*/\1/')
echo "tree: $tree ($entries entries), $(nproc) cores, best of $REPEAT"
du_s=$(best du -s "$tree")
printf '%-26s %8ss  %s\n' "du -s" "$du_s" "1.00"
for t in $THREADS; do
    s=$(best "$bin" scan "$tree" --threads "$t" --no-cache)
    rss=$("$bin" scan "$tree" --threads "$t" --no-cache | sed -E 's/.*"peak_rss_kib":([0-9]+).*/\1/')
    printf '%-26s %8ss  %s  peak %s MiB\n' "runyard scan --threads $t" "$s" \
        "$(printf '%.2f' "$(echo "$s / $du_s" | bc -l)")" "$((rss / 1024))"
done
# The portable path (fstatat instead of statx: what macOS and the BSDs run).
s=$(RUNYARD_PORTABLE_SCAN=1 best "$bin" scan "$tree" --threads 2 --no-cache)
printf '%-26s %8ss  %s\n' "portable (fstatat) -t 2" "$s" "$(printf '%.2f' "$(echo "$s / $du_s" | bc -l)")"
# Re-open through the scan cache (written by the scans above): nothing
# changed, so no run is walked again; the whole process is timed.
cold=$(best "$bin" scan "$tree" --no-cache)
warm=$(best "$bin" scan "$tree")
rss=$("$bin" scan "$tree" | sed -E 's/.*"peak_rss_kib":([0-9]+).*/\1/')
printf '%-26s %8ss  %s  peak %s MiB  (%.2f × the cold scan)\n' "runyard scan (cache)" "$warm" \
    "$(printf '%.2f' "$(echo "$warm / $du_s" | bc -l)")" "$((rss / 1024))" "$(echo "$warm / $cold" | bc -l)"
echo "targets: ≤ 0.60 × du -s wall, ≤ 64 MiB peak; re-open through the cache ≤ 0.10 × the cold scan"
