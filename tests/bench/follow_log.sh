#!/usr/bin/env bash
# The logs pane following a live log: a job appends a line (with ANSI
# colour codes) every 100 ms to logs/train.log of a running run that
# already holds 200,000 lines (~10 MB); the explorer opens in tmux at
# 80×24, selects that run (L) and opens its logs (t). Prints the CPU the
# explorer uses (average % of one core over SECS, from utime + stime in
# /proc/<pid>/stat) with the pane following, then with the pane closed
# (the tree alone, watching the same writes) for comparison, and the
# screens seen. Target: the pane costs under 5 % of one core.
#
#   tests/bench/follow_log.sh [BINARY]      (default: target/release/runyard)
#   SECS=60 LINES=1000000 tests/bench/follow_log.sh
#
# Needs python3 and tmux. Generated files go under tests/bench/out/follow/.
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-target/release/runyard}")
SECS=${SECS:-30}
LINES=${LINES:-200000}
OUT=tests/bench/out/follow
SESSION=runyard-follow-bench-$$
ROOT=$OUT/outputs
RUN=$ROOT/experiments/live/model/2026-01-02_00-00-00_live

command -v tmux >/dev/null || { echo "needs tmux" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$RUN/logs"
echo '{"status": "running", "command": "python train.py"}' >"$RUN/run_info.json"
python3 - "$RUN/logs/train.log" "$LINES" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("".join(f"\x1b[32mINFO\x1b[0m step {i} loss={1 / (i + 1):.6f}\n" for i in range(n)))
PY
ls -l "$RUN/logs/train.log" | awk '{printf "log before: %.1f MB\n", $5/1e6}'

# The training job: a line every 100 ms, appended.
python3 - "$RUN/logs/train.log" "$LINES" <<'PY' &
import sys, time
path, step = sys.argv[1], int(sys.argv[2])
with open(path, "a", buffering=1) as f:
    while True:
        f.write(f"\x1b[32mINFO\x1b[0m step {step} loss={1 / (step + 1):.6f}\n")
        step += 1
        time.sleep(0.1)
PY
WRITER=$!

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    kill "$WRITER" 2>/dev/null || true
}
trap cleanup EXIT

tmux new-session -d -s "$SESSION" -x 80 -y 24 "exec '$BIN' --no-config '$ROOT'"
PID=$(tmux display -p -t "$SESSION" '#{pane_pid}')
screen() { tmux capture-pane -p -t "$SESSION"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$PID/stat" | awk '{print $12 + $13}'; }
HZ=$(getconf CLK_TCK)
measure() {
    local t0 w0 t1 w1
    t0=$(cpu_ticks); w0=$(date +%s.%N)
    sleep "$SECS"
    t1=$(cpu_ticks); w1=$(date +%s.%N)
    echo "scale=2; 100 * ($t1 - $t0) / $HZ / ($w1 - $w0)" | bc
}

sleep 1
tmux send-keys -t "$SESSION" L
sleep 0.5
tmux send-keys -t "$SESSION" t
sleep 2
first=$(screen | grep -o 'step [0-9]*' | tail -1)
with_pane=$(measure)
last=$(screen | grep -o 'step [0-9]*' | tail -1)
echo "--- the logs pane after ${SECS} s (last line seen: ${first} → ${last}):"
screen
tmux send-keys -t "$SESSION" Escape
sleep 1
without=$(measure)
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo
echo "binary:                      $BIN"
echo "log:                         $LINES lines + 1 every 100 ms"
echo "CPU, logs pane following:    ${with_pane} % of one core over ${SECS} s"
echo "CPU, pane closed (tree):     ${without} % of one core over ${SECS} s"
echo "peak RSS:                    $((HWM / 1024)) MiB"
