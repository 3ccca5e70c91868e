//! Experiment-tracker links: Markdown notes that point to runs. Read with a
//! real Markdown parser (a link in a code span or fence is not a link),
//! checked against the catalog, and rewritten as relative links touching
//! only the bytes of each target.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::ops::Range;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use rustix::fs::{Mode, OFlags};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::layout;

/// Where the tracker is: `--tracker`, else the config's `tracker`
/// (relative to the folder holding outputs/), else `experiment-tracker/` there.
pub fn find_tracker(root: &Path, given: Option<&Path>) -> PathBuf {
    let base = root.parent().unwrap_or(root);
    match given {
        Some(p) if p.is_absolute() => p.to_path_buf(),
        Some(p) => base.join(p),
        None => base.join("experiment-tracker"),
    }
}

/// The Markdown notes that may link to runs: the tracker's
/// `experiments/*/{assessments,incident_reports}/**/*.md`, and every run's
/// own `README.md`.
pub fn notes(tracker: &Path, catalog: &Catalog) -> Vec<PathBuf> {
    find_notes(tracker, catalog).0
}

/// The notes (see [`notes`]), and what was left out and why: a folder or
/// note that is a symbolic link is not followed, since a rewrite through it
/// would change a file outside the tracker, with links computed from the
/// wrong place.
pub fn find_notes(tracker: &Path, catalog: &Catalog) -> (Vec<PathBuf>, Vec<String>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let not_followed = |p: &Path| format!("{}: a symbolic link, not followed", p.display());
    // The tracker folder itself is the user's choice and may be a link:
    // links are computed from where it really is.
    let tracker = std::fs::canonicalize(tracker).unwrap_or_else(|_| tracker.to_path_buf());
    let experiments = tracker.join("experiments");
    if is_link(&experiments) {
        skipped.push(not_followed(&experiments));
    } else if let Ok(list) = std::fs::read_dir(&experiments) {
        let mut dirs = Vec::new();
        for e in list.flatten() {
            match e.file_type() {
                Ok(t) if t.is_symlink() => skipped.push(not_followed(&e.path())),
                Ok(t) if t.is_dir() => dirs.push(e.path()),
                _ => {}
            }
        }
        dirs.sort();
        for exp in dirs {
            for kind in ["assessments", "incident_reports"] {
                let dir = exp.join(kind);
                if is_link(&dir) {
                    skipped.push(not_followed(&dir));
                    continue;
                }
                for e in walkdir::WalkDir::new(dir)
                    .follow_links(false)
                    .sort_by_file_name()
                    .into_iter()
                    .flatten()
                {
                    if e.file_type().is_file()
                        && e.path()
                            .extension()
                            .is_some_and(|x| x.eq_ignore_ascii_case("md"))
                    {
                        out.push(e.into_path());
                    }
                }
            }
        }
    }
    for k in catalog.run_keys() {
        let readme = catalog.runs[k].path.join("README.md");
        match std::fs::symlink_metadata(&readme) {
            Ok(m) if m.file_type().is_symlink() => skipped.push(not_followed(&readme)),
            Ok(m) if m.is_file() => out.push(readme),
            _ => {}
        }
    }
    (out, skipped)
}

/// The largest note read: Markdown notes are a few KiB.
const NOTE_CAP: u64 = 16 << 20;

/// Opens `name` in the open folder `dir` for reading: never through a link,
/// only a regular file (a FIFO would block), under the size cap.
fn open_note_at(dir: BorrowedFd, name: &OsStr) -> std::io::Result<(std::fs::File, u32)> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(std::io::Error::other("not a regular file"));
    }
    if st.st_size as u64 > NOTE_CAP {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB: not read as a note",
            NOTE_CAP >> 20
        )));
    }
    Ok((std::fs::File::from(fd), st.st_mode as u32))
}

/// Reads a note found by [`find_notes`] (its own name not followed if it
/// became a link since).
fn read_note(file: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let (dir, name) = match (file.parent(), file.file_name()) {
        (Some(d), Some(n)) => (d, n),
        _ => return Err(std::io::Error::other("not a file path")),
    };
    let dir = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let (f, _) = open_note_at(dir.as_fd(), name)?;
    let mut text = String::new();
    f.take(NOTE_CAP).read_to_string(&mut text)?;
    Ok(text)
}

/// How a link is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// `[text](target)`.
    Inline,
    /// `[text][ref]` with `[ref]: target` elsewhere (the definition is what changes).
    Reference,
    /// `<target>`.
    Autolink,
}

/// One link found in a note.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The note.
    pub file: PathBuf,
    /// 1-based line of the target.
    pub line: usize,
    /// The nearest heading above it.
    pub heading: Option<String>,
    /// The link text.
    pub text: String,
    /// The target as written (no angle brackets).
    pub target: String,
    /// Byte range of the target in the file.
    #[serde(skip)]
    pub span: Range<usize>,
    /// How it is written.
    pub form: Form,
}

/// Reads every link of a Markdown text.
pub fn parse_links(file: &Path, text: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut heading: Option<String> = None;
    let mut in_heading: Option<String> = None;
    let mut open: Option<(String, Form, Range<usize>, String)> = None; // target, form, link range, text
    let parser = Parser::new_ext(text, Options::empty());
    let defs: Vec<(String, Range<usize>)> = parser
        .reference_definitions()
        .iter()
        .map(|(_, d)| (d.dest.to_string(), d.span.clone()))
        .collect();
    let mut used_refs: Vec<(String, String, Option<String>)> = Vec::new(); // (dest, text, heading)
    for (event, range) in parser.into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => in_heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                heading = in_heading.take().map(|h| h.trim().to_string())
            }
            Event::Start(
                Tag::Link {
                    link_type,
                    dest_url,
                    ..
                }
                | Tag::Image {
                    link_type,
                    dest_url,
                    ..
                },
            ) => {
                use pulldown_cmark::LinkType::*;
                let form = match link_type {
                    Inline => Form::Inline,
                    Reference | ReferenceUnknown | Collapsed | CollapsedUnknown | Shortcut
                    | ShortcutUnknown => Form::Reference,
                    Autolink | Email => Form::Autolink,
                    _ => Form::Inline,
                };
                open = Some((dest_url.to_string(), form, range, String::new()));
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let Some((dest, form, range, link_text)) = open.take() {
                    match form {
                        Form::Reference => used_refs.push((dest, link_text, heading.clone())),
                        _ => {
                            if let Some(span) = locate(text, &range, &dest, form) {
                                out.push(Link {
                                    file: file.to_path_buf(),
                                    line: text[..span.start].matches('\n').count() + 1,
                                    heading: heading.clone(),
                                    text: link_text,
                                    target: dest,
                                    span,
                                    form,
                                });
                            }
                        }
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = &mut in_heading {
                    h.push_str(&t);
                }
                if let Some(o) = &mut open {
                    o.3.push_str(&t);
                }
            }
            _ => {}
        }
    }
    // A reference definition is one target however many links use it.
    for (dest, span) in defs {
        let Some((_, link_text, h)) = used_refs.iter().find(|(d, _, _)| *d == dest) else {
            continue;
        };
        if let Some(target) = locate_in(text, &span, &dest) {
            out.push(Link {
                file: file.to_path_buf(),
                line: text[..target.start].matches('\n').count() + 1,
                heading: h.clone(),
                text: link_text.clone(),
                target: dest,
                span: target,
                form: Form::Reference,
            });
        }
    }
    out.sort_by_key(|l| l.span.start);
    out
}

/// The byte range of an inline link's or autolink's target inside its source range.
fn locate(text: &str, range: &Range<usize>, dest: &str, form: Form) -> Option<Range<usize>> {
    let src = text.get(range.clone())?;
    if form == Form::Autolink {
        let at = src.find(dest)?;
        return Some(range.start + at..range.start + at + dest.len());
    }
    // The target follows the last `](` whose text continues with it.
    let mut search = src.len();
    while let Some(at) = src[..search].rfind("](") {
        let after = &src[at + 2..];
        let lead = after.len() - after.trim_start().len();
        let rest = &after[lead..];
        let (skip, rest) = match rest.strip_prefix('<') {
            Some(r) => (1, r),
            None => (0, rest),
        };
        if rest.starts_with(dest) {
            let start = range.start + at + 2 + lead + skip;
            return Some(start..start + dest.len());
        }
        search = at;
    }
    None
}

/// The target's bytes inside a reference definition `[id]: target "title"`.
fn locate_in(text: &str, span: &Range<usize>, dest: &str) -> Option<Range<usize>> {
    let src = text.get(span.clone())?;
    let colon = src.find("]:")?;
    let at = src[colon..].find(dest)? + colon;
    Some(span.start + at..span.start + at + dest.len())
}

/// `%20` and friends decoded (invalid escapes kept as written).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes what a Markdown link target cannot hold bare.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/+=,@!$&'*;:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes `.` and `..` without touching the disk.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The relative path from folder `from` to `to` (both absolute, normalized).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// How a link into the outputs tree stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status {
    /// A relative link to something that exists.
    Ok,
    /// An absolute link to something that exists: works here, breaks elsewhere.
    Absolute {
        /// The relative target it should be.
        suggested: String,
    },
    /// Nothing there, but the run it names lives elsewhere now.
    Recoverable {
        /// The relative target to the run's current place.
        suggested: String,
    },
    /// Nothing there, and no single run to point at.
    Broken {
        /// Why.
        why: String,
    },
}

/// A link into outputs, with its status.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The link.
    #[serde(flatten)]
    pub link: Link,
    /// Where it points, resolved (absolute).
    pub resolved: PathBuf,
    /// The run it points to or names (relative to the root).
    pub run: Option<String>,
    /// Its status.
    #[serde(flatten)]
    pub status: Status,
}

/// Checks links against the tree: returns only links into outputs (links
/// elsewhere, web links included, are left alone).
pub fn check(catalog: &Catalog, links: Vec<Link>) -> Vec<Checked> {
    let root = &catalog.root;
    let mut by_name: HashMap<&str, Vec<&Path>> = HashMap::new();
    for k in catalog.run_keys() {
        let r = &catalog.runs[k];
        by_name.entry(r.name.as_str()).or_default().push(&r.path);
    }
    let mut out = Vec::new();
    for link in links {
        let raw = link.target.split(['#', '?']).next().unwrap_or("");
        let has_scheme = raw.split_once(':').is_some_and(|(s, _)| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                && s.len() > 1
        });
        let raw = raw.strip_prefix("file://").unwrap_or(raw);
        if (has_scheme && !link.target.starts_with("file://")) || raw.is_empty() {
            continue;
        }
        let decoded = percent_decode(raw);
        let absolute = Path::new(&decoded).is_absolute();
        let base = link.file.parent().unwrap_or(Path::new("/"));
        let resolved = normalize(&if absolute {
            PathBuf::from(&decoded)
        } else {
            base.join(&decoded)
        });
        // A run id named in the path (or else in the link text).
        let named_run = Path::new(&decoded)
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .find(|c| by_name.contains_key(c))
            .or_else(|| {
                by_name
                    .keys()
                    .copied()
                    .find(|n| layout::parse_run_id(n).is_some() && link.text.contains(n))
            })
            .map(str::to_string);
        let into_root = resolved.starts_with(root);
        if !into_root && named_run.is_none() {
            continue;
        }
        let exists = std::fs::symlink_metadata(&resolved).is_ok();
        let trailing = if raw.ends_with('/') { "/" } else { "" };
        let fragment = link
            .target
            .find(['#', '?'])
            .map(|i| &link.target[i..])
            .unwrap_or("");
        let suggest = |to: &Path| {
            let rel = relative(base, to);
            format!(
                "{}{trailing}{fragment}",
                percent_encode(&rel.to_string_lossy())
            )
        };
        let run_of = |p: &Path| {
            let rel = p.strip_prefix(root).ok()?;
            let parts: Vec<_> = rel.components().take(4).collect();
            (parts.len() == 4 && parts[0].as_os_str() == layout::EXPERIMENTS).then(|| {
                parts
                    .iter()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
        };
        let status = if exists && into_root && absolute {
            Status::Absolute {
                suggested: suggest(&resolved),
            }
        } else if exists && into_root {
            Status::Ok
        } else {
            match named_run.as_deref().map(|n| by_name[n].as_slice()) {
                Some([only]) => {
                    // The rest of the path after the run id, under its new place.
                    let name = only.file_name().unwrap_or_default();
                    let tail: PathBuf = Path::new(&decoded)
                        .components()
                        .skip_while(|c| c.as_os_str() != name)
                        .skip(1)
                        .collect();
                    let target = only.join(&tail);
                    if std::fs::symlink_metadata(&target).is_ok() {
                        Status::Recoverable {
                            suggested: suggest(&target),
                        }
                    } else {
                        Status::Broken {
                            why: format!(
                                "the run is now at {}, but {} is not in it",
                                rel_to(root, only),
                                tail.display()
                            ),
                        }
                    }
                }
                Some(many) if many.len() > 1 => Status::Broken {
                    why: format!(
                        "run id found in {} places: {}",
                        many.len(),
                        many.iter()
                            .map(|p| rel_to(root, p))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
                _ => Status::Broken {
                    why: "nothing there, and no run of that id in the tree".into(),
                },
            }
        };
        let run = run_of(&resolved).or_else(|| {
            let n = named_run.as_deref()?;
            match by_name.get(n).map(Vec::as_slice) {
                Some([only]) => Some(rel_to(root, only)),
                _ => None,
            }
        });
        out.push(Checked {
            link,
            resolved,
            run,
            status,
        });
    }
    out
}

fn rel_to(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// Reads and checks every note's links.
pub fn check_all(catalog: &Catalog, tracker: &Path) -> (Vec<Checked>, Vec<String>) {
    let mut links = Vec::new();
    let mut errors = Vec::new();
    let (notes, skipped) = find_notes(tracker, catalog);
    errors.extend(skipped);
    for note in notes {
        match read_note(&note) {
            Ok(text) => links.extend(parse_links(&note, &text)),
            Err(e) => errors.push(format!("{}: cannot read: {e}", note.display())),
        }
    }
    (check(catalog, links), errors)
}

/// One rewrite of one link target.
#[derive(Debug, Clone, Serialize)]
pub struct Edit {
    /// The note.
    pub file: PathBuf,
    /// The line.
    pub line: usize,
    /// The target before.
    pub from: String,
    /// The target after.
    pub to: String,
    /// Byte range replaced.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// The edits a run's move from `from` to `to` calls for: links into the
/// run point at its new place, and links written inside the run (its own
/// notes) to places outside it are re-made from the note's new folder.
/// Edits name notes where they will be after the move.
pub fn edits_for_move(checked: &[Checked], from: &Path, to: &Path) -> Vec<Edit> {
    checked
        .iter()
        .filter_map(|c| {
            let moved_note = c.link.file.strip_prefix(from).ok().map(|rel| to.join(rel));
            let file = moved_note.clone().unwrap_or_else(|| c.link.file.clone());
            let base = file.parent()?;
            let target = match c.resolved.strip_prefix(from) {
                Ok(tail) => to.join(tail),
                // A link out of a moved note keeps pointing where it pointed.
                Err(_) if moved_note.is_some() => c.resolved.clone(),
                Err(_) => return None,
            };
            let raw = c.link.target.split(['#', '?']).next().unwrap_or("");
            let trailing = if raw.ends_with('/') { "/" } else { "" };
            let fragment = c
                .link
                .target
                .find(['#', '?'])
                .map(|i| &c.link.target[i..])
                .unwrap_or("");
            let new = format!(
                "{}{trailing}{fragment}",
                percent_encode(&relative(base, &target).to_string_lossy())
            );
            (new != c.link.target).then(|| Edit {
                file,
                line: c.link.line,
                from: c.link.target.clone(),
                to: new,
                span: c.link.span.clone(),
            })
        })
        .collect()
}

/// The edits that make recoverable and absolute links relative and right.
pub fn edits(checked: &[Checked]) -> Vec<Edit> {
    checked
        .iter()
        .filter_map(|c| {
            let to = match &c.status {
                Status::Absolute { suggested } | Status::Recoverable { suggested } => {
                    suggested.clone()
                }
                _ => return None,
            };
            Some(Edit {
                file: c.link.file.clone(),
                line: c.link.line,
                from: c.link.target.clone(),
                to,
                span: c.link.span.clone(),
            })
        })
        .collect()
}

/// Applies edits file by file: only the target bytes change, and each file
/// is replaced whole (temporary file, then rename) with its permissions.
/// Every file must be under one of `bases` (the tracker, the outputs root)
/// and is reached from there one folder at a time, never through a link.
/// Returns the files written and per-file errors.
pub fn apply_edits(bases: &[&Path], edits: &[Edit]) -> (usize, Vec<String>) {
    let mut by_file: std::collections::BTreeMap<&Path, Vec<&Edit>> = Default::default();
    for e in edits {
        by_file.entry(e.file.as_path()).or_default().push(e);
    }
    let mut written = 0;
    let mut errors = Vec::new();
    for (file, mut list) in by_file {
        let result = (|| -> std::io::Result<()> {
            let dir = open_parent_in(bases, file)?;
            let name = file.file_name().unwrap_or_default();
            let (f, mode) = open_note_at(dir.as_fd(), name)?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, NOTE_CAP), &mut bytes)?;
            list.sort_by_key(|e| std::cmp::Reverse(e.span.start));
            for e in &list {
                // The file must still say what was read; else it changed under us.
                if bytes.get(e.span.clone()) != Some(e.from.as_bytes()) {
                    return Err(std::io::Error::other(format!(
                        "line {} changed since it was read; not rewritten",
                        e.line
                    )));
                }
                bytes.splice(e.span.clone(), e.to.bytes());
            }
            let tmp = format!(
                ".{}.runyard-tmp-{}",
                name.to_string_lossy(),
                std::process::id()
            );
            let r = (|| {
                let fd = rustix::fs::openat(
                    &dir,
                    tmp.as_str(),
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(mode & 0o7777),
                )?;
                // The umask narrowed the mode at creation; the note keeps its own.
                rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777))?;
                let mut f = std::fs::File::from(fd);
                std::io::Write::write_all(&mut f, &bytes)?;
                f.sync_all()?;
                rustix::fs::renameat(&dir, tmp.as_str(), &dir, name)?;
                Ok(())
            })();
            if r.is_err() {
                let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), rustix::fs::AtFlags::empty());
            }
            r
        })();
        match result {
            Ok(()) => written += 1,
            Err(e) => errors.push(format!("{}: {e}", file.display())),
        }
    }
    (written, errors)
}

/// Opens the folder holding `file`, from the base it is under, one
/// component at a time without following links.
fn open_parent_in(bases: &[&Path], file: &Path) -> std::io::Result<OwnedFd> {
    let parent = file.parent().unwrap_or(Path::new(""));
    // Notes are named from the tracker's real place, run READMEs from the
    // root as given: try each base both ways.
    let real = |b: &Path| std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf());
    for base in bases.iter().flat_map(|b| [b.to_path_buf(), real(b)]) {
        if let Ok(rel) = parent.strip_prefix(&base) {
            return crate::ops::fsat::open_chain(&base, rel).map_err(std::io::Error::other);
        }
    }
    Err(std::io::Error::other(
        "not inside the tracker or the outputs folder: not rewritten",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_of_every_form_are_found_with_exact_spans() {
        let text = "# Title\n\n## Section A\n\
            See [inline](../runs/a/ \"t\") and [angle](<../runs/b c/>) and [pct](../runs/b%20c/plots/x.png#frag).\n\
            Ref [use][r1] twice [again][r1].\n\
            `[code](../not/a/link)`\n\
            ```\n[fenced](../not/either)\n```\n\
            <https://example.org/x>\n\n\
            [r1]: ../runs/d/ \"title\"\n";
        let links = parse_links(Path::new("/t/note.md"), text);
        let targets: Vec<&str> = links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "../runs/a/",
                "../runs/b c/",
                "../runs/b%20c/plots/x.png#frag",
                "https://example.org/x",
                "../runs/d/"
            ]
        );
        for l in &links {
            assert_eq!(&text[l.span.clone()], l.target, "{l:?}");
        }
        assert_eq!(links[0].heading.as_deref(), Some("Section A"));
        assert_eq!(links[4].form, Form::Reference);
        assert_eq!(links[4].text, "use");
    }

    #[test]
    fn paths_encode_decode_and_relate() {
        assert_eq!(percent_decode("a%20b%2Fc%zz"), "a b/c%zz");
        assert_eq!(percent_encode("a b/ü"), "a%20b/%C3%BC");
        assert_eq!(
            relative(Path::new("/x/t/e/n"), Path::new("/x/o/r")),
            PathBuf::from("../../../o/r")
        );
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
