//! Moving a run to another task or model: a rename when it can, else a
//! verified copy across filesystems followed by deleting the source.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};

use super::copy;
use super::fsat::{self, Removed};

/// Moves a run folder to another task or model inside the same root: the
/// new parent folders are made if needed (never through a link) and the
/// rename never replaces anything. Across filesystems (a task folder that
/// is a mount) it copies, checks the copy against the source, puts it in
/// place without replacing, and only then deletes the source.
pub fn move_run(root: &Path, from: &Path, to: &Path) -> Result<(), String> {
    let (Some(from_parent), Some(name)) = (from.parent(), from.file_name()) else {
        return Err("not a run path".into());
    };
    let (Some(to_parent), Some(to_name)) = (to.parent(), to.file_name()) else {
        return Err("not a run path".into());
    };
    let src = fsat::open_chain(root, from_parent)?;
    // The new parent folders, each made (if missing) and opened under the
    // last; the ones made here are removed again if the move fails, so a
    // refused move leaves nothing behind.
    let mut chain = vec![(fsat::open_chain(root, Path::new(""))?, None)];
    let result = (|| {
        for c in to_parent.components() {
            let c = c.as_os_str();
            let (parent, _) = chain.last().expect("the root is first");
            let made = match rustix::fs::mkdirat(parent, c, Mode::from_raw_mode(0o755)) {
                Ok(()) => true,
                Err(rustix::io::Errno::EXIST) => false,
                Err(e) => return Err(format!("{}: {}", c.to_string_lossy(), fsat::reason(e))),
            };
            let fd = fsat::open_dir_at(parent.as_fd(), c)
                .map_err(|e| format!("{}: {}", c.to_string_lossy(), fsat::reason(e)))?;
            chain.push((fd, made.then(|| c.to_os_string())));
        }
        let (dst, _) = chain.last().expect("the root is first");
        let ident = fsat::ident_at(src.as_fd(), name)
            .map_err(|e| format!("{}: {}", from.display(), fsat::reason(e)))?;
        if !ident.is_dir {
            return Err(format!(
                "{}: not a folder (a link?): not moved",
                from.display()
            ));
        }
        rustix::fs::renameat_with(&src, name, dst, to_name, RenameFlags::NOREPLACE).or_else(|e| {
            match e {
                rustix::io::Errno::XDEV => {
                    move_by_copy_at(src.as_fd(), name, dst.as_fd(), to_name, from)
                }
                e => Err(format!("cannot move: {}", fsat::reason(e))),
            }
        })
    })();
    if result.is_err() {
        // Innermost first; REMOVEDIR only takes a folder that is empty.
        while let Some((fd, made)) = chain.pop() {
            drop(fd);
            if let (Some(name), Some((parent, _))) = (made, chain.last()) {
                let _ = rustix::fs::unlinkat(parent, name.as_os_str(), AtFlags::REMOVEDIR);
            }
        }
    }
    result
}

/// Opens the folder holding `path` (links in the folder's own path are the
/// caller's choice; the last component itself is never a link).
fn open_parent(path: &Path) -> Result<OwnedFd, String> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    rustix::fs::openat(
        rustix::fs::CWD,
        parent,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {}", parent.display(), fsat::reason(e)))
}

/// The move across filesystems between two paths (see [`move_by_copy_at`]).
pub fn move_by_copy(from: &Path, to: &Path) -> Result<(), String> {
    let (Some(name), Some(to_name)) = (from.file_name(), to.file_name()) else {
        return Err("not a run path".into());
    };
    let src = open_parent(from)?;
    let dst = open_parent(to)?;
    move_by_copy_at(src.as_fd(), name, dst.as_fd(), to_name, from)
}

/// The move across filesystems: survey the source (regular files, folders
/// and links inside only, one filesystem, fitting the destination's free
/// space) before anything is created, copy beside the destination under a
/// temporary name, compare checksums with the source, rename into place
/// without replacing, then delete the source. Every step is relative to the
/// open parents, links never followed. Any failure before the rename leaves
/// the source as it was and removes the copy.
pub fn move_by_copy_at(
    src: BorrowedFd,
    name: &OsStr,
    dst: BorrowedFd,
    to: &OsStr,
    shown: &Path,
) -> Result<(), String> {
    let refused = |e: String| format!("{e}: not moved");
    let not_copied = |e: copy::CopyError| refused(e.to_string());
    // What is copied, and from when: the source removed at the end must be
    // this folder, and anything written in it after the copy began stays.
    let ident = fsat::ident_at(src, name)
        .map_err(|e| refused(format!("{}: {}", shown.display(), fsat::reason(e))))?;
    let began = jiff::Timestamp::now();
    let survey = copy::survey(src, name, shown).map_err(not_copied)?;
    copy::check_space(dst, survey.disk, Path::new(to)).map_err(not_copied)?;
    let tmp = format!(
        ".runyard-tmp-{}-{}",
        std::process::id(),
        to.to_string_lossy()
    );
    let tmp = OsStr::new(&tmp);
    let discard = || {
        let mut out = Removed::default();
        fsat::remove_at(dst, tmp, Path::new(tmp), false, &mut out);
    };
    let copied = copy::copy_at(src, name, dst, tmp, shown)
        .map_err(|e| format!("copying to the other filesystem: {e}: not moved"))?;
    match copy::hash_at(src, name, shown) {
        Ok(source) if source == copied => {}
        Ok(_) => {
            discard();
            return Err(
                "the copy does not match the source (it changed while copying?): not moved".into(),
            );
        }
        Err(e) => {
            discard();
            return Err(format!("checking the copy: {e}: not moved"));
        }
    }
    if let Err(e) = rustix::fs::renameat_with(dst, tmp, dst, to, RenameFlags::NOREPLACE) {
        discard();
        return Err(format!("cannot put the copy in place: {}", fsat::reason(e)));
    }
    let mut removed = Removed {
        guard: Some(began.as_second()),
        guard_nsec: began.subsec_nanosecond().max(0) as u32,
        expect: Some((ident.dev, ident.ino)),
        ..Removed::default()
    };
    fsat::remove_at(src, name, shown, false, &mut removed);
    if removed.kept_recent > 0 {
        return Err(format!(
            "the copy is in place, but {} files were written in the source during the move: \
             they were left at {} (copy them over by hand)",
            removed.kept_recent,
            shown.display()
        ));
    }
    match removed.errors.first() {
        None => Ok(()),
        Some(e) => Err(format!(
            "the copy is in place, but the source could not be removed whole: {e}"
        )),
    }
}
