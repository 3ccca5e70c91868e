#!/usr/bin/env python3
"""A generated learning-rate sweep to try compare and the zoomed chart on:
`python3 tests/bench/sweep.py OUT [RUNS]` writes RUNS (default 12) runs of
`OUT/experiments/cifar/resnet/` with a config.yaml (optim.lr, model.depth,
seed, a per-run output dir), run_info.json (status, metrics under two
spellings), and metrics/val_metrics.csv (step, val/loss, val/acc). The best
learning rate is 3e-4; lr 1e-2 diverges (loss 1e12 at step 0, NaN at the end,
status failed). Deterministic: the same arguments write the same files."""
import json
import math
import os
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
lrs = ["1e-4", "3e-4", "1e-3", "1e-2"]
for i in range(n):
    lr, seed, depth = lrs[i % 4], i // 4, [18, 34][(i // 4) % 2]
    name = f"2026-01-{10 + i:02d}_09-00-00_lr{lr}_s{seed}"
    run = os.path.join(out, "experiments/cifar/resnet", name)
    os.makedirs(os.path.join(run, "metrics"), exist_ok=True)
    with open(os.path.join(run, "config.yaml"), "w") as f:
        f.write(f"task: cifar\nmodel:\n  name: resnet\n  depth: {depth}\n"
                f"optim:\n  name: adamw\n  lr: {lr}\n  weight_decay: 0.01\n"
                f"seed: {seed}\npaths:\n  output_dir: outputs/experiments/cifar/resnet/{name}\n")
    x = float(lr)
    floor = 0.35 + abs(math.log10(x / 3e-4)) * 0.12 + seed * 0.01
    rows, loss = [], None
    for step in range(0, 2001, 50):
        if lr == "1e-2":
            loss = 1e12 if step == 0 else (float("nan") if step > 1500 else 2.0 + step / 1000)
        else:
            loss = floor + 2.0 * math.exp(-step / (300 + 1e-2 / x)) + 0.03 * math.sin(step * 0.37 + seed)
        acc = max(0.0, min(1.0, 1.0 - loss / 3)) if math.isfinite(loss) else float("nan")
        rows.append(f"{step},{loss},{acc}")
    with open(os.path.join(run, "metrics/val_metrics.csv"), "w") as f:
        f.write("step,val/loss,val/acc\n" + "\n".join(rows) + "\n")
    last_acc = float(rows[-1].split(",")[2])
    status = "failed" if lr == "1e-2" else "finished"
    metrics = {} if lr == "1e-2" else {"val_acc": last_acc, "best_val_acc": last_acc}
    with open(os.path.join(run, "run_info.json"), "w") as f:
        json.dump({"status": status, "metrics": metrics}, f, indent=2)
print(f"{n} runs under {out}/experiments/cifar/resnet")
