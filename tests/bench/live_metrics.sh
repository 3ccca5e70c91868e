#!/usr/bin/env bash
# The explorer on a live run: a 3M-row metrics CSV that grows by a row a
# second, that run selected. Prints the CPU the explorer uses (average % of
# one core over the window, from /proc/<pid>/stat) and its peak RSS, and
# shows with tmux that the pane fills and that another run's pane loads.
#
#   tests/bench/live_metrics.sh [BINARY]      (default: target/release/runyard)
#   ROWS=10000000 SECS=60 tests/bench/live_metrics.sh
#
# Needs python3 and tmux. Generated files go under tests/bench/out/live/.
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-target/release/runyard}")
ROWS=${ROWS:-3000000}
SECS=${SECS:-60}
FILL_TIMEOUT=${FILL_TIMEOUT:-120}
OUT=tests/bench/out/live
SESSION=runyard-live-bench-$$
ROOT=$OUT/outputs
BIG=$ROOT/experiments/live/model/2026-01-02_00-00-00_big
SMALL=$ROOT/experiments/live/model/2026-01-01_00-00-00_small

command -v tmux >/dev/null || { echo "needs tmux" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$BIG/metrics" "$SMALL/metrics"
echo '{"status": "running", "command": "python train.py"}' >"$BIG/run_info.json"
echo '{"status": "finished"}' >"$SMALL/run_info.json"
echo '{"acc": 0.9137, "loss": 0.2718}' >"$SMALL/metrics/val_metrics.json"
printf 'step,loss\n1,2.0\n2,1.5\n3,1.2\n' >"$SMALL/metrics/train_metrics.csv"

echo "writing $ROWS rows..."
python3 - "$BIG/metrics/train_metrics.csv" "$ROWS" <<'EOF'
import math, sys
path, rows = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("step,loss,acc\n")
    buf = []
    for i in range(rows):
        buf.append(f"{i},{2.5 * math.exp(-i / 4e5) + 0.01 * math.sin(i):.6f},{1 - math.exp(-i / 5e5):.6f}\n")
        if len(buf) == 100000:
            f.write("".join(buf)); buf.clear()
    f.write("".join(buf))
EOF
ls -l "$BIG/metrics/train_metrics.csv" | awk '{printf "metrics file: %.1f MB\n", $5/1e6}'

# A training job: one row a second, appended.
python3 - "$BIG/metrics/train_metrics.csv" "$ROWS" <<'EOF' &
import sys, time
path, step = sys.argv[1], int(sys.argv[2])
while True:
    with open(path, "a") as f:
        f.write(f"{step},0.{step % 1000:03d},0.99\n")
    step += 1
    time.sleep(1)
EOF
WRITER=$!

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    kill "$WRITER" 2>/dev/null || true
}
trap cleanup EXIT

tmux new-session -d -s "$SESSION" -x 160 -y 45 "exec '$BIN' --no-config '$ROOT'"
PID=$(tmux display -p -t "$SESSION" '#{pane_pid}')
screen() { tmux capture-pane -p -t "$SESSION"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$PID/stat" | awk '{print $12 + $13}'; }
HZ=$(getconf CLK_TCK)
START_TICKS=$(cpu_ticks)
START=$(date +%s.%N)

# The tree opens on the task: L jumps to its latest run, the big one.
sleep 1
tmux send-keys -t "$SESSION" L
# Another run's pane loads while the big one is still being read.
sleep 0.3
tmux send-keys -t "$SESSION" j
other=""
for _ in $(seq 1 100); do
    # The chart title comes from the run's details, not the tree's summary.
    if screen | grep -q "train/loss · train_metrics.csv (1/1"; then
        other=$(echo "$(date +%s.%N) - $START" | bc)
        break
    fi
    sleep 0.1
done
echo "--- another run, selected while the big one loads (at ${other:-never} s):"
screen
tmux send-keys -t "$SESSION" k

filled=""
for _ in $(seq 1 $((FILL_TIMEOUT * 10))); do
    if screen | grep -q "train/loss · train_metrics.csv"; then
        filled=$(echo "$(date +%s.%N) - $START" | bc)
        break
    fi
    sleep 0.1
done
echo "--- the big run's pane (filled at ${filled:-never} s):"
screen

# The steady state: a row a second, measured over $SECS seconds.
T0=$(cpu_ticks)
W0=$(date +%s.%N)
sleep "$SECS"
T1=$(cpu_ticks)
W1=$(date +%s.%N)
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo "--- the big run's pane after ${SECS} s of writes:"
screen

steady=$(echo "scale=2; 100 * ($T1 - $T0) / $HZ / ($W1 - $W0)" | bc)
total=$(echo "scale=2; 100 * ($T1 - $START_TICKS) / $HZ / ($W1 - $START)" | bc)
echo
echo "binary:            $BIN"
echo "rows:              $ROWS (+1 a second)"
echo "another run shown: ${other:-never} s after start"
echo "big pane filled:   ${filled:-never} s after start"
echo "CPU, ${SECS} s after the pane filled: ${steady} % of one core"
echo "CPU since start:   ${total} % of one core"
echo "peak RSS:          $((HWM / 1024)) MiB"
