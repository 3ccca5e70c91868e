#!/usr/bin/env bash
# Generates a tree of many small runs for tests/bench/keys.py, outside the
# repository (the 100,000-run tree is ~1.3 million entries):
#
#   tests/bench/gen_small.sh /tmp/ry-bench-100k    # 20 × 50 × 100 runs
#   TASKS=20 MODELS=25 RUNS=40 tests/bench/gen_small.sh /tmp/ry-bench-20k-small
#
# Each run is what `runyard generate` writes with an empty cache/ (run_info,
# config, a small metrics file, checkpoints, logs). Prints the outputs path.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:?usage: gen_small.sh DIR}
TASKS=${TASKS:-20} MODELS=${MODELS:-50} RUNS=${RUNS:-100}
bin=${BIN:-target/release/runyard}
out="$DIR/outputs"
if [ ! -d "$out" ]; then
    mkdir -p "$DIR"
    "$bin" generate "$out" --tasks "$TASKS" --models "$MODELS" --runs "$RUNS" --cache-files 0 >&2
fi
echo "$out"
