//! The real binary in a pseudo-terminal: start it on the demo tree, press
//! keys, read the screen through a terminal emulator (vt100), quit, and
//! check that the terminal was given back as it was.

use crate::common;

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};

struct Pty {
    master: std::fs::File,
    slave: OwnedFd,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    child: Child,
    /// The pty's mode before runyard started (checked before spawning: the
    /// child switches it at once).
    started_cooked: bool,
}

impl Pty {
    fn spawn(args: &[&std::ffi::OsStr], rows: u16, cols: u16) -> Pty {
        let master: OwnedFd =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave: OwnedFd = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .unwrap()
            .into();
        tcsetwinsize(
            &master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let started_cooked = restored(slave.as_fd());
        let io = || Stdio::from(slave.try_clone().unwrap());
        let mut cmd = common::runyard_cmd();
        cmd.args(args)
            .env("TERM", "xterm-256color")
            .env("NO_COLOR", "1")
            .stdin(io())
            .stdout(io())
            .stderr(io());
        // The child gets its own session with the pty as controlling terminal,
        // as a login shell would give it. `pre_exec` is unsafe (it runs
        // between fork and exec); these two calls are async-signal-safe.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(BorrowedFd::borrow_raw(0))?;
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let master = std::fs::File::from(master);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            rows.try_into().unwrap(),
            cols.try_into().unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            master,
            slave,
            screen,
            raw,
            child,
            started_cooked,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`, or fails with the screen.
    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("screen never showed {text:?}:\n{}", self.contents());
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
        // Give each key its own read, so Esc is never taken for Alt.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "runyard did not exit:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn restored(slave: BorrowedFd) -> bool {
    let t = tcgetattr(slave).unwrap();
    t.local_modes
        .contains(LocalModes::ICANON | LocalModes::ECHO)
}

#[test]
fn real_binary_draws_takes_keys_and_restores_the_terminal() {
    let (_tmp, root) = common::demo_copy();
    let mut pty = Pty::spawn(&[root.as_os_str()], 36, 120);
    assert!(pty.started_cooked, "the pty starts in cooked mode");
    pty.wait_for("scanned 2");
    assert!(pty.contents().contains("▾ ocr (4)"), "{}", pty.contents());
    assert!(!restored(pty.slave.as_fd()), "raw mode while running");
    // Under the root row, ocr's newest model (vit-small) comes before crnn.
    for k in ["j", "j", "j", "j", "j", "j", "j", "j", "j", "j", "j"] {
        pty.send(k);
    }
    pty.wait_for("ocr/crnn/2025-12-04_14-32-10_seed42");
    pty.wait_for("python train.py --config configs/ocr/crnn.yaml");
    pty.send("?");
    pty.wait_for("keys (Esc closes)");
    pty.send("\x1b");
    pty.send("/");
    pty.send("xgb");
    pty.wait_for("filter: 2 of 9 runs");
    pty.send("\r");
    pty.send("q");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(restored(pty.slave.as_fd()), "raw mode switched off after q");
    std::thread::sleep(Duration::from_millis(100));
    let raw = pty.raw.lock().unwrap().clone();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).into_owned();
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
    assert!(tail.contains("\x1b[?25h"), "showed the cursor: {tail:?}");
}

#[test]
fn sigterm_and_hangup_restore_the_terminal() {
    let (_tmp, root) = common::demo_copy();
    for signal in [rustix::process::Signal::TERM, rustix::process::Signal::HUP] {
        let mut pty = Pty::spawn(&[root.as_os_str()], 30, 100);
        // The scan done: the explorer is up and drawing.
        pty.wait_for("scanned ");
        let pid = rustix::process::Pid::from_child(&pty.child);
        rustix::process::kill_process(pid, signal).unwrap();
        let status = pty.wait_exit();
        assert!(status.success(), "{signal:?}: {status:?}");
        assert!(restored(pty.slave.as_fd()), "{signal:?}: terminal restored");
    }
}

#[test]
fn a_new_run_appears_and_a_deleted_one_vanishes_while_the_explorer_is_open() {
    let (_tmp, root) = common::demo_copy();
    let mut pty = Pty::spawn(&[root.as_os_str()], 40, 130);
    pty.wait_for("scanned 2");
    assert!(!pty.contents().contains("2026-01-01_00-00-00_live"));
    // A training job starts: a run folder appears and writes its log.
    let run = root.join("experiments/ocr/crnn/2026-01-01_00-00-00_live");
    std::fs::create_dir_all(run.join("logs")).unwrap();
    std::fs::write(run.join("run_info.json"), br#"{"status": "running"}"#).unwrap();
    std::fs::write(run.join("logs/train.log"), b"step 1\n").unwrap();
    pty.wait_for("2026-01-01_00-00-00_live");
    pty.wait_for("● 2026-01-01_00-00-00_live");
    // An idle run starts writing again, appending in place (no folder
    // changes): its size moves all the same.
    use std::io::Write as _;
    let log = root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42/logs/train.log");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&vec![b'.'; 3 << 20]).unwrap();
    drop(f);
    // The tree shortens run ids to keep the metric column: its size moves.
    pty.wait_for("12-04_14-32-10_seed42        0.87  3.2M");
    // Another run is deleted from outside: it vanishes.
    let deadline = Instant::now() + Duration::from_secs(20);
    pty.wait_for("11-20_10-00-00_baseline");
    std::fs::remove_dir_all(root.join("experiments/recsys/xgb-v1/2025-11-20_10-00-00_baseline"))
        .unwrap();
    while pty.contents().contains("11-20_10-00-00_baseline") {
        assert!(
            Instant::now() < deadline,
            "the deleted run stayed:\n{}",
            pty.contents()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pty.send("q");
    assert!(pty.wait_exit().success());
}
