//! The bundled demo tree, copied somewhere safe to play with, and a
//! generator of synthetic trees of any size for tests and benchmarks.

use std::fs::{File, FileTimes};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};

/// Where the demo tree lives in the source checkout.
pub fn demo_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo")
}

/// Sets the modification (and access) time of one file, folder or link;
/// a link gets its own time, never its target's.
pub fn set_mtime(path: &Path, time: SystemTime) -> std::io::Result<()> {
    let d = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let ts = rustix::fs::Timespec {
        tv_sec: d.as_secs() as i64,
        tv_nsec: d.subsec_nanos() as _,
    };
    let times = rustix::fs::Timestamps {
        last_access: ts,
        last_modification: ts,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &times,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )?;
    Ok(())
}

/// Sets the time of everything under `path` (folders last, so creating
/// their children does not bump them again).
pub fn set_tree_mtime(path: &Path, time: SystemTime) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(path)
        .contents_first(true)
        .follow_links(false)
    {
        let entry = entry.map_err(std::io::Error::other)?;
        set_mtime(entry.path(), time)?;
    }
    Ok(())
}

/// Copies a folder tree (files, folders and symlinks as links).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .expect("walkdir stays under its root");
        let dest = to.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Writes the demo tree carried in the binary (`assets/demo/` at build
/// time) into `dir` (default: a new folder under the temp dir) and dates
/// each run's files from `times.json`, so it does not look like a tree of
/// active runs. Works from an installed binary. Returns the copy's `outputs/`.
pub fn materialize(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = target_dir(dir)?;
    let mut times = None;
    for (rel, bytes) in embedded::DEMO_FILES {
        if *rel == "times.json" {
            times = Some(*bytes);
            continue;
        }
        if !(rel.starts_with("outputs/") || rel.starts_with("experiment-tracker/")) {
            continue;
        }
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing the demo {rel}"))?;
    }
    let times = times.context("the binary carries no demo times.json")?;
    date_demo(&dir, times)
}

/// Copies the demo tree from a folder (the checkout's `assets/demo/`), as
/// [`materialize`] does from the binary's copy.
pub fn materialize_from(src: &Path, dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if !src.join("outputs").is_dir() {
        bail!("the demo tree is not at {}", src.display());
    }
    let dir = target_dir(dir)?;
    for part in ["outputs", "experiment-tracker"] {
        if src.join(part).exists() {
            copy_tree(&src.join(part), &dir.join(part))
                .with_context(|| format!("copying the demo {part}"))?;
        }
    }
    date_demo(
        &dir,
        &std::fs::read(src.join("times.json")).context("reading times.json")?,
    )
}

/// The folder a demo copy goes to: `dir`, else a new one under the temp
/// dir; refused when it already holds an `outputs/`.
fn target_dir(dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let stamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            std::env::temp_dir().join(format!("runyard-demo-{}-{stamp}", std::process::id()))
        }
    };
    if dir.join("outputs").exists() {
        bail!(
            "{} already exists; choose an empty folder",
            dir.join("outputs").display()
        );
    }
    Ok(dir)
}

/// Dates the copy in `dir` from `times.json` (run → time).
fn date_demo(dir: &Path, times: &[u8]) -> anyhow::Result<PathBuf> {
    let outputs = dir.join("outputs");
    let times: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(times).context("parsing times.json")?;
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut dated = Vec::new();
    for (rel, when) in &times {
        let ts: jiff::Timestamp = when
            .as_str()
            .unwrap_or_default()
            .parse()
            .with_context(|| format!("times.json: bad time for {rel}"))?;
        let t = SystemTime::try_from(ts)
            .with_context(|| format!("times.json: time out of range for {rel}"))?;
        newest = newest.max(t);
        dated.push((outputs.join(rel), t));
    }
    // Everything else (artifacts, long-term checkpoints, logs) dates from
    // just after the newest run; then each run gets its own time.
    set_tree_mtime(dir, newest + Duration::from_secs(3600))?;
    for (path, t) in dated {
        set_tree_mtime(&path, t)?;
    }
    Ok(outputs)
}

/// The shape of a generated tree.
#[derive(Debug, Clone)]
pub struct GenSpec {
    /// Tasks.
    pub tasks: usize,
    /// Models per task.
    pub models: usize,
    /// Runs per model.
    pub runs: usize,
    /// Files in each run's `cache/`.
    pub cache_files: usize,
    /// Files in each run's `tmp/`.
    pub tmp_files: usize,
    /// Epoch checkpoints per run (plus `best.pt` and `last.pt`).
    pub checkpoints: usize,
}

impl Default for GenSpec {
    fn default() -> Self {
        GenSpec {
            tasks: 4,
            models: 5,
            runs: 10,
            cache_files: 30,
            tmp_files: 3,
            checkpoints: 4,
        }
    }
}

/// A small deterministic generator (xorshift), so generated trees are the
/// same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The time every generated file carries: old enough that no run is active.
fn generated_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000)
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    let t = generated_time();
    f.set_times(FileTimes::new().set_modified(t).set_accessed(t))
}

/// Writes a synthetic outputs tree under `dir` (which must not exist) and
/// returns how many entries it holds. Tasks are written in parallel.
pub fn generate(dir: &Path, spec: &GenSpec) -> anyhow::Result<u64> {
    if dir.exists() {
        bail!(
            "{} exists; the generator only writes new folders",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("experiments"))?;
    for top in [
        "checkpoints",
        "logs",
        "artifacts/datasets",
        "artifacts/plots",
        "artifacts/exports",
    ] {
        std::fs::create_dir_all(dir.join(top))?;
    }
    write_file(&dir.join("logs/cron.log"), b"nightly cleanup ok\n")?;
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(spec.tasks.max(1));
    let counts: Vec<anyhow::Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                s.spawn(move || {
                    let mut n = 0;
                    for t in (w..spec.tasks).step_by(threads) {
                        n += generate_task(dir, spec, t)?;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread"))
            .collect()
    });
    // The root, experiments/, the five other top-level folders, cron.log.
    let mut total = 9;
    for c in counts {
        total += c?;
    }
    set_tree_mtime_dirs(dir)?;
    Ok(total)
}

/// Dates the folders of a generated tree (files were dated as written).
fn set_tree_mtime_dirs(dir: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(dir).contents_first(true) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_dir() {
            set_mtime(entry.path(), generated_time())?;
        }
    }
    Ok(())
}

fn generate_task(dir: &Path, spec: &GenSpec, t: usize) -> anyhow::Result<u64> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let task = format!("task{t:02}");
    let mut n = 1;
    for m in 0..spec.models {
        let model = format!("model{m:02}");
        n += 1;
        for r in 0..spec.runs {
            let day = 1 + (r * 7 + m) % 28;
            let run_id = format!(
                "2025-{:02}-{day:02}_{:02}-{:02}-{:02}_seed{r}",
                1 + (t + m) % 12,
                r % 24,
                m % 60,
                t % 60
            );
            let run = dir
                .join("experiments")
                .join(&task)
                .join(&model)
                .join(&run_id);
            n += generate_run(&run, spec, &mut rng, &task, &model)?;
        }
    }
    Ok(n)
}

fn generate_run(
    run: &Path,
    spec: &GenSpec,
    rng: &mut Rng,
    task: &str,
    model: &str,
) -> anyhow::Result<u64> {
    for sub in ["logs", "metrics", "checkpoints", "plots", "tmp", "cache"] {
        std::fs::create_dir_all(run.join(sub))?;
    }
    let mut n = 7;
    let acc = 0.5 + 0.45 * rng.unit();
    let loss = 1.5 * (1.0 - acc) + 0.05 * rng.unit();
    write_file(
        &run.join("config.yaml"),
        format!(
            "task: {task}\nmodel: {model}\nlr: 0.0003\nbatch_size: 64\nepochs: {}\n",
            spec.checkpoints
        )
        .as_bytes(),
    )?;
    write_file(
        &run.join("run_info.json"),
        format!(
            "{{\"command\": \"python train.py --task {task} --model {model}\", \"git_commit\": \"{:040x}\", \"seeds\": [{}], \"metrics\": {{\"val/acc\": {acc:.4}, \"val/loss\": {loss:.4}}}, \"notes\": \"generated\", \"status\": \"finished\"}}\n",
            rng.next() as u128, rng.next() % 1000
        )
        .as_bytes(),
    )?;
    write_file(
        &run.join("logs/train.log"),
        &vec![b'.'; 2000 + (rng.next() % 4000) as usize],
    )?;
    write_file(
        &run.join("metrics/val_metrics.json"),
        format!("{{\"acc\": {acc:.4}, \"loss\": {loss:.4}}}\n").as_bytes(),
    )?;
    let mut csv = String::from("epoch,loss,acc\n");
    for e in 1..=spec.checkpoints.max(1) {
        let f = e as f64 / spec.checkpoints.max(1) as f64;
        csv.push_str(&format!(
            "{e},{:.4},{:.4}\n",
            loss / f.sqrt(),
            acc * f.sqrt()
        ));
    }
    write_file(&run.join("metrics/train_metrics.csv"), csv.as_bytes())?;
    n += 5;
    write_file(&run.join("plots/loss.png"), TINY_PNG)?;
    n += 1;
    let blob =
        |rng: &mut Rng, min: u64, spread: u64| vec![0xa5u8; (min + rng.next() % spread) as usize];
    for e in 1..=spec.checkpoints {
        write_file(
            &run.join(format!("checkpoints/epoch{e:02}.pt")),
            &blob(rng, 4096, 8192),
        )?;
        n += 1;
    }
    for name in ["best.pt", "last.pt"] {
        write_file(&run.join("checkpoints").join(name), &blob(rng, 4096, 8192))?;
        n += 1;
    }
    for i in 0..spec.tmp_files {
        write_file(
            &run.join(format!("tmp/batch_{i:04}.pt")),
            &blob(rng, 512, 4096),
        )?;
        n += 1;
    }
    for i in 0..spec.cache_files {
        write_file(
            &run.join(format!("cache/features_{i:04}.npy")),
            &blob(rng, 256, 2048),
        )?;
        n += 1;
    }
    Ok(n)
}

/// A valid 1×1 PNG, so generated plots decode.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[cfg(test)]
mod embed_tests {
    use super::*;

    #[test]
    fn the_embedded_demo_is_the_checkout_demo() {
        // An installed binary has only the embedded copy: it must hold the
        // same tree, dated the same way, as the checkout's assets/demo/.
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let from_binary = materialize(Some(a.path())).unwrap();
        let from_folder = materialize_from(&demo_source(), Some(b.path())).unwrap();
        let files = |root: &Path| -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
            let mut v: Vec<_> = walkdir::WalkDir::new(root.parent().unwrap())
                .into_iter()
                .flatten()
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    let rel = e.path().strip_prefix(root.parent().unwrap()).unwrap();
                    let md = e.metadata().unwrap();
                    (
                        rel.to_path_buf(),
                        std::fs::read(e.path()).unwrap(),
                        md.modified().unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let (x, y) = (files(&from_binary), files(&from_folder));
        assert!(x.len() > 100, "{} files", x.len());
        assert!(x == y, "the embedded demo differs from assets/demo");
    }
}
