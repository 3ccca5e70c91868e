//! Tracker links: every form of link, check, fix (byte-exact), and mv.

use std::path::{Path, PathBuf};

use crate::common::{idle_time, runyard_cmd, write};

/// A tree with runs and a tracker whose notes link to them in every form.
fn world() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    let root = base.join("outputs");
    for run in [
        "ocr/crnn/2025-01-01_00-00-00_a",
        "ocr/crnn/2025-01-02_00-00-00_b c",
        "ocr/vit/2025-01-03_00-00-00_moved",
    ] {
        let r = root.join("experiments").join(run);
        write(&r.join("run_info.json"), b"{}");
        write(&r.join("plots/loss curve.png"), b"png");
    }
    // A note inside a run, linking to a sibling run.
    write(
        &root.join("experiments/ocr/crnn/2025-01-01_00-00-00_a/README.md"),
        b"# Run a\nCompare with [b](../2025-01-02_00-00-00_b%20c/).\n",
    );
    let abs = root.join("experiments/ocr/crnn/2025-01-01_00-00-00_a");
    let note = format!(
        "# Assessment\n\n## Results\n\
         Inline [run a](../../../../outputs/experiments/ocr/crnn/2025-01-01_00-00-00_a/) here.\n\
         Angle [run b](<../../../../outputs/experiments/ocr/crnn/2025-01-02_00-00-00_b c/plots/loss curve.png>).\n\
         Encoded [b again](../../../../outputs/experiments/ocr/crnn/2025-01-02_00-00-00_b%20c/#top).\n\
         Old place [moved run](../../../../outputs/experiments/ocr/old-model/2025-01-03_00-00-00_moved/plots/loss%20curve.png).\n\
         Absolute [abs]({}).\n\
         Reference [ref link][r] and [again][r].\n\
         Gone [nothing](../../../../outputs/experiments/ocr/crnn/2024-12-31_00-00-00_never/).\n\
         Outside [spec](../../../../docs/spec.md) and [web](https://example.org/a).\n\
         In code: `[x](../../../../outputs/experiments/nope/)`\n\n\
         ```\n[fenced](../../../../outputs/experiments/ocr/crnn/2025-01-01_00-00-00_a/)\n```\n\n\
         [r]: ../../../../outputs/experiments/ocr/vit/2025-01-03_00-00-00_moved/ \"title\"\n",
        abs.display()
    );
    let tracker = base.join("experiment-tracker");
    write(
        &tracker.join("experiments/ocr-study/assessments/a.md"),
        note.as_bytes(),
    );
    write(
        &tracker.join("experiments/ocr-study/incident_reports/i.md"),
        b"# Incident\n[a](../../../../outputs/experiments/ocr/crnn/2025-01-01_00-00-00_a/)\n",
    );
    runyard::demo::set_tree_mtime(&root, idle_time()).unwrap();
    (tmp, root, tracker)
}

fn links_json(root: &Path, extra: &[&str]) -> (serde_json::Value, i32) {
    let out = runyard_cmd()
        .arg("-C")
        .arg(root)
        .args(["links", "--json"])
        .args(extra)
        .output()
        .unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn statuses(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_form_is_read_and_checked() {
    let (_tmp, root, _) = world();
    let (doc, code) = links_json(&root, &[]);
    assert_eq!(code, 1, "broken links fail the check");
    let s = statuses(&doc);
    let status_of = |needle: &str| {
        s.iter()
            .find(|(t, _)| t.contains(needle))
            .map(|(_, st)| st.as_str())
            .unwrap_or("missing")
    };
    assert_eq!(status_of("crnn/2025-01-01_00-00-00_a/"), "ok");
    assert_eq!(
        status_of("b c/plots/loss curve.png"),
        "ok",
        "angle brackets with spaces"
    );
    assert_eq!(
        status_of("b%20c/#top"),
        "ok",
        "percent-encoded with a fragment"
    );
    assert_eq!(status_of("old-model/"), "recoverable");
    let absolute = s
        .iter()
        .find(|(t, _)| t.starts_with('/'))
        .map(|(_, st)| st.as_str());
    assert_eq!(absolute, Some("absolute"));
    assert_eq!(
        status_of("vit/2025-01-03_00-00-00_moved/"),
        "ok",
        "reference definition"
    );
    assert_eq!(status_of("never"), "broken");
    assert_eq!(status_of("b%20c/"), "ok", "from a note inside a run");
    assert!(
        !s.iter()
            .any(|(t, _)| t.contains("docs/spec.md") || t.contains("example.org")),
        "links outside are left alone"
    );
    assert!(
        !s.iter().any(|(t, _)| t.contains("nope")),
        "a code span is not a link"
    );
    assert_eq!(
        s.iter()
            .filter(|(t, _)| t.ends_with("crnn/2025-01-01_00-00-00_a/"))
            .count(),
        2,
        "inline + incident; the fenced one is not a link"
    );
}

#[test]
fn fix_rewrites_only_the_targets_and_reports_what_it_cannot_fix() {
    let (_tmp, root, tracker) = world();
    let note = tracker.join("experiments/ocr-study/assessments/a.md");
    let before = std::fs::read(&note).unwrap();
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["links", "--fix", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(
        std::fs::read(&note).unwrap(),
        before,
        "a dry run writes nothing"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Dry run: 2 links"));
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["links", "--fix"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one link stays broken: {text}");
    assert!(
        text.contains("still broken:") && text.contains("never"),
        "{text}"
    );
    let after = String::from_utf8(std::fs::read(&note).unwrap()).unwrap();
    let before = String::from_utf8(before).unwrap();
    let abs = root.join("experiments/ocr/crnn/2025-01-01_00-00-00_a");
    // Exactly two targets changed; every other byte is the same.
    let expected = before
        .replace(
            "../../../../outputs/experiments/ocr/old-model/2025-01-03_00-00-00_moved/plots/loss%20curve.png",
            "../../../../outputs/experiments/ocr/vit/2025-01-03_00-00-00_moved/plots/loss%20curve.png",
        )
        .replace(&format!("[abs]({})", abs.display()), "[abs](../../../../outputs/experiments/ocr/crnn/2025-01-01_00-00-00_a)");
    assert_eq!(after, expected);
    let (doc, _) = links_json(&root, &[]);
    let s = statuses(&doc);
    assert_eq!(s.iter().filter(|(_, st)| st != "ok").count(), 1, "{s:?}");
}

#[test]
fn mv_moves_the_run_and_its_links_then_all_are_ok() {
    let (_tmp, root, tracker) = world();
    // Drop the deliberately broken and stale links so the after-check is clean.
    let note = tracker.join("experiments/ocr-study/assessments/a.md");
    let text = std::fs::read_to_string(&note).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.contains("never") && !l.contains("old-model"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&note, text).unwrap();
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args(["mv", "2025-01-01_00-00-00_a", "--task", "ocr-v2", "--yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let moved = root.join("experiments/ocr-v2/crnn/2025-01-01_00-00-00_a");
    assert!(moved.join("run_info.json").exists());
    assert!(
        !root
            .join("experiments/ocr/crnn/2025-01-01_00-00-00_a")
            .exists()
    );
    let incident =
        std::fs::read_to_string(tracker.join("experiments/ocr-study/incident_reports/i.md"))
            .unwrap();
    assert!(
        incident.contains("(../../../../outputs/experiments/ocr-v2/crnn/2025-01-01_00-00-00_a/)"),
        "{incident}"
    );
    // The moved run's own note still reaches its sibling.
    let readme = std::fs::read_to_string(moved.join("README.md")).unwrap();
    assert!(
        readme.contains("(../../../ocr/crnn/2025-01-02_00-00-00_b%20c/)"),
        "{readme}"
    );
    let (doc, code) = links_json(&root, &[]);
    let s = statuses(&doc);
    assert!(
        s.iter().all(|(_, st)| st == "ok" || st == "absolute"),
        "{s:?}"
    );
    assert_eq!(code, 0);
    // Moving onto an existing run is refused.
    std::fs::create_dir_all(root.join("experiments/ocr/vit/2025-01-02_00-00-00_b c")).unwrap();
    let out = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args([
            "mv",
            "ocr/crnn/2025-01-02_00-00-00_b c",
            "--task",
            "ocr",
            "--model",
            "vit",
            "--yes",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists: not overwritten"));
}

#[test]
fn a_move_across_filesystems_copies_checks_then_deletes() {
    // The same steps `mv` takes when rename says EXDEV, run directly.
    let tmp = tempfile::tempdir().unwrap();
    let from = tmp.path().join("a/run");
    write(&from.join("logs/train.log"), b"step 1\n");
    write(&from.join("checkpoints/best.pt"), &[7; 70_000]);
    std::os::unix::fs::symlink("/etc/hostname", from.join("link")).unwrap();
    let to = tmp.path().join("b/run");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    runyard::ops::move_by_copy(&from, &to).unwrap();
    assert!(!from.exists());
    assert_eq!(
        std::fs::read(to.join("checkpoints/best.pt")).unwrap(),
        vec![7; 70_000]
    );
    assert_eq!(
        std::fs::read_link(to.join("link")).unwrap(),
        Path::new("/etc/hostname"),
        "links copied as links"
    );
    // Onto an existing run: refused, and the source stays.
    write(&from.join("x"), b"1");
    assert!(runyard::ops::move_by_copy(&from, &to).is_err());
    assert!(from.join("x").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("b"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temporary copy left behind: {leftovers:?}"
    );
}
