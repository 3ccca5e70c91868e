//! What the tracker and the artifacts say about runs, read in the
//! background: tracker notes that link to each run, artifacts promoted
//! from it, and where it strays from the layout.

use std::collections::HashMap;
use std::path::PathBuf;

/// What the tracker and the artifacts say about runs, read in the background.
#[derive(Debug, Default)]
pub struct Notes {
    /// Tracker notes that link to each run (by run folder).
    pub backlinks: HashMap<PathBuf, Vec<Backlink>>,
    /// Artifacts promoted from each run (by run folder).
    pub promoted_from: HashMap<PathBuf, Vec<PathBuf>>,
    /// Where each run strays from the layout (by run folder).
    pub findings: HashMap<PathBuf, Vec<crate::check::Finding>>,
}

/// A tracker note that links to a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlink {
    /// The note.
    pub file: PathBuf,
    /// The heading above the link.
    pub heading: Option<String>,
    /// True for an incident report.
    pub incident: bool,
}

/// What the run pane shows beside the tracker notes, read off the disk in the
/// background: artifacts promoted from each run, and where each run strays
/// from the layout (the `runyard check` findings), both by run folder.
pub type LayoutNotes = (
    HashMap<PathBuf, Vec<PathBuf>>,
    HashMap<PathBuf, Vec<crate::check::Finding>>,
);

/// Reads the promotions and layout findings of every run in `catalog`.
pub fn layout_notes(catalog: &crate::catalog::Catalog) -> LayoutNotes {
    let root = &catalog.root;
    let promoted = crate::ops::promote::promoted_from(root)
        .into_iter()
        .map(|(run, list)| (root.join(run), list))
        .collect();
    let mut findings = HashMap::new();
    for k in catalog.run_keys() {
        let r = &catalog.runs[k];
        let rel = r.path.strip_prefix(root).unwrap_or(&r.path);
        let f = crate::check::run_findings_for(catalog.source, &r.path, rel, &r.name);
        if !f.is_empty() {
            findings.insert(r.path.clone(), f);
        }
    }
    (promoted, findings)
}

/// Groups checked links by the run they point to.
pub fn backlinks_of(
    checked: &[crate::tracker::Checked],
    root: &std::path::Path,
) -> HashMap<PathBuf, Vec<Backlink>> {
    let mut out: HashMap<PathBuf, Vec<Backlink>> = HashMap::new();
    for c in checked {
        let Some(run) = &c.run else { continue };
        let b = Backlink {
            file: c.link.file.clone(),
            heading: c.link.heading.clone(),
            incident: c
                .link
                .file
                .components()
                .any(|x| x.as_os_str() == "incident_reports"),
        };
        let list = out.entry(root.join(run)).or_default();
        if !list.contains(&b) {
            list.push(b);
        }
    }
    // Incident reports first: they are why a run matters.
    for list in out.values_mut() {
        list.sort_by_key(|b| !b.incident);
    }
    out
}
