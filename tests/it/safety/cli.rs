//! Safety cases: cli (issue 12). Each test runs the real binary on a
//! scratch tree: hostile names in CSV, thread counts, exit codes, closed
//! pipes, init over a dangling link, mv names, finish through a link,
//! config files that are not files, and the streamed shape of `du --json`.

use super::*;

use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// A run with a `run_info.json` of these metrics (not a canary: it is read).
fn run_with_metrics(w: &World, name: &str, metrics: serde_json::Value) -> PathBuf {
    let r = w.root.join("experiments/t/m").join(name);
    let info = serde_json::json!({ "status": "finished", "metrics": metrics });
    write(&r.join("run_info.json"), info.to_string().as_bytes());
    write(&r.join("tmp/a.bin"), &[1; 5_000]);
    w.idle();
    r
}

/// `runyard ARGS -C ROOT`, waited for.
fn ry(root: &Path, args: &[&str]) -> Output {
    common::runyard_cmd()
        .args(args)
        .arg("-C")
        .arg(root)
        .output()
        .unwrap()
}

/// Waits for a child at most `limit`; kills it and fails the test past that,
/// so a runyard that blocks shows up as a failure, not a hung test run.
fn wait_at_most(mut child: std::process::Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?} (blocked)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn compare_csv_and_text_escape_names_from_the_tree() {
    // Item 7: a metric named with an OSC title sequence, a run id with a
    // CSI colour, a comma and a quote. The CSV must carry no raw control
    // character and still parse, one row per run.
    let w = World::new();
    let evil = "\u{1b}]0;pwned\u{7}acc";
    run_with_metrics(
        &w,
        "2025-01-01_00-00-00_a",
        serde_json::json!({ evil: 0.5 }),
    );
    run_with_metrics(
        &w,
        "2025-01-01_00-00-01_b,\"q\u{1b}[31m",
        serde_json::json!({ evil: 0.7 }),
    );
    let out = ry(&w.root, &["compare", "--task", "t", "--csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r'),
        "raw control characters in the CSV: {text:?}"
    );
    assert!(text.contains("\\u{1b}]0;pwned\\u{7}acc"), "{text}");
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header = rd.headers().unwrap().clone();
    // run, name, status, then the metric.
    assert_eq!(header.len(), 4, "{header:?}");
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter()
            .any(|r| r[0].ends_with("_b,\"q\\u{1b}[31m") && &r[3] == "0.7"),
        "{rows:?}"
    );
    // The text table of the same comparison, and the listings, likewise.
    for args in [
        &["compare", "--task", "t"][..],
        &["ls"],
        &["du"],
        &["check"],
    ] {
        let out = ry(&w.root, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !bytes.iter().any(|&b| b == 0x1b || b == 0x07),
                "{args:?} {stream}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    w.check_canaries();
}

#[test]
fn thread_counts_out_of_range_are_clamped_with_a_message() {
    // Item 7: --threads 100000 aborted the process (rc 134).
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    for (n, used) in [("100000", "using"), ("0", "using 1")] {
        let out = common::runyard_cmd()
            .args(["--threads", n, "du", "--no-cache"])
            .arg("-C")
            .arg(&w.root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "--threads {n}: {:?} {}",
            out.status,
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(&format!("--threads {n} is out of range")) && err.contains(used),
            "--threads {n}: {err}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("2025-01-01_00-00-00_a"));
    }
    // A sane count says nothing.
    let out = common::runyard_cmd()
        .args(["--threads", "2", "du"])
        .arg("-C")
        .arg(&w.root)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        stderr(&out)
    );
    w.check_canaries();
}

#[test]
fn restore_of_something_not_in_the_trash_exits_2() {
    // Item 8: the README promises 2 for "no such run"; restore said 1.
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    let out = ry(&w.root, &["restore", "nonexist"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing in the trash matches \"nonexist\""),
        "{}",
        stderr(&out)
    );
    w.check_canaries();
}

/// A pipe whose reading end is already closed, as after `| head -0`.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

#[test]
fn a_closed_pipe_ends_quietly_without_a_panic() {
    // Item 8: `runyard show zzz 2>&1 | head -0` panicked writing to stderr.
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    run_with_metrics(
        &w,
        "2025-01-01_00-00-01_b",
        serde_json::json!({ "acc": 0.5 }),
    );
    let cases: &[(&[&str], i32)] = &[
        (&["show", "zzz"], 2),
        (&["show", "2025-01-01_00-00-01_b"], 0),
        (&["ls"], 0),
        (&["ls", "--json"], 0),
        (&["du"], 0),
        (&["du", "--json"], 0),
        (&["compare", "--task", "t", "--csv"], 0),
        (&["compare", "--task", "t"], 0),
        (&["check"], 0),
        (&["trash", "list"], 0),
        (&["clean", "--dry-run"], 0),
        (&["restore", "nonexist"], 2),
        (&["config", "--default"], 0),
    ];
    for &(args, code) in cases {
        // stdout closed, stderr kept: nothing about a panic or a pipe on it.
        let log = w.root.parent().unwrap().join("stderr.log");
        let out = common::runyard_cmd()
            .args(args)
            .arg("-C")
            .arg(&w.root)
            .stdout(closed_pipe())
            .stderr(std::fs::File::create(&log).unwrap())
            .status()
            .unwrap();
        let err = std::fs::read_to_string(&log).unwrap();
        assert_eq!(out.code(), Some(code), "{args:?} (stdout closed): {err}");
        assert!(
            !err.contains("panicked") && !err.to_lowercase().contains("broken pipe"),
            "{args:?}: {err}"
        );
        // Both closed (`2>&1 | head -0`): same code, no panic (which is 101).
        let pipe = closed_pipe();
        let out = common::runyard_cmd()
            .args(args)
            .arg("-C")
            .arg(&w.root)
            .stderr(pipe.try_clone().unwrap())
            .stdout(pipe)
            .status()
            .unwrap();
        assert_eq!(
            out.code(),
            Some(code),
            "{args:?} (stdout and stderr closed)"
        );
    }
    w.check_canaries();
}

#[test]
fn init_over_a_dangling_link_names_the_path_and_the_reason() {
    // Item 8: init said only "File exists (os error 17)".
    let tmp = tempfile::tempdir().unwrap();
    let outputs = tmp.path().join("outputs");
    std::fs::create_dir(&outputs).unwrap();
    symlink(tmp.path().join("gone"), outputs.join("experiments")).unwrap();
    let out = common::runyard_cmd()
        .arg("init")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let shown = outputs.join("experiments");
    assert!(
        err.contains(&format!("{}: is a symbolic link", shown.display())),
        "{err}"
    );
    assert!(!err.contains("File exists"), "{err}");
    assert!(
        !tmp.path().join("gone").exists(),
        "the link was not followed"
    );
    // A file where a folder belongs is named too.
    std::fs::remove_file(outputs.join("experiments")).unwrap();
    write(&outputs.join("logs"), b"not a folder");
    let out = common::runyard_cmd()
        .arg("init")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("{}: is a file", outputs.join("logs").display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn mv_refuses_the_names_new_run_refuses() {
    // Item 8: `mv --task .trash` and names with newlines were accepted.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let bad = [
        ".trash",
        ".hidden",
        "..",
        ".",
        "",
        "a/b",
        "two\nlines",
        "x\u{1b}[31m",
    ];
    for name in bad {
        for flag in ["--task", "--model"] {
            let out = common::runyard_cmd()
                .args(["mv", "2025-01-01_00-00-00_a", "--yes"])
                .arg(if flag == "--task" {
                    "--model"
                } else {
                    "--task"
                })
                .arg("fine")
                .args([flag, name])
                .arg("-C")
                .arg(&w.root)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{flag} {name:?}: {}",
                stderr(&out)
            );
            assert!(
                stderr(&out).contains("is not a folder name"),
                "{flag} {name:?}: {}",
                stderr(&out)
            );
            assert!(!stderr(&out).contains('\u{1b}'));
        }
        // new-run says the same of the same name.
        let out = ry(&w.root, &["new-run", "--task", name, "--model", "m"]);
        assert_eq!(out.status.code(), Some(2), "new-run {name:?}");
        assert!(stderr(&out).contains("is not a folder name"));
    }
    assert!(r.join("checkpoints/best.pt").exists(), "the run stayed");
    assert!(!w.root.join(".trash").exists());
    let tasks: Vec<_> = std::fs::read_dir(w.root.join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(tasks, ["t"], "nothing was created");
    w.check_canaries();
}

#[test]
fn finish_refuses_a_run_info_link_and_never_blocks_on_a_fifo() {
    // Item 8: finish read through a run_info.json symlink.
    let mut w = World::new();
    let r = run_with_metrics(
        &w,
        "2025-01-01_00-00-00_a",
        serde_json::json!({ "acc": 0.5 }),
    );
    let target = w.outside.join("info.json");
    let outside_json = br#"{"status": "running", "secret": "outside"}"#;
    write(&target, outside_json);
    w.canaries.push((target.clone(), outside_json.to_vec()));
    std::fs::remove_file(r.join("run_info.json")).unwrap();
    symlink(&target, r.join("run_info.json")).unwrap();
    let out = common::runyard_cmd()
        .arg("finish")
        .arg(&r)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run_info.json: is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::symlink_metadata(r.join("run_info.json"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is left as it was"
    );
    // A FIFO: refused at once, not waited on.
    std::fs::remove_file(r.join("run_info.json")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        r.join("run_info.json"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let child = common::runyard_cmd()
        .arg("finish")
        .arg(&r)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_at_most(child, Duration::from_secs(20), "finish on a FIFO");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a FIFO"), "{}", stderr(&out));
    // A regular file is replaced whole: its keys and permissions kept, no
    // temporary left behind.
    std::fs::remove_file(r.join("run_info.json")).unwrap();
    write(
        &r.join("run_info.json"),
        br#"{"status": "running", "host": "gpu-3"}"#,
    );
    std::fs::set_permissions(
        r.join("run_info.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = common::runyard_cmd()
        .arg("finish")
        .arg(&r)
        .args(["--status", "failed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.join("run_info.json")).unwrap()).unwrap();
    assert_eq!(info["status"], "failed");
    assert_eq!(info["host"], "gpu-3");
    let md = std::fs::metadata(r.join("run_info.json")).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    let left: Vec<String> = std::fs::read_dir(&r)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("runyard-tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    w.check_canaries();
}

#[test]
fn a_config_that_is_not_a_small_regular_file_is_refused_at_once() {
    // Item 8: a FIFO config blocked runyard; /dev/zero grew it to 4.4 GB.
    let mut w = World::new();
    w.run("2025-01-01_00-00-00_a");
    let home = w.root.parent().unwrap().join("xdg");
    let config = home.join("runyard/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &config,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let run = |extra: &[&str], what: &str| {
        let child = common::runyard_cmd()
            .env("XDG_CONFIG_HOME", &home)
            .args(extra)
            .arg("ls")
            .arg("-C")
            .arg(&w.root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_at_most(child, Duration::from_secs(20), what)
    };
    let out = run(&[], "a FIFO config");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}: is a FIFO", config.display())),
        "{}",
        stderr(&out)
    );
    let out = run(&["--config-file", "/dev/zero"], "/dev/zero as config");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/dev/zero: is a character device"),
        "{}",
        stderr(&out)
    );
    // A regular file past the cap, and one that is fine.
    std::fs::remove_file(&config).unwrap();
    let mut big = b"# padding\n".repeat(200_000);
    big.extend_from_slice(b"[general]\nactive_minutes = 5\n");
    write(&config, &big);
    let out = run(&[], "a 2 MB config");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is larger than runyard reads"),
        "{}",
        stderr(&out)
    );
    write(&config, b"[general]\nactive_minutes = 5\n");
    let out = run(&[], "a normal config");
    assert!(out.status.success(), "{}", stderr(&out));
    // The config is the user's own: a link to a regular file is read.
    std::fs::rename(&config, home.join("real.toml")).unwrap();
    symlink(home.join("real.toml"), &config).unwrap();
    let out = run(&[], "a linked config");
    assert!(out.status.success(), "{}", stderr(&out));
    w.check_canaries();
}

#[test]
fn du_json_streams_one_run_per_line() {
    // Item 9: du --json built the whole document in memory (306 MiB on the
    // 20,000-run tree). Now: a head line, one run object per line, `]}`.
    let mut w = World::new();
    let small = w.run("2025-01-01_00-00-00_small");
    std::fs::remove_dir_all(small.join("cache")).unwrap();
    w.run("2025-01-01_00-00-01_big");
    w.run("2025-01-01_00-00-02_big2");
    w.idle();
    for (cmd, limit) in [("du", None), ("du", Some("2")), ("ls", None)] {
        let mut args = vec![cmd, "--json"];
        if let Some(n) = limit {
            args.extend(["-n", n]);
        }
        let out = ry(&w.root, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["version"], 1);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("\"runs\":["), "{args:?}: {}", lines[0]);
        assert_eq!(*lines.last().unwrap(), "]}");
        let runs = &lines[1..lines.len() - 1];
        let want = limit.map_or(3, |n| n.parse().unwrap());
        assert_eq!(runs.len(), want, "{args:?}: {text}");
        for (i, line) in runs.iter().enumerate() {
            let line = line.strip_suffix(',').unwrap_or(line);
            let run: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(run, doc["runs"][i], "line {i} is run {i}");
            assert!(run["usage"]["tmp"]["disk"].is_u64() && run["path"].is_string());
        }
        if cmd == "du" {
            assert_eq!(doc["totals"]["runs"], 3);
            assert!(doc["top"].is_array());
            // Most reclaimable first: the run without a cache comes last.
            let ids: Vec<&str> = doc["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["run_id"].as_str().unwrap())
                .collect();
            if limit.is_none() {
                assert_eq!(ids[2], "2025-01-01_00-00-00_small", "{ids:?}");
            } else {
                assert!(!ids.contains(&"2025-01-01_00-00-00_small"), "{ids:?}");
            }
        }
    }
    // A run folder whose name is not UTF-8 is listed, not a panic.
    use std::os::unix::ffi::OsStrExt;
    let odd = w
        .root
        .join("experiments/t/m")
        .join(std::ffi::OsStr::from_bytes(b"2025-01-01_00-00-03_\xff"));
    std::fs::create_dir_all(&odd).unwrap();
    for cmd in ["du", "ls"] {
        let out = ry(&w.root, &[cmd, "--json"]);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["runs"].as_array().unwrap().len(), 4);
    }
    w.check_canaries();
}

#[test]
fn new_run_never_writes_through_a_linked_task_folder() {
    // Review finding: create_dir_all followed a task folder linked out of
    // the tree and made the run there.
    let w = World::new();
    let outside_task = w.outside.join("task-elsewhere");
    std::fs::create_dir_all(&outside_task).unwrap();
    symlink(&outside_task, w.root.join("experiments/linked")).unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["new-run", "--task", "linked", "--model", "m", "--", "echo"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("experiments/linked"), "{stderr}");
    assert_eq!(std::fs::read_dir(&outside_task).unwrap().count(), 0);
    w.check_canaries();
}

#[test]
fn new_run_refuses_a_fifo_config_before_making_anything() {
    // Review finding: `--config FIFO` blocked for ever, leaving a run
    // folder without run_info.json.
    let w = World::new();
    let fifo = w.outside.join("config.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut cmd = common::runyard_cmd();
    cmd.arg("-C")
        .arg(&w.root)
        .args(["new-run", "--task", "t", "--model", "m", "--config"])
        .arg(&fifo)
        .args(["--", "echo"]);
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(!w.root.join("experiments/t").exists(), "nothing was made");
    // A regular config is copied whole.
    let cfg = w.outside.join("c.yaml");
    std::fs::write(&cfg, "lr: 0.1\n").unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["new-run", "--task", "t", "--model", "m", "--config"])
        .arg(&cfg)
        .args(["--", "echo"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::fs::read_dir(w.root.join("experiments/t/m"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::read(run.join("config.yaml")).unwrap(),
        b"lr: 0.1\n"
    );
    assert!(run.join("run_info.json").is_file() && run.join("tmp").is_dir());
}
