//! `runyard clean`, `rm`, `restore` and `trash`: plan, show, confirm, apply.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::{Context, Failure};
use crate::catalog::RunKey;
use crate::fmt;
use crate::ops::{self, Plan, PlanOptions, Report, RunRef, trash};
use crate::runs::RunInfo;

/// How a destructive command was asked to behave.
#[derive(Debug, Clone, Copy)]
pub struct Confirm {
    /// Apply without asking.
    pub yes: bool,
    /// Only show the plan.
    pub dry_run: bool,
    /// Print JSON.
    pub json: bool,
    /// List every path of the plan, not a line per run.
    pub verbose: bool,
}

/// The scope the working folder implies: `task`, `task/model` or
/// `task/model/run` when it is inside `experiments/` of `root`.
pub fn scope_of_cwd(root: &Path) -> Option<String> {
    let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
    let rel = cwd
        .strip_prefix(root.join(crate::layout::EXPERIMENTS))
        .ok()?;
    let parts: Vec<String> = rel
        .components()
        .take(3)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The runs a scope names: nothing for all, a task, `task/model`, or a run
/// (each also as a folder path).
pub fn scope_runs(ctx: &Context, scope: Option<&str>) -> Result<Vec<RunKey>, Failure> {
    let c = &ctx.catalog;
    let Some(mut scope) = scope.map(|s| s.trim_end_matches('/').to_string()) else {
        return Ok(c.run_keys().collect());
    };
    // A folder path to a task or model reads as its name.
    if let Ok(abs) = Path::new(&scope).canonicalize()
        && let Ok(rel) = abs.strip_prefix(c.root.join(crate::layout::EXPERIMENTS))
        && rel.components().count() < 3
    {
        scope = rel.to_string_lossy().into_owned();
    }
    let scope = scope.as_str();
    if c.tasks.iter().any(|t| t.name == scope) {
        return ctx.select(Some(scope), None);
    }
    if let Some((t, m)) = scope.split_once('/')
        && !m.contains('/')
        && c.tasks
            .iter()
            .any(|x| x.name == t && x.models.iter().any(|y| y.name == m))
    {
        return ctx.select(Some(t), Some(m));
    }
    Ok(vec![ctx.resolve_run(scope)?])
}

/// What the plan needs to know of each run.
pub fn run_refs(ctx: &Context, keys: &[RunKey]) -> Vec<RunRef> {
    keys.iter()
        .map(|&k| {
            let r = &ctx.catalog.runs[k];
            RunRef {
                rel: r
                    .path
                    .strip_prefix(&ctx.catalog.root)
                    .unwrap_or(&r.path)
                    .to_path_buf(),
                newest_mtime: r.usage.as_ref().and_then(|u| u.newest_mtime),
                status: RunInfo::load(&r.path).ok().flatten().and_then(|i| i.status),
            }
        })
        .collect()
}

/// Plan options from the command line.
pub fn plan_options(ctx: &Context, force: bool) -> PlanOptions {
    PlanOptions {
        force,
        window: ctx.window,
        now: ctx.now,
    }
}

/// Prints a plan for people: the total, one line per run with its
/// subtotal (every path under it with `verbose`), what is kept, skipped
/// and worth knowing (long lists summarised unless `verbose`), and the
/// total again at the end, where a long plan leaves the eye.
pub fn print_plan(out: &mut impl Write, plan: &Plan, verbose: bool) -> std::io::Result<()> {
    let groups = ops::by_run::by_run(plan);
    let total = ops::by_run::total_line(plan, groups.len());
    writeln!(out, "Plan: {} — {total}", plan.kind.verb())?;
    let width = groups
        .iter()
        .map(|g| ops::by_run::run_label(g.run).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for g in &groups {
        let what = g
            .what()
            .unwrap_or_else(|| fmt::count(g.targets.len() as u64, "path"));
        let files = if g.targets.iter().any(|t| t.ident.is_dir) {
            format!(" · {}", fmt::count(g.files, "file"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:>10}  {:<width$}  {}{files}",
            fmt::size(g.bytes),
            fmt::escape(&ops::by_run::run_label(g.run)),
            fmt::escape(&what),
        )?;
        if !verbose {
            continue;
        }
        for t in &g.targets {
            let rel = t.rel.strip_prefix(&t.run).unwrap_or(&t.rel);
            let files = if t.ident.is_dir {
                format!(", {}", fmt::count(t.files, "file"))
            } else {
                String::new()
            };
            writeln!(
                out,
                "      {:>10}  {}  ({}{files})",
                fmt::size(t.bytes),
                fmt::escape(&rel.to_string_lossy()),
                fmt::escape(&t.what)
            )?;
        }
    }
    for (title, notes) in [
        ("Kept", &plan.kept),
        ("Skipped", &plan.skipped),
        ("Note", &plan.warnings),
    ] {
        print_notes(out, title, notes, verbose)?;
    }
    if plan.shared > 0 {
        writeln!(
            out,
            "Hard links: {} in these paths has another link outside the plan, so deleting frees nothing of it.",
            fmt::size(plan.shared)
        )?;
    }
    if !plan.is_empty() {
        writeln!(out, "Total: {total}")?;
        if !verbose && groups.len() < plan.targets.len() {
            writeln!(out, "(--verbose lists every path; --json too)")?;
        }
    }
    Ok(())
}

/// A note's path as (run, the rest inside it): `ocr/crnn/<run_id>`,
/// `checkpoints/best.pt`; a path outside a run is its own "run".
fn split_run(rel: &Path) -> (String, String) {
    match ops::by_run::split_run(rel) {
        Some((run, rest)) => (
            run.to_string_lossy().into_owned(),
            rest.to_string_lossy().into_owned(),
        ),
        None => (ops::by_run::run_label(rel), String::new()),
    }
}

/// Notes above this many are summarised by reason unless `--verbose`.
const NOTES_SHOWN: usize = 10;

/// Prints kept, skipped or warning notes: each one when few (or
/// `verbose`), else one line per reason with its count and a few examples.
fn print_notes(
    out: &mut impl Write,
    title: &str,
    notes: &[ops::Note],
    verbose: bool,
) -> std::io::Result<()> {
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "{title}:")?;
    if verbose || notes.len() <= NOTES_SHOWN {
        for n in notes {
            writeln!(
                out,
                "  {}  ({})",
                fmt::escape(&n.rel.to_string_lossy()),
                fmt::escape(&n.why)
            )?;
        }
        return Ok(());
    }
    if title == "Kept" {
        // What survives, per run: the names say more than the reasons.
        let mut by_run: Vec<(String, Vec<String>)> = Vec::new();
        for n in notes {
            let (run, rest) = split_run(&n.rel);
            match by_run.iter_mut().find(|(r, _)| *r == run) {
                Some((_, names)) => names.push(rest),
                None => by_run.push((run, vec![rest])),
            }
        }
        for (run, names) in &by_run {
            let shown: Vec<String> = names
                .iter()
                .take(3)
                .map(|n| fmt::escape(n).into_owned())
                .collect();
            let more = if names.len() > shown.len() {
                ", …"
            } else {
                ""
            };
            writeln!(
                out,
                "  {}  {}: {}{more}",
                fmt::escape(run),
                fmt::count(names.len() as u64, "path"),
                shown.join(", ")
            )?;
        }
    } else {
        let mut by_why: Vec<(&str, Vec<&Path>)> = Vec::new();
        for n in notes {
            match by_why.iter_mut().find(|(w, _)| *w == n.why) {
                Some((_, paths)) => paths.push(&n.rel),
                None => by_why.push((&n.why, vec![&n.rel])),
            }
        }
        for (why, paths) in &by_why {
            let examples: Vec<String> = paths
                .iter()
                .take(2)
                .map(|p| fmt::escape(&ops::by_run::run_label(p)).into_owned())
                .collect();
            let more = if paths.len() > examples.len() {
                ", …"
            } else {
                ""
            };
            writeln!(
                out,
                "  {}: {}, e.g. {}{more}",
                fmt::escape(why),
                fmt::count(paths.len() as u64, "path"),
                examples.join(", ")
            )?;
        }
    }
    writeln!(out, "  (--verbose lists all {})", notes.len())?;
    Ok(())
}

/// Asks a yes/no question on the terminal (`--yes` answers it; without a
/// terminal runyard refuses rather than guess). False means "change nothing".
pub fn confirm(question: &str, how: Confirm) -> Result<bool, Failure> {
    if how.dry_run {
        return Ok(false);
    }
    if how.yes {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::usage(
            "refusing to change anything without --yes: there is no terminal to ask on (the plan is above)",
        ));
    }
    let _ = write!(std::io::stderr(), "{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Asks on the terminal; refuses without one.
fn ask(plan: &Plan, how: Confirm) -> Result<bool, Failure> {
    if how.dry_run || plan.is_empty() {
        return Ok(false);
    }
    if how.yes {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::usage(
            "refusing to change anything without --yes: there is no terminal to ask on (the plan is above)",
        ));
    }
    let _ = write!(
        std::io::stderr(),
        "{}: {}, {}. Apply? [y/N] ",
        plan.kind.verb(),
        fmt::count(plan.targets.len() as u64, "path"),
        fmt::size(plan.bytes())
    );
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Applies with a progress line on a terminal; returns the report and the wall time.
fn apply_with_progress(plan: &Plan) -> (Report, std::time::Duration) {
    let started = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let report = ops::apply(plan, 2, &|done, total| {
        if tty {
            let _ = write!(std::io::stderr(), "\r  {done}/{total} paths");
        }
    });
    if tty {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    (report, started.elapsed())
}

fn print_report(
    out: &mut impl Write,
    plan: &Plan,
    r: &Report,
    took: std::time::Duration,
) -> std::io::Result<()> {
    let verb = if plan.kind == ops::PlanKind::Trash {
        "moved to the trash"
    } else {
        "freed"
    };
    writeln!(
        out,
        "Done: {} {verb}, {} of {}, {}, in {:.2}s.",
        fmt::size(r.freed),
        r.done,
        fmt::count(plan.targets.len() as u64, "path"),
        fmt::count(r.files, "file"),
        took.as_secs_f64()
    )?;
    for (from, to) in &r.moved {
        writeln!(
            out,
            "  {} → {}",
            fmt::escape(&from.to_string_lossy()),
            fmt::escape(&to.to_string_lossy())
        )?;
    }
    if !r.moved.is_empty() {
        writeln!(
            out,
            "Undo with: runyard restore <run id>; free the space with: runyard trash empty"
        )?;
    }
    for s in &r.skipped {
        writeln!(
            out,
            "  skipped {}  ({})",
            fmt::escape(&s.rel.to_string_lossy()),
            fmt::escape(&s.why)
        )?;
    }
    for e in &r.errors {
        writeln!(out, "  error: {}", fmt::escape(e))?;
    }
    Ok(())
}

/// Shows a plan, asks, applies, reports. Exit 1 when anything failed.
pub fn run_plan(plan: Plan, how: Confirm) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    if !how.json {
        print_plan(&mut out, &plan, how.verbose)?;
        if plan.is_empty() {
            writeln!(out, "Nothing to do.")?;
        }
        out.flush()?;
    }
    let go = match ask(&plan, how) {
        Ok(go) => go,
        Err(e) if how.json => {
            super::write_doc(
                &mut out,
                json!({ "plan": super::json_value(&plan)?, "applied": false, "report": null, "apply_seconds": null }),
            )?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let applied = go.then(|| apply_with_progress(&plan));
    if applied.is_some()
        && let Some(cache) = crate::catalog::cache::cache_path(&plan.root)
    {
        // Cleanup puts folder times back (so a cleaned run does not look
        // active), which the cache would take for "unchanged": drop it.
        let _ = std::fs::remove_file(cache);
    }
    let report = applied.as_ref().map(|(r, _)| r);
    if how.json {
        super::write_doc(
            &mut out,
            json!({
                "plan": super::json_value(&plan)?,
                "applied": go,
                "report": super::json_value(&report)?,
                "apply_seconds": applied.as_ref().map(|(_, t)| t.as_secs_f64()),
            }),
        )?;
    } else if let Some((r, took)) = &applied {
        print_report(&mut out, &plan, r, *took)?;
    } else if !how.dry_run && !plan.is_empty() {
        writeln!(out, "Nothing changed.")?;
    }
    Ok(match report {
        Some(r) if !r.errors.is_empty() => ExitCode::from(super::EXIT_FAILURE),
        _ => ExitCode::SUCCESS,
    })
}

/// `runyard clean`.
pub fn clean(
    ctx: &Context,
    scope: Option<&str>,
    checkpoints: bool,
    force: bool,
    how: Confirm,
) -> Result<ExitCode, Failure> {
    let keys = scope_runs(ctx, scope)?;
    let refs = run_refs(ctx, &keys);
    let opts = plan_options(ctx, force);
    let plan = if checkpoints {
        ops::plan_cleanup_with(&ctx.catalog.root, &refs, &opts, &ctx.judge())
    } else {
        ops::plan_ephemeral(&ctx.catalog.root, &refs, &opts)
    };
    run_plan(plan, how)
}

/// `runyard rm`: runs to the trash.
pub fn rm(ctx: &Context, runs: &[String], force: bool, how: Confirm) -> Result<ExitCode, Failure> {
    let mut keys = Vec::new();
    for r in runs {
        let k = ctx.resolve_run(r)?;
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let refs = run_refs(ctx, &keys);
    run_plan(
        ops::plan_trash(&ctx.catalog.root, &refs, &plan_options(ctx, force)),
        how,
    )
}

/// `runyard restore`.
pub fn restore(root: &Path, queries: &[String]) -> Result<ExitCode, Failure> {
    let entries = trash::list(root);
    let mut failed = false;
    // Nothing matching, or more than one entry: the README's exit 2 (no such
    // run, an ambiguous id), as for every other command that names runs.
    let mut not_found = false;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    for q in queries {
        let found = trash::find(&entries, q);
        match found.as_slice() {
            [] => {
                let _ = writeln!(
                    err,
                    "runyard: nothing in the trash matches \"{}\" (see runyard trash list)",
                    fmt::escape(q)
                );
                not_found = true;
            }
            [e] => match trash::restore(root, e) {
                Ok(to) => {
                    writeln!(out, "restored {}", fmt::escape(&to.to_string_lossy()))?;
                    if let Some(why) = &e.partial {
                        let _ = writeln!(err, "runyard: warning: {}", fmt::escape(why));
                    }
                }
                Err(why) => {
                    let _ = writeln!(
                        err,
                        "runyard: {}: {}",
                        fmt::escape(&e.id),
                        fmt::escape(&why)
                    );
                    failed = true;
                }
            },
            many => {
                let ids: Vec<String> = many
                    .iter()
                    .map(|e| fmt::escape(&e.id).into_owned())
                    .collect();
                let _ = writeln!(
                    err,
                    "runyard: \"{}\" matches {} trash entries: {}; give the id",
                    fmt::escape(q),
                    many.len(),
                    ids.join(", ")
                );
                not_found = true;
            }
        }
    }
    Ok(if not_found {
        ExitCode::from(super::EXIT_USAGE)
    } else if failed {
        ExitCode::from(super::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `runyard trash list`.
pub fn trash_list(root: &Path, as_json: bool) -> Result<ExitCode, Failure> {
    let entries = trash::list(root);
    let mut out = std::io::stdout().lock();
    if as_json {
        super::write_doc(
            &mut out,
            json!({ "root": root.to_string_lossy(), "entries": super::json_value(&entries)? }),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        writeln!(out, "The trash is empty.")?;
        return Ok(ExitCode::SUCCESS);
    }
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    for e in &entries {
        let from = e.origin.as_ref().map_or_else(
            || format!("? ({})", e.error.as_deref().unwrap_or("no record")),
            |o| {
                let when = o
                    .deleted_at
                    .parse::<jiff::Timestamp>()
                    .map_or_else(|_| o.deleted_at.clone(), fmt::local_time);
                format!("{} (deleted {when})", o.origin.to_string_lossy())
            },
        );
        writeln!(
            out,
            "{:>10}  {}  {}",
            fmt::size(e.bytes),
            fmt::escape(&e.id),
            fmt::escape(&from)
        )?;
    }
    writeln!(
        out,
        "{} in {}. `runyard restore ID` puts one back; `runyard trash empty` frees the space.",
        fmt::size(total),
        fmt::count(entries.len() as u64, "run")
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Note, PlanKind, Target, fsat::Ident};
    use std::path::PathBuf;

    fn plan(runs: usize, stalled: usize) -> Plan {
        let dir = Ident {
            dev: 1,
            ino: 1,
            is_dir: true,
            is_link: false,
        };
        let mut targets = Vec::new();
        for r in 0..runs {
            let run = PathBuf::from(format!("experiments/t/m/run{r}"));
            for what in ["tmp", "cache"] {
                targets.push(Target {
                    rel: run.join(what),
                    run: run.clone(),
                    bytes: 1024,
                    files: 3,
                    ident: dir,
                    what: format!("{what}/"),
                });
            }
        }
        let warnings = (0..stalled)
            .map(|i| Note {
                rel: PathBuf::from(format!("experiments/t/m/old{i}")),
                why: "says running but has written nothing lately: stalled, not protected".into(),
            })
            .collect();
        Plan {
            kind: PlanKind::Ephemeral,
            root: PathBuf::from("/o"),
            targets,
            kept: vec![],
            skipped: vec![],
            warnings,
            shared: 0,
            window: Default::default(),
            forced: false,
        }
    }

    fn text(p: &Plan, verbose: bool) -> String {
        let mut out = Vec::new();
        print_plan(&mut out, p, verbose).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_long_stalled_note_is_one_line_unless_verbose() {
        let p = plan(3, 161);
        let short = text(&p, false);
        let lines: Vec<&str> = short.lines().collect();
        // Plan, 3 runs, Note:, the summary, the hint, Total, the path hint.
        assert_eq!(lines.len(), 9, "{short}");
        assert!(
            short.contains("stalled, not protected: 161 paths, e.g. t/m/old0, t/m/old1, …"),
            "{short}"
        );
        assert!(short.contains("(--verbose lists all 161)"), "{short}");
        assert_eq!(
            lines.last().copied(),
            Some("(--verbose lists every path; --json too)")
        );
        let total = "6 KiB freed in 3 runs (6 paths, 18 files)";
        assert_eq!(lines[0], format!("Plan: {} — {total}", p.kind.verb()));
        assert!(
            lines.contains(&format!("Total: {total}").as_str()),
            "{short}"
        );
        let long = text(&p, true);
        assert_eq!(long.lines().count(), 1 + 3 * 3 + 1 + 161 + 1, "{long}");
    }

    #[test]
    fn one_run_one_path_reads_singular() {
        let mut p = plan(1, 0);
        p.targets.truncate(1);
        p.targets[0].files = 1;
        let t = text(&p, false);
        assert!(t.contains("1 KiB freed in 1 run (1 path, 1 file)"), "{t}");
        assert!(t.contains("tmp/ · 1 file\n"), "{t}");
    }
}
