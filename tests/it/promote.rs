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
        vec!["2025-12-01_08-00-00", "--data"],
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
    let today = jiff::ZonedDateTime::now().date().to_string();
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
        assert_eq!(record["version"], 1);
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
            promote(&root, &["2025-12-01_08-00-00", "--data"])
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
                    "m.pt"
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
                s.spawn(|| promote(&root, &["2025-12-01_08-00-00", "--data", "--name", "race"]))
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
        promote(&root, &["seed42", "--plot", "train_loss_curve.png"])
            .status
            .success()
    );
    let after = std::fs::read_to_string(&readme).unwrap();
    assert!(
        after.starts_with("# Mine\nkeep me\n") && after.contains("<!-- runyard:index:start -->")
    );
    std::fs::remove_file(&readme).unwrap();
    assert!(
        promote(&root, &["seed42", "--plot", "train_loss_curve.png"])
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
