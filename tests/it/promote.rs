//! Promotion: every kind, versions and collisions, racing promotions, a
//! promotion killed half-way, and the README index around the user's text.

use crate::common;

use std::path::Path;

use crate::common::{demo_copy, runyard_cmd};

fn promote(root: &Path, args: &[&str]) -> std::process::Output {
    runyard_cmd()
        .arg("-C")
        .arg(root)
        .arg("promote")
        .args(args)
        .arg("--yes")
        .output()
        .unwrap()
}

#[test]
fn each_kind_lands_under_its_name_with_provenance() {
    let (_tmp, root) = demo_copy();
    for args in [
        // The demo holds this data as ocr-clean_v1 already: a second copy is asked for.
        vec!["2025-12-01_08-00-00", "--data", "--again"],
        vec!["seed42", "--plot", "confusion_matrix.png"],
        vec![
            "seed42",
            "--export",
            "checkpoints/last.pt",
            "--name",
            "crnn.pt",
        ],
        vec!["seed42", "--checkpoint", "epoch05_valAcc0.87.pt"],
    ] {
        let out = promote(&root, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A plot's name carries its run's date, not the day it was promoted.
    let today = "2025-12-04";
    for (artifact, source) in [
        (
            "artifacts/datasets/ocr-clean_v2",
            "experiments/preproc/ocr-clean/2025-12-01_08-00-00/data",
        ),
        (
            &*format!("artifacts/plots/ocr_{today}_confusion_matrix.png"),
            "experiments/ocr/crnn/2025-12-04_14-32-10_seed42/plots/confusion_matrix.png",
        ),
        (
            "artifacts/exports/crnn.pt",
            "experiments/ocr/crnn/2025-12-04_14-32-10_seed42/checkpoints/last.pt",
        ),
        (
            "checkpoints/ocr/crnn/2025-12-04_14-32-10_seed42_epoch05_valAcc0.87.pt",
            "experiments/ocr/crnn/2025-12-04_14-32-10_seed42/checkpoints/epoch05_valAcc0.87.pt",
        ),
    ] {
        let a = root.join(artifact);
        assert!(a.exists(), "{artifact}");
        let record: serde_json::Value = serde_json::from_slice(
            &std::fs::read(format!("{}.provenance.json", a.display())).unwrap(),
        )
        .unwrap();
        // The folder checksum's scheme (docs/layout.md, "Provenance records").
        assert_eq!(record["version"], 2);
        assert!(record["sha256"].as_str().unwrap().len() == 64);
        assert!(record["git_commit"].is_string() || record["git_commit"].is_null());
        if a.is_file() {
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(root.join(source)).unwrap(),
                "a byte-exact copy"
            );
        }
    }
    // The source is untouched (a copy, never a move).
    assert!(
        root.join("experiments/preproc/ocr-clean/2025-12-01_08-00-00/data")
            .is_dir()
    );
}

#[test]
fn versions_and_collisions_never_overwrite() {
    let (_tmp, root) = demo_copy();
    for _ in 0..2 {
        assert!(
            promote(&root, &["2025-12-01_08-00-00", "--data", "--again"])
                .status
                .success()
        );
    }
    assert!(root.join("artifacts/datasets/ocr-clean_v2").is_dir());
    assert!(root.join("artifacts/datasets/ocr-clean_v3").is_dir());
    let v1 = std::fs::read(root.join("artifacts/datasets/ocr-clean_v1/manifest.json")).unwrap();
    for _ in 0..2 {
        assert!(
            promote(
                &root,
                &[
                    "seed42",
                    "--export",
                    "checkpoints/last.pt",
                    "--name",
                    "m.pt",
                    "--again"
                ]
            )
            .status
            .success()
        );
    }
    assert!(
        root.join("artifacts/exports/m.pt").exists()
            && root.join("artifacts/exports/m-2.pt").exists()
    );
    assert_eq!(
        std::fs::read(root.join("artifacts/datasets/ocr-clean_v1/manifest.json")).unwrap(),
        v1
    );
    // Without --name, data of a training run needs a name.
    let out = promote(&root, &["seed42", "--data"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn racing_promotions_of_one_name_both_land_and_neither_overwrites() {
    let (_tmp, root) = demo_copy();
    let outs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    promote(
                        &root,
                        &["2025-12-01_08-00-00", "--data", "--name", "race", "--again"],
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        outs.iter().all(|o| o.status.success()),
        "{:?}",
        outs.iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect::<Vec<_>>()
    );
    for v in 1..=4 {
        let d = root.join(format!("artifacts/datasets/race_v{v}"));
        assert!(d.join("manifest.json").exists(), "race_v{v}");
        assert!(
            root.join(format!("artifacts/datasets/race_v{v}.provenance.json"))
                .exists()
        );
    }
    let readme = std::fs::read_to_string(root.join("artifacts/README.md")).unwrap();
    for v in 1..=4 {
        assert!(
            readme.contains(&format!("`datasets/race_v{v}`")),
            "the index lists race_v{v}"
        );
    }
}

#[test]
fn a_promotion_killed_half_way_leaves_no_artifact_and_is_cleaned_next_time() {
    let (_tmp, root) = demo_copy();
    let data = root.join("experiments/preproc/ocr-clean/2025-12-01_08-00-00/data");
    for i in 0..400 {
        common::write(
            &data.join(format!("shard_{i:04}.bin")),
            &vec![i as u8; 256 * 1024],
        );
    }
    runyard::demo::set_tree_mtime(&data, common::idle_time()).unwrap();
    let mut child = runyard_cmd()
        .arg("-C")
        .arg(&root)
        .args([
            "promote",
            "2025-12-01_08-00-00",
            "--data",
            "--name",
            "big",
            "--yes",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the temporary copy has started.
    let datasets = root.join("artifacts/datasets");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let tmp_started = std::fs::read_dir(&datasets)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".runyard-tmp-"));
        if tmp_started || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let names: Vec<String> = std::fs::read_dir(&datasets)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("big_v")),
        "no partial artifact is visible: {names:?}"
    );
    // The next promotion into that folder clears the dead process's temporary.
    assert!(
        promote(&root, &["2025-12-01_08-00-00", "--data", "--name", "small"])
            .status
            .success()
    );
    let names: Vec<String> = std::fs::read_dir(&datasets)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".runyard-tmp-")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "small_v1"));
}

#[test]
fn the_index_keeps_the_users_text_byte_for_byte() {
    let (_tmp, root) = demo_copy();
    let readme = root.join("artifacts/README.md");
    let before = std::fs::read_to_string(&readme).unwrap();
    let (head, rest) = before.split_once("<!-- runyard:index:start -->").unwrap();
    let (_, tail) = rest.split_once("<!-- runyard:index:end -->").unwrap();
    assert!(
        promote(&root, &["seed42", "--plot", "confusion_matrix.png"])
            .status
            .success()
    );
    let after = std::fs::read_to_string(&readme).unwrap();
    assert!(
        after.starts_with(head) && after.ends_with(tail),
        "text outside the markers is unchanged"
    );
    assert!(after.contains("confusion_matrix.png` | plot |"));
    // A README without markers gets an index appended; a missing one is created.
    std::fs::write(&readme, "# Mine\nkeep me\n").unwrap();
    assert!(
        promote(
            &root,
            &["seed42", "--plot", "train_loss_curve.png", "--again"]
        )
        .status
        .success()
    );
    let after = std::fs::read_to_string(&readme).unwrap();
    assert!(
        after.starts_with("# Mine\nkeep me\n") && after.contains("<!-- runyard:index:start -->")
    );
    std::fs::remove_file(&readme).unwrap();
    assert!(
        promote(
            &root,
            &["seed42", "--plot", "train_loss_curve.png", "--again"]
        )
        .status
        .success()
    );
    assert!(
        std::fs::read_to_string(&readme)
            .unwrap()
            .contains("Naming conventions")
    );
}

#[test]
fn a_target_name_cannot_leave_artifacts() {
    let (_tmp, root) = demo_copy();
    for name in ["../../escaped.png", "sub/dir.png", "..", ".hidden.png", ""] {
        let out = promote(
            &root,
            &["seed42", "--plot", "confusion_matrix.png", "--name", name],
        );
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("one plain file name"), "{name:?}: {err}");
    }
    assert!(!root.parent().unwrap().join("escaped.png").exists());
    assert!(!root.join("escaped.png").exists());
    let plots: Vec<_> = std::fs::read_dir(root.join("artifacts/plots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !plots
            .iter()
            .any(|n| n.to_string_lossy().contains("dir.png")),
        "{plots:?}"
    );
}

#[test]
fn the_same_bytes_are_not_promoted_twice_without_again() {
    let (_tmp, root) = demo_copy();
    // The demo's ocr-clean_v1 holds this run's data (its record's sha256).
    let out = promote(&root, &["2025-12-01_08-00-00", "--data"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already promoted as ocr-clean_v1") && err.contains("--again"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Note: the same bytes (sha256)"), "{stdout}");
    assert!(!root.join("artifacts/datasets/ocr-clean_v2").exists());
    // A file promoted once is refused the second time, under any name.
    let args = ["seed42", "--plot", "confusion_matrix.png"];
    assert!(promote(&root, &args).status.success());
    let out = promote(&root, &[&args[..], &["--name", "other.png"]].concat());
    assert_eq!(out.status.code(), Some(2), "{:?}", out);
    assert!(!root.join("artifacts/plots/other.png").exists());
    // Different bytes under a promoted name's size are not a duplicate.
    let plot =
        root.join("experiments/ocr/crnn/2025-12-04_14-32-10_seed42/plots/confusion_matrix.png");
    let mut bytes = std::fs::read(&plot).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&plot, &bytes).unwrap();
    assert!(
        promote(&root, &[&args[..], &["--name", "changed.png"]].concat())
            .status
            .success()
    );
    // --again makes the second copy on purpose.
    let out = promote(&root, &["2025-12-01_08-00-00", "--data", "--again"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(root.join("artifacts/datasets/ocr-clean_v2").is_dir());
}

#[test]
fn the_picker_shows_an_earlier_promotion_and_asks_twice() {
    use crate::tui::{app_for, go, press, render};
    let (_tmp, root) = demo_copy();
    let mut app = app_for(&root);
    go(&mut app, "preproc/ocr-clean/2025-12-01_08-00-00");
    press(&mut app, "p");
    let picker = app.picker().expect("the picker is open");
    assert_eq!(picker.run.name, "2025-12-01_08-00-00");
    let screen = render(&mut app, 80, 24);
    assert!(
        screen.contains("the same bytes: already promoted as ocr-clean_v1"),
        "{screen}"
    );
    // The destination is whole inside the popup.
    assert!(
        screen.contains("→ artifacts/datasets/ocr-clean_v2 "),
        "{screen}"
    );
    insta::assert_snapshot!("promote_already_80x24", screen);
    // One y explains, a second one copies.
    press(&mut app, "y");
    assert!(app.picker().is_some(), "the first y only asks");
    let msg = &app.message.as_ref().unwrap().0;
    assert!(msg.contains("y again makes a second copy"), "{msg}");
    assert!(!root.join("artifacts/datasets/ocr-clean_v2").exists());
    press(&mut app, "y");
    assert!(app.picker().is_none());
    assert!(root.join("artifacts/datasets/ocr-clean_v2").is_dir());
}

#[test]
fn the_name_editor_moves_and_deletes_words() {
    use crate::tui::{app_for, go, press};
    use runyard::tui::keymap::Action;
    use runyard::tui::msg::Msg;
    let (_tmp, root) = demo_copy();
    let mut app = app_for(&root);
    go(&mut app, "preproc/ocr-clean/2025-12-01_08-00-00");
    press(&mut app, "pe");
    assert_eq!(app.picker().unwrap().editing.as_deref(), Some("ocr-clean"));
    // Home, then type at the start; End, Ctrl-w drops the last word.
    app.send(Msg::Key(Action::CursorHome));
    press(&mut app, "v2-");
    assert_eq!(
        app.picker().unwrap().editing.as_deref(),
        Some("v2-ocr-clean")
    );
    app.send(Msg::Key(Action::CursorEnd));
    app.send(Msg::Key(Action::DeleteWord));
    assert_eq!(app.picker().unwrap().editing.as_deref(), Some("v2-ocr-"));
    app.send(Msg::Key(Action::CursorLeft));
    app.send(Msg::Key(Action::Erase));
    assert_eq!(app.picker().unwrap().editing.as_deref(), Some("-"));
    press(&mut app, "\x1b");
    assert!(app.picker().unwrap().editing.is_none());
}

#[test]
fn a_folder_record_of_the_old_checksum_scheme_is_not_taken_for_the_same_bytes() {
    // Version 1 records hashed a folder as a text listing that names could
    // forge: such a record is not compared, so it can neither refuse a
    // different folder nor claim this one (the file checksum is the same
    // under both schemes and still compared).
    let (_tmp, root) = demo_copy();
    let record = root.join("artifacts/datasets/ocr-clean_v1.provenance.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    doc["version"] = 1.into();
    // The checksum the old scheme gave this very folder.
    doc["sha256"] = "b4fc9e74be0bab3181ca86d136a324cc0fa0a5256a0626b242eaa425ec50da03".into();
    std::fs::write(&record, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = promote(&root, &["2025-12-01_08-00-00", "--data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(root.join("artifacts/datasets/ocr-clean_v2").is_dir());
    // The new record is of the current scheme and is compared next time.
    let out = promote(&root, &["2025-12-01_08-00-00", "--data"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already promoted as ocr-clean_v2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
