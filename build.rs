//! Embeds the demo tree (`assets/demo/`) in the binary, so `runyard demo`
//! works from an installed binary, far from the source checkout.

use std::path::Path;

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build
    // script compiled in another checkout would embed that checkout's demo.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("assets/demo");
    println!("cargo::rerun-if-changed=assets/demo");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut code = String::from("/// The demo tree's files: (path under assets/demo, bytes).\n");
    code.push_str("pub static DEMO_FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        code.push_str(&format!("    ({rel:?}, include_bytes!({abs:?})),\n"));
    }
    code.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("demo_files.rs");
    std::fs::write(out, code).expect("writing the demo file list");
}

/// Every regular file under `dir`, as (path relative to `root`, absolute path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let list = std::fs::read_dir(dir).expect("listing assets/demo");
    for e in list {
        let e = e.expect("listing assets/demo");
        let path = e.path();
        let kind = e.file_type().expect("file type");
        // Rerun when a folder gains or loses a file, not only on edits.
        println!("cargo::rerun-if-changed={}", path.display());
        if kind.is_dir() {
            collect(root, &path, out);
        } else if kind.is_file() {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push((
                rel.to_str().expect("demo file names are UTF-8").to_string(),
                path.to_str()
                    .expect("the checkout path is UTF-8")
                    .to_string(),
            ));
        }
    }
}
