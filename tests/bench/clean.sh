#!/usr/bin/env bash
# Deletes the ephemeral data (tmp/ and cache/ of every run) of a generated
# tree of about a million files with `runyard clean --yes`, and the same
# folders of an identical tree with `rm -rf`, in the same run. Prints both
# times and the ratio (target: runyard's apply ≤ 1.2 × rm -rf).
#
#   tests/bench/clean.sh                          # 20 × 25 × 40 runs, 30-file caches
#   TASKS=4 MODELS=5 RUNS=10 tests/bench/clean.sh # a quick small run
#
# Both trees are generated fresh under tests/bench/out/clean-* (git-ignored)
# and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
TASKS=${TASKS:-20} MODELS=${MODELS:-25} RUNS=${RUNS:-40} CACHE=${CACHE:-30}
cargo build --release --quiet
bin=$PWD/target/release/runyard
out=tests/bench/out
a="$out/clean-runyard/outputs" b="$out/clean-rm/outputs"
rm -rf "$out/clean-runyard" "$out/clean-rm"
mkdir -p "$out/clean-runyard" "$out/clean-rm"
for t in "$a" "$b"; do
    "$bin" generate "$t" --tasks "$TASKS" --models "$MODELS" --runs "$RUNS" --cache-files "$CACHE" >/dev/null
done
sync
files=$(find "$b/experiments" -mindepth 5 \( -path '*/tmp/*' -o -path '*/cache/*' \) | wc -l)
echo "two identical trees: $TASKS×$MODELS×$RUNS runs, $files ephemeral files each"
find "$b/experiments" -mindepth 4 -maxdepth 4 \( -name tmp -o -name cache \) -print0 > "$out/clean-rm/list"
du -s "$a" "$b" >/dev/null   # warm both trees alike

# Which goes first can matter (journal and writeback state); ORDER=rm-first
# or runyard-first (the default) to check both.
if [ "${ORDER:-runyard-first}" = rm-first ]; then
t0=$(date +%s.%N)
xargs -0 rm -rf < "$out/clean-rm/list"
t1=$(date +%s.%N)
rm_s=$(echo "$t1 - $t0" | bc -l)

t0=$(date +%s.%N)
json=$("$bin" clean --yes --json -C "$a")
t1=$(date +%s.%N)
all_s=$(echo "$t1 - $t0" | bc -l)
apply_s=$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["apply_seconds"]); print(d["report"]["freed"], d["report"]["files"], len(d["report"]["errors"]), file=sys.stderr)' 2>"$out/clean-runyard/counts")
read -r freed removed errors < "$out/clean-runyard/counts"
else
t0=$(date +%s.%N)
json=$("$bin" clean --yes --json -C "$a")
t1=$(date +%s.%N)
all_s=$(echo "$t1 - $t0" | bc -l)
apply_s=$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["apply_seconds"]); print(d["report"]["freed"], d["report"]["files"], len(d["report"]["errors"]), file=sys.stderr)' 2>"$out/clean-runyard/counts")
read -r freed removed errors < "$out/clean-runyard/counts"
t0=$(date +%s.%N)
xargs -0 rm -rf < "$out/clean-rm/list"
t1=$(date +%s.%N)
rm_s=$(echo "$t1 - $t0" | bc -l)

fi
left=$(find "$a/experiments" -mindepth 4 -maxdepth 4 \( -name tmp -o -name cache \) | wc -l)

printf '%-44s %7.2fs  1.00\n' "rm -rf (the same 40k folders)" "$rm_s"
printf '%-44s %7.2fs  %.2f\n' "runyard clean: apply (re-check + delete)" "$apply_s" "$(echo "$apply_s / $rm_s" | bc -l)"
printf '%-44s %7.2fs  %.2f\n' "runyard clean: whole command (scan+plan+apply)" "$all_s" "$(echo "$all_s / $rm_s" | bc -l)"
echo "runyard freed $((freed / 1048576)) MiB, $removed files, $errors errors; $left ephemeral folders left"
echo "target: apply ≤ 1.20 × rm -rf"
rm -rf "$out/clean-runyard" "$out/clean-rm"
