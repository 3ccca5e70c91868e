//! A run's console logs, read as they grow: which files are logs, and an
//! incremental reader that continues from the offset of its last read
//! (never the whole file again), keeps only whole lines, and makes each
//! line safe for a terminal (ANSI escapes and control characters removed).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::open;

/// Bytes read from a log at most in one call: a burst is caught up over
/// several reads instead of one huge allocation.
pub const READ_CAP: u64 = 1 << 20;

/// On the first read of a long log, how far from its end to start: the
/// pane shows the tail, not megabytes of history.
pub const FIRST_TAIL: u64 = 256 << 10;

/// Characters kept of one line (a progress bar redrawn with `\r` for an
/// hour is one "line").
const LINE_CAP: usize = 2000;

/// A run's log files, relative to the run: `*.log` at its root, then
/// `logs/*.log` (and other files under `logs/`), then other tools' logs
/// (Hydra's `<job>.log`, W&B's `files/output.log`) that `tool_logs`
/// names; each a regular file, none reached through a link.
pub fn log_files(run: &Path, tool_logs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(run) {
        let mut root: Vec<String> = entries
            .flatten()
            // `file_type` of a directory entry does not follow links.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".log"))
            .collect();
        root.sort();
        out.extend(root);
    }
    for f in super::files::logs(run) {
        if !f.is_dir && !f.is_link && !out.contains(&f.rel) {
            out.push(f.rel);
        }
    }
    for rel in tool_logs {
        if !out.contains(rel) {
            out.push(rel.clone());
        }
    }
    out
}

/// What one read of a log brought.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// New whole lines, cleaned for the terminal.
    pub lines: Vec<String>,
    /// Where the next read starts (after the last whole line read).
    pub offset: u64,
    /// The file's length when read.
    pub len: u64,
    /// True when the file was shorter than the offset asked: it was
    /// truncated or replaced, and was read again from its start.
    pub restarted: bool,
    /// True when the read started past the file's start (the first read
    /// of a long log, or lines skipped to catch up).
    pub skipped: bool,
}

/// Reads the log `rel` of `run` from byte `from` (`None`: first read, from
/// [`FIRST_TAIL`] before its end): at most [`READ_CAP`] bytes, up to the
/// last newline (a line being written is read when whole). The folders
/// and the file are opened without following links; the file must be
/// regular.
pub fn read_from(run: &Path, rel: &str, from: Option<u64>) -> Result<Chunk, String> {
    use std::os::fd::AsFd;
    let dir = open::open_dir(run)?.ok_or_else(|| format!("{rel}: the run is gone"))?;
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let parent = super::formats::open_rel_dir(dir.as_fd(), parent)?
        .ok_or_else(|| format!("{rel}: not found"))?;
    let (mut file, st) = open::open_file_in(parent.as_fd(), std::ffi::OsStr::new(name), rel)?
        .ok_or_else(|| format!("{rel}: not found"))?;
    let len = u64::try_from(st.st_size).unwrap_or(0);
    let mut chunk = Chunk {
        len,
        ..Chunk::default()
    };
    let mut start = match from {
        Some(at) if at <= len => at,
        Some(_) => {
            chunk.restarted = true;
            len.saturating_sub(FIRST_TAIL)
        }
        None => len.saturating_sub(FIRST_TAIL),
    };
    // Far behind (a burst bigger than a read): skip to the last READ_CAP.
    if len - start > READ_CAP {
        start = len - READ_CAP;
    }
    let asked = match from {
        Some(at) if !chunk.restarted => at,
        _ => 0,
    };
    chunk.skipped = start > asked;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| format!("{rel}: cannot read: {e}"))?;
    let mut bytes = Vec::with_capacity((len - start).min(READ_CAP) as usize);
    file.take(READ_CAP)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{rel}: cannot read: {e}"))?;
    let mut body: &[u8] = &bytes;
    if chunk.skipped {
        // Started mid-line: the first partial line is dropped.
        match body.iter().position(|&b| b == b'\n') {
            Some(i) => body = &body[i + 1..],
            None => body = &[],
        }
    }
    let whole = match body.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        // One line longer than a read and no newline: take it whole, cut.
        None if bytes.len() as u64 >= READ_CAP => body.len(),
        None => 0,
    };
    let consumed = bytes.len() - body.len() + whole;
    chunk.offset = start + consumed as u64;
    if whole > 0 {
        let text = &body[..whole];
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        chunk.lines = text
            .split(|&b| b == b'\n')
            .map(|l| clean(&String::from_utf8_lossy(l)))
            .collect();
    }
    Ok(chunk)
}

/// A log line made safe to draw: ANSI escape sequences (colours, cursor
/// moves, titles) removed, a `\r`-redrawn line reduced to its last
/// drawing, tabs expanded, other control characters shown as `�`, and at
/// most [`LINE_CAP`] characters kept.
pub fn clean(line: &str) -> String {
    // A progress bar redraws its line after `\r`: only the last state shows.
    let line = line.trim_end_matches('\r');
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if n >= LINE_CAP {
            out.push('…');
            break;
        }
        match c {
            '\x1b' => skip_escape(&mut chars),
            // The 8-bit CSI.
            '\u{9b}' => skip_csi(&mut chars),
            '\t' => {
                let pad = 8 - n % 8;
                out.extend(std::iter::repeat_n(' ', pad));
                n += pad;
            }
            c if c.is_control() => {
                out.push('\u{fffd}');
                n += 1;
            }
            c => {
                out.push(c);
                n += 1;
            }
        }
    }
    out
}

/// Skips what follows an ESC: a CSI (`ESC [ ... final`), an OSC or other
/// string (`ESC ] ... BEL` or `ESC \`), or a two-character escape.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => {
            // A string ends at BEL or ST (ESC \).
            while let Some(c) = chars.next() {
                if c == '\x07' || c == '\u{9c}' {
                    break;
                }
                if c == '\x1b' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        // Designators (`ESC ( B`) take one more character.
        Some('(' | ')' | '*' | '+' | '#' | '%') => {
            chars.next();
        }
        _ => {}
    }
}

/// Skips a CSI's parameters up to its final byte (`@`..`~`).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_control_characters_never_reach_the_terminal() {
        assert_eq!(clean("\x1b[1;31mERROR\x1b[0m loss=nan"), "ERROR loss=nan");
        assert_eq!(clean("\x1b]0;title\x07after"), "after");
        assert_eq!(clean("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
        assert_eq!(clean("\x1b(Bplain\u{9b}2Kx"), "plainx");
        assert_eq!(clean("a\x07b\x08c"), "a\u{fffd}b\u{fffd}c");
        assert_eq!(
            clean(" 10%|█   \r 50%|████\r100%|████████\r"),
            "100%|████████"
        );
        assert_eq!(clean("a\tb"), "a       b");
        assert_eq!(clean(&"x".repeat(5000)).chars().count(), LINE_CAP + 1);
    }

    #[test]
    fn reads_continue_from_the_offset_and_wait_for_whole_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        std::fs::create_dir(run.join("logs")).unwrap();
        let log = run.join("logs/train.log");
        std::fs::write(&log, "one\ntwo\nthr").unwrap();
        let c = read_from(run, "logs/train.log", None).unwrap();
        assert_eq!(c.lines, vec!["one", "two"]);
        assert_eq!(c.offset, 8);
        assert!(!c.skipped && !c.restarted);
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"ee\nfour\n").unwrap();
        let c = read_from(run, "logs/train.log", Some(c.offset)).unwrap();
        assert_eq!(c.lines, vec!["three", "four"]);
        assert_eq!(c.offset, c.len);
        // Nothing new: nothing read.
        let again = read_from(run, "logs/train.log", Some(c.offset)).unwrap();
        assert!(again.lines.is_empty());
        // Truncated (a new run wrote over it): read again from the start.
        std::fs::write(&log, "new\n").unwrap();
        let c = read_from(run, "logs/train.log", Some(c.offset)).unwrap();
        assert!(c.restarted);
        assert_eq!(c.lines, vec!["new"]);
    }

    #[test]
    fn a_long_log_is_read_from_its_tail_and_links_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        let line = "x".repeat(99) + "\n";
        let body: String = (0..10_000).map(|_| line.as_str()).collect();
        std::fs::write(run.join("train.log"), &body).unwrap();
        let c = read_from(run, "train.log", None).unwrap();
        assert!(c.skipped);
        assert_eq!(c.offset, body.len() as u64);
        assert!(c.lines.len() as u64 <= FIRST_TAIL / 100);
        assert!(c.lines.iter().all(|l| l.len() == 99), "whole lines only");
        std::os::unix::fs::symlink(run.join("train.log"), run.join("link.log")).unwrap();
        assert!(read_from(run, "link.log", None).is_err());
        std::fs::create_dir(run.join("logs")).unwrap();
        std::fs::write(run.join("logs/a.log"), "a\n").unwrap();
        assert_eq!(
            log_files(run, &["files/output.log".into()]),
            vec!["train.log", "logs/a.log", "files/output.log"]
        );
    }
}
