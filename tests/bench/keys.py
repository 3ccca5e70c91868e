#!/usr/bin/env python3
"""Key → finished frame in the explorer, and the first frame that shows the
tree, in a 120×40 pseudo-terminal.

    python3 tests/bench/keys.py PATH [BINARY] [--rounds N] [--json] [--trace]

Standard library only. Starts BINARY (default target/release/runyard) on
PATH, times the first output that shows a task name (the first frame with
the tree), waits until the explorer has been quiet for a while (the scan
and the summary reads done), then types a fixed key sequence N times
(filter typing, Backspace, Esc, moves, jumps, sort, reverse). For each key
it waits until the screen has been quiet for QUIET seconds and counts the
time from writing the key to the end of the last synchronized-update frame
(`ESC [ ? 2026 l`, written after every frame the loop draws) that followed
it: a key that makes two frames (one to measure, one with what update
decided from it) is timed to the second. Prints p50/p95/max per kind of key
(`--trace`: also each key's time, in order, on stderr).
"""
import json, os, pty, select, signal, sys, time

END_FRAME = b"\x1b[?2026l"
QUIET = 0.15

# (kind, bytes): one round. Filter typing first, then moves and sorts with
# no filter, then a filter kept (Enter) while moving, cleared with Esc.
ROUND = (
    [("open filter /", b"/")]
    + [("filter char", c.encode()) for c in "seed4"]
    + [("backspace", b"\x7f"), ("backspace", b"\x7f"), ("filter char", b"d"),
       ("filter char", b"4"), ("esc (clear filter)", b"\x1b")]
    + [("j/k", b"j")] * 6 + [("j/k", b"k")] * 6
    + [("G/g", b"G"), ("j/k", b"k"), ("G/g", b"g")]
    + [("sort s", b"s"), ("j/k", b"j"), ("sort s", b"s"), ("reverse R", b"R"),
       ("reverse R", b"R")]
    + [("open filter /", b"/")]
    + [("filter char", c.encode()) for c in "03/seed1"]
    + [("enter (keep filter)", b"\r"), ("j/k", b"j"), ("j/k", b"j"), ("G/g", b"G"),
       ("esc (clear filter)", b"\x1b"), ("G/g", b"g")]
)


class Term:
    def __init__(self, binary, root):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.execv(binary, [binary, root])
        import fcntl, struct, termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.t0 = time.monotonic()

    def read(self, timeout):
        """Output within `timeout` seconds (b"" when none), and when it came."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b"", time.monotonic()
        try:
            return os.read(self.fd, 1 << 20), time.monotonic()
        except OSError:
            return None, time.monotonic()

    def quiet(self, secs, limit, first=0.0):
        """Reads until nothing came for `secs` once a frame has ended (or,
        before that, for `first` seconds: every key the bench types makes a
        frame, however long it takes), at most `limit` seconds in all;
        gives the time the last frame ended, or None if none did."""
        start = time.monotonic()
        last_end = None
        tail = b""
        while time.monotonic() - start < limit:
            wait = secs if last_end is not None else max(secs, first - (time.monotonic() - start))
            chunk, at = self.read(wait)
            if chunk is None:
                break
            if not chunk:
                return last_end
            tail = (tail + chunk)[-len(END_FRAME) - len(chunk):]
            if END_FRAME in tail:
                last_end = at
                tail = b""
        return last_end

    def close(self):
        try:
            os.write(self.fd, b"q")
        except OSError:
            pass
        time.sleep(0.3)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rounds = 3
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
        args.remove(str(rounds))
    root = args[0]
    binary = args[1] if len(args) > 1 else "target/release/runyard"
    tasks = sorted(os.listdir(os.path.join(root, "experiments")))
    names = [t.encode() for t in tasks]
    term = Term(binary, root)
    first = None
    seen = b""
    while time.monotonic() - term.t0 < 30 and first is None:
        chunk, at = term.read(0.5)
        if chunk is None:
            break
        seen += chunk
        if any(n in seen for n in names):
            first = at - term.t0
    # Let the scan (or the cache check) and the summary reads finish.
    settle_start = time.monotonic()
    term.quiet(1.5, 120)
    settled = time.monotonic() - term.t0
    times = {}
    missed = []
    for _ in range(rounds):
        for kind, key in ROUND:
            sent = time.monotonic()
            os.write(term.fd, key)
            end = term.quiet(QUIET, 20, first=10)
            if end is None:
                missed.append(kind)
                continue
            times.setdefault(kind, []).append((end - sent) * 1000)
            if "--trace" in sys.argv:
                print(f"{kind:<22}{key!r:>8}{(end - sent) * 1000:>9.1f}", file=sys.stderr)
    term.close()
    every = [t for ts in times.values() for t in ts]
    report = {
        "first_frame_ms": None if first is None else round(first * 1000, 1),
        "settled_s": round(settled, 2),
        "keys": {k: {"n": len(v), "p50": round(pct(v, 50), 1), "p95": round(pct(v, 95), 1),
                     "max": round(max(v), 1)} for k, v in times.items()},
        "all": {"n": len(every), "p50": round(pct(every, 50), 1),
                "p95": round(pct(every, 95), 1), "max": round(max(every), 1)} if every else None,
        "no_frame": missed,
    }
    if "--json" in sys.argv:
        print(json.dumps(report))
        return
    fmt = lambda v: "n/a" if v is None else f"{v:.0f} ms"
    print(f"first frame with the tree  {fmt(report['first_frame_ms'])}   (target ≤ 100 ms)")
    print(f"quiet (scan + summaries)   {report['settled_s']:.1f} s after start")
    print(f"{'key':<22}{'n':>4}{'p50':>9}{'p95':>9}{'max':>9}   (ms, key → finished frame)")
    for kind, s in report["keys"].items():
        print(f"{kind:<22}{s['n']:>4}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}")
    if report["all"]:
        a = report["all"]
        print(f"{'all keys':<22}{a['n']:>4}{a['p50']:>9.1f}{a['p95']:>9.1f}{a['max']:>9.1f}")
    if missed:
        print(f"no frame after: {', '.join(sorted(set(missed)))} ({len(missed)} keys)")


main()
