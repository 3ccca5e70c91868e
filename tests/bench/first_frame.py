#!/usr/bin/env python3
"""Time from starting `runyard PATH` in a pseudo-terminal to its first full
frame, and to the frame that says the scan is done; then how long a key
takes to show its effect while the scan runs.

    python3 tests/bench/first_frame.py tests/bench/out/20x25x40x30/outputs

Standard library only. The first frame is the first output that contains
the right-hand "summary" or "run_info" pane title (the whole layout drawn).
"""
import os, pty, select, signal, sys, time

def main():
    root = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/runyard"
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(binary, [binary, root])
    import fcntl, struct, termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 150, 0, 0))
    t0 = time.monotonic()
    seen = b""
    first = done = key = None
    sent_at = None
    while time.monotonic() - t0 < 60:
        r, _, _ = select.select([fd], [], [], 0.01)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            now = time.monotonic()
            if first is None and (b"summary" in seen or b"run_info" in seen):
                first = now - t0
                # Press G (last row) while the scan runs; time until the
                # status line shows a selection change (a new frame arrives).
                os.write(fd, b"?")
                sent_at = now
                seen = b""
                continue
            if sent_at and key is None and b"keys (Esc closes)" in seen:
                key = now - sent_at
                os.write(fd, b"\x1b")
            if done is None and b"scanned " in seen:
                done = now - t0
                break
    os.write(fd, b"q")
    time.sleep(0.3)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    fmt = lambda v: "n/a" if v is None else f"{v * 1000:.0f} ms"
    print(f"first frame      {fmt(first)}   (target ≤ 100 ms)")
    print(f"key → frame      {fmt(key)}   (the ? overlay, pressed while scanning)")
    print(f"scan done frame  {fmt(done)}")

main()
