//! Fixture helpers shared by the integration tests.
#![allow(dead_code)]

pub mod formats;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A scratch copy of the demo tree, dated so no run is active. Returns the
/// temp dir (keep it alive) and the copy's `outputs/`.
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = runyard::demo::materialize_from(&runyard::demo::demo_source(), Some(tmp.path()))
        .expect("demo copy");
    (tmp, root)
}

/// An hour ago: old enough that a run is not active.
pub fn idle_time() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

/// Writes a file (creating folders) and returns its length.
pub fn write(path: &Path, bytes: &[u8]) -> u64 {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    bytes.len() as u64
}

/// Allocated bytes of everything under `path`, links not followed, hard
/// links once: the test's own count to check the scanner against.
pub fn du(path: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let (mut disk, mut apparent) = (0, 0);
    for e in walkdir::WalkDir::new(path).follow_links(false) {
        let md = e.unwrap().metadata().unwrap();
        if md.nlink() > 1 && !md.is_dir() && !seen.insert((md.dev(), md.ino())) {
            continue;
        }
        disk += md.blocks() * 512;
        apparent += md.len();
    }
    (disk, apparent)
}

/// The real binary, with no user config in the way.
pub fn runyard_cmd() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("runyard"));
    c.env("XDG_CONFIG_HOME", "/nonexistent/runyard-tests");
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("runyard-tests-cache"),
    );
    c
}
pub mod sources;
