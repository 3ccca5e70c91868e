//! `runyard links` (check and fix tracker links) and `runyard mv` (move a
//! run and the links that point to it).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use super::{Context, Failure};
use crate::fmt;
use crate::tracker::{self, Checked, Status};

fn shown(base: &Path, p: &Path) -> String {
    fmt::escape(&p.strip_prefix(base).unwrap_or(p).to_string_lossy()).into_owned()
}

fn word(s: &Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Absolute { .. } => "absolute",
        Status::Recoverable { .. } => "recoverable",
        Status::Broken { .. } => "broken",
    }
}

/// `runyard links [--fix] [--dry-run]`.
pub fn links(
    ctx: &Context,
    tracker_dir: &Path,
    fix: bool,
    dry_run: bool,
    as_json: bool,
) -> Result<ExitCode, Failure> {
    let c = &ctx.catalog;
    let base = c.root.parent().unwrap_or(&c.root).to_path_buf();
    if !tracker_dir.is_dir() {
        return Err(Failure::usage(format!(
            "{}: no tracker there (pass --tracker DIR, or set tracker in the config)",
            tracker_dir.display()
        )));
    }
    let (checked, read_errors) = tracker::check_all(c, tracker_dir);
    let mut out = std::io::stdout().lock();
    let edits = if fix {
        tracker::edits(&checked)
    } else {
        Vec::new()
    };
    let (written, write_errors) = if fix && !dry_run {
        tracker::apply_edits(&[tracker_dir, &c.root], &edits)
    } else {
        (0, Vec::new())
    };
    // After fixing, what is still broken is what counts.
    let after = if fix && !dry_run {
        tracker::check_all(c, tracker_dir).0
    } else {
        checked.clone()
    };
    let bad = after
        .iter()
        .filter(|x| matches!(x.status, Status::Broken { .. } | Status::Recoverable { .. }))
        .count();
    if as_json {
        super::write_doc(
            &mut out,
            json!({
                "tracker": tracker_dir,
                "links": checked,
                "edits": edits,
                "applied": fix && !dry_run,
                "errors": read_errors.iter().chain(&write_errors).collect::<Vec<_>>(),
            }),
        )?;
    } else if fix {
        if edits.is_empty() {
            writeln!(out, "Nothing to fix.")?;
        }
        let mut last: Option<&Path> = None;
        for e in &edits {
            if last != Some(e.file.as_path()) {
                writeln!(out, "{}", shown(&base, &e.file))?;
                last = Some(&e.file);
            }
            writeln!(out, "  line {}: - {}", e.line, fmt::escape(&e.from))?;
            writeln!(
                out,
                "  {}  + {}",
                " ".repeat(e.line.to_string().len() + 5),
                fmt::escape(&e.to)
            )?;
        }
        if dry_run {
            writeln!(
                out,
                "Dry run: {} links in {} files would change; nothing written.",
                edits.len(),
                count_files(&edits)
            )?;
        } else {
            writeln!(
                out,
                "{} links rewritten in {written} files (only the link targets changed).",
                edits.len() - write_errors.len().min(edits.len())
            )?;
        }
        for x in after
            .iter()
            .filter(|x| matches!(x.status, Status::Broken { .. }))
        {
            if let Status::Broken { why } = &x.status {
                writeln!(
                    out,
                    "still broken: {}:{}  {}  ({})",
                    shown(&base, &x.link.file),
                    x.link.line,
                    fmt::escape(&x.link.target),
                    fmt::escape(why)
                )?;
            }
        }
    } else {
        print_check(&mut out, &base, tracker_dir, &checked)?;
    }
    for e in read_errors.iter().chain(&write_errors) {
        // A closed stderr is not worth a panic.
        let _ = writeln!(std::io::stderr(), "runyard: {}", fmt::escape(e));
    }
    Ok(if bad > 0 || !write_errors.is_empty() {
        ExitCode::from(super::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

fn count_files(edits: &[tracker::Edit]) -> usize {
    let mut f: Vec<&Path> = edits.iter().map(|e| e.file.as_path()).collect();
    f.dedup();
    f.len()
}

fn print_check(
    out: &mut impl Write,
    base: &Path,
    tracker_dir: &Path,
    checked: &[Checked],
) -> std::io::Result<()> {
    writeln!(
        out,
        "Tracker: {}",
        fmt::escape(&tracker_dir.to_string_lossy())
    )?;
    let mut counts = [0usize; 4];
    for x in checked {
        let (i, extra) = match &x.status {
            Status::Ok => (0, String::new()),
            Status::Absolute { suggested } => {
                (1, format!("\n{:>13}→ {}", "", fmt::escape(suggested)))
            }
            Status::Recoverable { suggested } => {
                (2, format!("\n{:>13}→ {}", "", fmt::escape(suggested)))
            }
            Status::Broken { why } => (3, format!("  ({})", fmt::escape(why))),
        };
        counts[i] += 1;
        writeln!(
            out,
            "{:<12} {}:{}  {}{extra}",
            word(&x.status),
            shown(base, &x.link.file),
            x.link.line,
            fmt::escape(&x.link.target)
        )?;
    }
    writeln!(
        out,
        "{} links into outputs: {} ok, {} absolute, {} recoverable, {} broken.",
        checked.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    )?;
    if counts[1] + counts[2] > 0 {
        writeln!(
            out,
            "`runyard links --fix` rewrites the absolute and recoverable ones as relative links."
        )?;
    }
    Ok(())
}

/// `runyard mv RUN --task T [--model M]`: rename on the same filesystem,
/// never over an existing run, then point the tracker's links at the new place.
pub fn mv(
    ctx: &Context,
    run: &str,
    task: &str,
    model: Option<&str>,
    tracker_dir: &Path,
    how: super::clean::Confirm,
) -> Result<ExitCode, Failure> {
    let c = &ctx.catalog;
    let key = ctx.resolve_run(run)?;
    let r = &c.runs[key];
    let model = model.unwrap_or(&r.model);
    for (what, name) in [("task", task), ("model", model)] {
        // As `new-run` asks: one plain, visible folder name (`.trash` is
        // runyard's own; a newline would break every listing).
        crate::layout::check_folder_name(what, name).map_err(Failure::usage)?;
    }
    let from_rel = r
        .path
        .strip_prefix(&c.root)
        .unwrap_or(&r.path)
        .to_path_buf();
    let name = r
        .path
        .file_name()
        .ok_or_else(|| Failure::usage("not a run folder"))?;
    let to_rel = PathBuf::from(crate::layout::EXPERIMENTS)
        .join(task)
        .join(model)
        .join(name);
    let to = c.root.join(&to_rel);
    if from_rel == to_rel {
        return Err(Failure::usage("the run is already there"));
    }
    if std::fs::symlink_metadata(&to).is_ok() {
        return Err(Failure::usage(format!(
            "{} already exists: not overwritten",
            to_rel.display()
        )));
    }
    if !ctx.window.is_zero() && ctx.is_active(key) {
        return Err(Failure::usage(format!(
            "{} is active (written within the active window): not moved",
            from_rel.display()
        )));
    }
    let checked = if tracker_dir.is_dir() {
        tracker::check_all(c, tracker_dir).0
    } else {
        Vec::new()
    };
    let edits = tracker::edits_for_move(&checked, &r.path, &to);
    let mut out = std::io::stdout().lock();
    let base = c.root.parent().unwrap_or(&c.root).to_path_buf();
    writeln!(
        out,
        "Plan: move {} → {}",
        fmt::escape(&from_rel.to_string_lossy()),
        fmt::escape(&to_rel.to_string_lossy())
    )?;
    writeln!(
        out,
        "  and rewrite {} tracker links in {} files:",
        edits.len(),
        count_files(&edits)
    )?;
    for e in &edits {
        writeln!(
            out,
            "    {}:{}  {} → {}",
            shown(&base, &e.file),
            e.line,
            fmt::escape(&e.from),
            fmt::escape(&e.to)
        )?;
    }
    out.flush()?;
    if how.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if !how.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Failure::usage(
                "refusing to move without --yes: there is no terminal to ask on (the plan is above)",
            ));
        }
        let _ = write!(std::io::stderr(), "Move it? [y/N] ");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            writeln!(out, "Nothing changed.")?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    crate::ops::move_run(&c.root, &from_rel, &to_rel).map_err(|e| Failure {
        message: e,
        code: super::EXIT_FAILURE,
    })?;
    let (written, errors) = tracker::apply_edits(&[tracker_dir, &c.root], &edits);
    writeln!(
        out,
        "Moved. {} links rewritten in {written} files.",
        edits.len()
    )?;
    for e in &errors {
        // A closed stderr is not worth a panic.
        let _ = writeln!(std::io::stderr(), "runyard: {}", fmt::escape(e));
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}
