//! Safety cases: tracker notes (issue 12, item 4) and `mv` names (item 8).
//! `links --fix` rewrites notes; it must never write through a symlinked
//! folder to a file outside the tracker, and relative links are computed
//! from where a note really is.

use super::*;

/// A note that links to the run with an absolute path (something `--fix`
/// rewrites).
fn note_text(run: &Path) -> String {
    format!("# Assessment\n[run]({})\n", run.display())
}

#[test]
fn links_fix_does_not_rewrite_a_note_reached_through_a_symlinked_folder() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let tracker = w.root.parent().unwrap().join("experiment-tracker");
    // The study folder is a link to a folder outside the tracker: its note
    // is a canary.
    std::fs::create_dir_all(tracker.join("experiments")).unwrap();
    let study = w.outside.join("study");
    w.canary_text(&study.join("assessments/a.md"), &note_text(&r));
    symlink(&study, tracker.join("experiments/linked-study")).unwrap();
    // And one study whose assessments/ alone is a link.
    let other = w.outside.join("assessments");
    w.canary_text(&other.join("b.md"), &note_text(&r));
    std::fs::create_dir_all(tracker.join("experiments/s2")).unwrap();
    symlink(&other, tracker.join("experiments/s2/assessments")).unwrap();
    // A real note beside them is still fixed.
    let real = tracker.join("experiments/s3/assessments/c.md");
    write(&real, note_text(&r).as_bytes());
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["links", "--fix"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        format!("{stdout}{stderr}").contains("symbolic link, not followed"),
        "{stdout}\n{stderr}"
    );
    w.check_canaries();
    let fixed = std::fs::read_to_string(&real).unwrap();
    assert!(
        fixed.contains("(../../../../outputs/experiments/t/m/2025-01-01_00-00-00_a)"),
        "{fixed}"
    );
}

#[test]
fn links_are_computed_from_where_a_linked_tracker_really_is() {
    // The tracker folder itself may be a link (the user's choice): notes
    // are rewritten in place, and their new links resolve from there.
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    let real_tracker = w.outside.join("deeper/tracker");
    let note = real_tracker.join("experiments/s/assessments/a.md");
    write(&note, note_text(&r).as_bytes());
    let tracker = w.root.parent().unwrap().join("experiment-tracker");
    symlink(&real_tracker, &tracker).unwrap();
    let out = common::runyard_cmd()
        .arg("-C")
        .arg(&w.root)
        .args(["links", "--fix"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&note).unwrap();
    let target = text
        .split("](")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .unwrap();
    assert!(!target.starts_with('/'), "still absolute: {text}");
    let resolved = note.parent().unwrap().join(target);
    assert_eq!(
        std::fs::canonicalize(resolved).unwrap(),
        std::fs::canonicalize(&r).unwrap(),
        "{text}"
    );
}

#[test]
fn mv_refuses_hidden_and_control_character_names() {
    let mut w = World::new();
    let r = w.run("2025-01-01_00-00-00_a");
    for task in [".trash", "new\nline", "a/b", "..", ""] {
        let out = common::runyard_cmd()
            .arg("-C")
            .arg(&w.root)
            .args(["mv", "2025-01-01_00-00-00_a", "--task", task, "--yes"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{task:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a folder name"),
            "{task:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(r.join("run_info.json").exists());
    }
    assert!(!w.root.join(".trash").exists());
    assert!(!w.root.join("experiments/.trash").exists());
    w.check_canaries();
}

impl World {
    /// A text canary.
    fn canary_text(&mut self, path: &Path, text: &str) {
        write(path, text.as_bytes());
        self.canaries
            .push((path.to_path_buf(), text.as_bytes().to_vec()));
    }
}
