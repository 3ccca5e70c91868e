//! Moving a run to another task or model: a rename when it can, else a
//! verified copy across filesystems followed by deleting the source.

use std::os::fd::AsFd;
use std::path::Path;

use super::fsat::{self, Removed};
use super::promote;

/// Moves a run folder to another task or model inside the same root: the
/// new parent folders are made if needed (never through a link) and the
/// rename never replaces anything. Across filesystems (a task folder that
/// is a mount) it copies, checks the copy against the source, puts it in
/// place without replacing, and only then deletes the source.
pub fn move_run(root: &Path, from: &Path, to: &Path) -> Result<(), String> {
    let (Some(from_parent), Some(name)) = (from.parent(), from.file_name()) else {
        return Err("not a run path".into());
    };
    let Some(to_parent) = to.parent() else {
        return Err("not a run path".into());
    };
    let src = fsat::open_chain(root, from_parent)?;
    let mut dst = fsat::open_chain(root, Path::new(""))?;
    for c in to_parent.components() {
        let c = c.as_os_str();
        match rustix::fs::mkdirat(&dst, c, rustix::fs::Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(format!("{}: {}", c.to_string_lossy(), fsat::reason(e))),
        }
        dst = fsat::open_dir_at(dst.as_fd(), c)
            .map_err(|e| format!("{}: {}", c.to_string_lossy(), fsat::reason(e)))?;
    }
    let ident = fsat::ident_at(src.as_fd(), name)
        .map_err(|e| format!("{}: {}", from.display(), fsat::reason(e)))?;
    if !ident.is_dir {
        return Err(format!(
            "{}: not a folder (a link?): not moved",
            from.display()
        ));
    }
    rustix::fs::renameat_with(
        &src,
        name,
        &dst,
        to.file_name().unwrap_or(name),
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .or_else(|e| match e {
        rustix::io::Errno::XDEV => move_by_copy(&root.join(from), &root.join(to)),
        e => Err(format!("cannot move: {}", fsat::reason(e))),
    })
}

/// The move across filesystems: copy beside the destination under a
/// temporary name, compare checksums with the source, rename into place
/// without replacing, then delete the source (relative to its open parent,
/// links never followed). Any failure before the rename leaves the source
/// as it was and removes the copy.
pub fn move_by_copy(from: &Path, to: &Path) -> Result<(), String> {
    let dir = to.parent().ok_or("no destination folder")?;
    let name = to
        .file_name()
        .ok_or("no destination name")?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".runyard-tmp-{}-{name}", std::process::id()));
    let discard = |tmp: &Path| {
        let _ = std::fs::remove_dir_all(tmp);
    };
    let copied = promote::copy_tree(from, &tmp).map_err(|e| {
        discard(&tmp);
        format!("copying to the other filesystem: {e}")
    })?;
    match promote::hash_tree(from) {
        Ok(source) if source == copied => {}
        Ok(_) => {
            discard(&tmp);
            return Err(
                "the copy does not match the source (it changed while copying?): not moved".into(),
            );
        }
        Err(e) => {
            discard(&tmp);
            return Err(format!("checking the copy: {e}"));
        }
    }
    if let Err(e) = rustix::fs::renameat_with(
        rustix::fs::CWD,
        &tmp,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        discard(&tmp);
        return Err(format!("cannot put the copy in place: {}", fsat::reason(e)));
    }
    let parent = from.parent().ok_or("no source folder")?;
    let parent_fd = rustix::fs::openat(
        rustix::fs::CWD,
        parent,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| {
        format!(
            "the copy is in place, but the source stays: {}",
            fsat::reason(e)
        )
    })?;
    let mut removed = Removed::default();
    fsat::remove_at(
        parent_fd.as_fd(),
        from.file_name().unwrap_or_default(),
        from,
        false,
        &mut removed,
    );
    match removed.errors.first() {
        None => Ok(()),
        Some(e) => Err(format!(
            "the copy is in place, but the source could not be removed whole: {e}"
        )),
    }
}
