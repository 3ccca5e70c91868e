//! File-system steps relative to open folders: every path is opened one
//! component at a time without following links, so a symlink swapped in
//! anywhere along the way stops the operation instead of redirecting it.

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// What a path is, and which inode, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Ident {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// True for a folder.
    pub is_dir: bool,
    /// True for a symbolic link.
    pub is_link: bool,
}

/// Opens a folder without following a link.
pub fn open_dir_at(dir: BorrowedFd, name: &OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(dir, name, DIR_FLAGS, Mode::empty())
}

/// Opens `root`, then each component of `rel` under it, refusing links.
/// `rel` must be relative and plain (no `..`).
pub fn open_chain(root: &Path, rel: &Path) -> Result<OwnedFd, String> {
    open_components(root, rel, false)
}

/// The one walk behind [`open_chain`] and [`open_on_mount`]: each
/// component opened relative to the last without following a link, and,
/// with `same_mount`, refused when it is on another mount than the root.
fn open_components(root: &Path, rel: &Path, same_mount: bool) -> Result<OwnedFd, String> {
    let mut fd = open_root(root)
        .map_err(|e| format!("{}: cannot open the root: {}", root.display(), reason(e)))?;
    let base = if same_mount {
        Some(
            mount_at(fd.as_fd(), OsStr::new(""))
                .map_err(|e| format!("{}: {}", root.display(), reason(e)))?,
        )
    } else {
        None
    };
    let mut at = PathBuf::new();
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(format!(
                "{}: not a plain path inside the root",
                rel.display()
            ));
        };
        at.push(name);
        fd = open_dir_at(fd.as_fd(), name)
            .map_err(|e| format!("{}: {}", at.display(), reason(e)))?;
        if let Some(base) = &base {
            let m = mount_at(fd.as_fd(), OsStr::new(""))
                .map_err(|e| format!("{}: {}", at.display(), reason(e)))?;
            if !base.same_as(&m) {
                return Err(format!("{}: {MOUNT_POINT}", at.display()));
            }
        }
    }
    Ok(fd)
}

/// The root folder itself, opened as every folder here is (no link, close on exec).
pub fn open_root(root: &Path) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(CWD, root, DIR_FLAGS, Mode::empty())
}

/// The identity of `name` in `dir`, without following a link.
pub fn ident_at(dir: BorrowedFd, name: &OsStr) -> rustix::io::Result<Ident> {
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    Ok(Ident {
        dev: st.st_dev,
        ino: st.st_ino,
        is_dir: kind == FileType::Directory,
        is_link: kind == FileType::Symlink,
    })
}

/// Which mount a file or folder is on. Two entries on one filesystem can
/// still be on different mounts (a bind mount), so the device alone does not
/// tell; on Linux the mount id does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mount {
    /// Device number.
    pub dev: u64,
    /// The kernel's mount id (Linux 5.8+), 0 when unknown.
    pub id: u64,
    /// The entry is the root of a mount (where one is known to be).
    pub root: bool,
}

impl Mount {
    /// True when `other` is on the same mount as `self`, as far as can be told.
    pub fn same_as(&self, other: &Mount) -> bool {
        if self.dev != other.dev {
            return false;
        }
        if self.id != 0 && other.id != 0 {
            return self.id == other.id;
        }
        // Without mount ids, a bind mount of the same filesystem shows
        // only as the mount-root attribute of the entry crossed into.
        !other.root
    }
}

/// The mount of `name` in `dir` (an empty name: of `dir` itself), without
/// following a link.
#[cfg(target_os = "linux")]
pub fn mount_at(dir: BorrowedFd, name: &OsStr) -> rustix::io::Result<Mount> {
    use rustix::fs::{StatxAttributes, StatxFlags};
    let mut flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::NO_AUTOMOUNT;
    if name.is_empty() {
        flags |= AtFlags::EMPTY_PATH;
    }
    match rustix::fs::statx(
        dir,
        name,
        flags,
        StatxFlags::BASIC_STATS | StatxFlags::MNT_ID,
    ) {
        Ok(x) => Ok(Mount {
            dev: rustix::fs::makedev(x.stx_dev_major, x.stx_dev_minor),
            id: if StatxFlags::from_bits_retain(x.stx_mask).contains(StatxFlags::MNT_ID) {
                x.stx_mnt_id
            } else {
                0
            },
            root: x.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
                && x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT),
        }),
        // Kernels before statx: the device is all there is.
        Err(Errno::NOSYS) => mount_by_stat(dir, name),
        Err(e) => Err(e),
    }
}

/// The mount of `name` in `dir` (an empty name: of `dir` itself): the
/// device is all these systems tell.
#[cfg(not(target_os = "linux"))]
pub fn mount_at(dir: BorrowedFd, name: &OsStr) -> rustix::io::Result<Mount> {
    mount_by_stat(dir, name)
}

fn mount_by_stat(dir: BorrowedFd, name: &OsStr) -> rustix::io::Result<Mount> {
    let st = if name.is_empty() {
        rustix::fs::fstat(dir)?
    } else {
        rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?
    };
    Ok(Mount {
        dev: st.st_dev as u64,
        id: 0,
        root: false,
    })
}

/// Opens `rel` under the root like [`open_chain`], and refuses to enter
/// another mount anywhere on the way: what runyard changes stays on the
/// root's own filesystem, as the scan does (it does not cross mounts
/// either, so a run on another mount is never listed). A bind mount over a
/// run or a trash entry, made between the plan and its application, is
/// refused here too.
pub fn open_on_mount(root: &Path, rel: &Path) -> Result<OwnedFd, String> {
    open_components(root, rel, true)
}

/// The reason given for a mount point that a plan or removal leaves alone.
pub const MOUNT_POINT: &str = "mount point (another filesystem or a bind mount): not entered";

/// A short reason for an error, as shown next to a path.
pub fn reason(e: Errno) -> String {
    match e {
        Errno::ACCESS => "permission denied".into(),
        Errno::PERM => "operation not permitted (immutable or protected)".into(),
        Errno::NOENT => "no longer there".into(),
        Errno::LOOP | Errno::NOTDIR => "is a link or not a folder (changed since the plan?)".into(),
        Errno::ROFS => "read-only filesystem".into(),
        Errno::XDEV => "on another filesystem".into(),
        Errno::EXIST => "already exists".into(),
        Errno::NOTEMPTY => "not empty".into(),
        e => std::io::Error::from(e).to_string(),
    }
}

/// Sizes under a path, measured without following links.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    /// Allocated bytes of every entry counted (hard links: see `linked`).
    pub disk: u64,
    /// Apparent bytes.
    pub apparent: u64,
    /// Files and links.
    pub files: u64,
    /// Folders, the measured one included.
    pub dirs: u64,
    /// Newest modification time (seconds).
    pub newest: i64,
    /// Files with more than one link: (dev, ino) → (links, allocated bytes).
    /// Their bytes are not in `disk`: only deleting every link frees them.
    pub linked: HashMap<(u64, u64), (u64, u64)>,
    /// Problems met while measuring.
    pub errors: Vec<String>,
    /// Folders not entered because they are another mount (the measured
    /// path itself when it is one).
    pub mounts: Vec<PathBuf>,
}

fn stat_of(dir: BorrowedFd, name: &CStr) -> rustix::io::Result<rustix::fs::Stat> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
}

/// Measures `name` in `dir` (a file, a link, or a folder and all under it).
pub fn measure_at(dir: BorrowedFd, name: &OsStr, display: &Path) -> Measure {
    measure_except(dir, name, display, None)
}

/// Measures like [`measure_at`], leaving out the child `except` of the
/// measured folder (it is measured on its own).
pub fn measure_except(
    dir: BorrowedFd,
    name: &OsStr,
    display: &Path,
    except: Option<&OsStr>,
) -> Measure {
    let mut m = Measure::default();
    let cname = CString::new(name.as_bytes()).unwrap_or_default();
    match stat_of(dir, &cname) {
        Ok(st) => add_stat(&mut m, &st),
        Err(e) => {
            m.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return m;
        }
    }
    if m.dirs == 0 {
        return m;
    }
    let base = match mount_at(dir, OsStr::new("")) {
        Ok(b) => b,
        Err(e) => {
            m.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return m;
        }
    };
    let mut stack: Vec<(OwnedFd, PathBuf)> = match open_dir_at(dir, name) {
        Ok(fd) if !on_mount(fd.as_fd(), &base) => {
            m.mounts.push(display.to_path_buf());
            return m;
        }
        Ok(fd) => vec![(fd, display.to_path_buf())],
        Err(e) => {
            m.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return m;
        }
    };
    let mut top = true;
    while let Some((fd, path)) = stack.pop() {
        let Ok(mut entries) = Dir::read_from(&fd) else {
            m.errors.push(format!("{}: cannot list", path.display()));
            continue;
        };
        let skip = if top { except } else { None };
        top = false;
        while let Some(Ok(entry)) = entries.next() {
            let n = entry.file_name();
            if matches!(n.to_bytes(), b"." | b"..")
                || skip.is_some_and(|x| x.as_bytes() == n.to_bytes())
            {
                continue;
            }
            let child = path.join(OsStr::from_bytes(n.to_bytes()));
            match stat_of(fd.as_fd(), n) {
                Ok(st) => {
                    let is_dir = FileType::from_raw_mode(st.st_mode) == FileType::Directory;
                    add_stat(&mut m, &st);
                    if is_dir {
                        match rustix::fs::openat(fd.as_fd(), n, DIR_FLAGS, Mode::empty()) {
                            Ok(sub) if !on_mount(sub.as_fd(), &base) => m.mounts.push(child),
                            Ok(sub) => stack.push((sub, child)),
                            Err(e) => m.errors.push(format!("{}: {}", child.display(), reason(e))),
                        }
                    }
                }
                Err(e) => m.errors.push(format!("{}: {}", child.display(), reason(e))),
            }
        }
    }
    m
}

/// True when the open folder `fd` is on the mount `base`. Checked on the
/// folder as opened, so a mount made between a stat and the open is seen.
pub fn on_mount(fd: BorrowedFd, base: &Mount) -> bool {
    mount_at(fd, OsStr::new("")).is_ok_and(|m| base.same_as(&m))
}

fn add_stat(m: &mut Measure, st: &rustix::fs::Stat) {
    let is_dir = FileType::from_raw_mode(st.st_mode) == FileType::Directory;
    let blocks = st.st_blocks as u64 * 512;
    m.newest = m.newest.max(st.st_mtime);
    m.apparent += st.st_size as u64;
    if is_dir {
        m.dirs += 1;
        m.disk += blocks;
    } else {
        m.files += 1;
        if st.st_nlink > 1 {
            m.linked
                .insert((st.st_dev, st.st_ino), (st.st_nlink, blocks));
        } else {
            m.disk += blocks;
        }
    }
}

/// What a removal did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Removed {
    /// Allocated bytes actually freed (a hard link frees its bytes only
    /// when its last link goes).
    pub freed: u64,
    /// Files and links removed.
    pub files: u64,
    /// Folders removed.
    pub dirs: u64,
    /// Problems, one per path; the rest went on.
    pub errors: Vec<String>,
    /// Folders left whole because they are another mount.
    pub mounts: Vec<PathBuf>,
    /// Entries left in place because they were written recently (a job is
    /// still using the folder).
    pub kept_recent: u64,
    /// Set before removing: entries modified at or after this time
    /// (seconds) are left in place, so a job that starts writing while
    /// a cleanup runs loses nothing.
    #[serde(skip)]
    pub guard: Option<i64>,
    /// Nanoseconds of `guard`, for a cut finer than a second (a move keeps
    /// what was written after its copy began, not what was written in the
    /// same second before it).
    #[serde(skip)]
    pub guard_nsec: u32,
    /// Set before removing: the (device, inode) the removed path must
    /// still be. Checked on the entry and again on the folder as opened,
    /// so a folder swapped in after the caller's own check is not removed.
    #[serde(skip)]
    pub expect: Option<(u64, u64)>,
    /// Files with other links when unlinked: (dev, ino, links then, bytes).
    /// Whether their bytes were freed is settled once every path is done.
    #[serde(skip)]
    pub linked: Vec<(u64, u64, u64, u64)>,
}

/// Removes `name` in `dir`: a file or link is unlinked (a link never
/// followed); a folder is emptied bottom-up and removed. With `keep_dir`, a
/// folder is emptied but kept.
pub fn remove_at(dir: BorrowedFd, name: &OsStr, display: &Path, keep_dir: bool, out: &mut Removed) {
    let cname = CString::new(name.as_bytes()).unwrap_or_default();
    let st = match stat_of(dir, &cname) {
        Ok(st) => st,
        Err(e) => {
            out.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return;
        }
    };
    let swapped = |dev: u64, ino: u64, out: &mut Removed| {
        let bad = out.expect.is_some_and(|e| e != (dev, ino));
        if bad {
            out.errors.push(format!(
                "{}: changed since the plan (another file or folder now): left alone",
                display.display()
            ));
        }
        bad
    };
    if swapped(st.st_dev, st.st_ino, out) {
        return;
    }
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        unlink_counted(dir, &cname, &st, display, out);
        return;
    }
    // Never leave the mount the removal starts on: a tmpfs or a bind mount
    // (of a folder outside the tree, or of the run itself) in tmp/ is left
    // whole, and so are the folders above it.
    let base = match mount_at(dir, OsStr::new("")) {
        Ok(b) => b,
        Err(e) => {
            out.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return;
        }
    };
    let fd = match open_dir_at(dir, name) {
        Ok(fd) if !on_mount(fd.as_fd(), &base) => {
            out.mounts.push(display.to_path_buf());
            return;
        }
        // The folder as opened must be the one checked: a swap between the
        // stat above and the open is caught here.
        Ok(fd)
            if rustix::fs::fstat(&fd).map_or(true, |now| swapped(now.st_dev, now.st_ino, out)) =>
        {
            return;
        }
        Ok(fd) => fd,
        Err(e) => {
            out.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            return;
        }
    };
    struct Frame {
        fd: OwnedFd,
        name: CString,
        path: PathBuf,
        blocks: u64,
        subdirs: Vec<(CString, u64)>,
        failed: bool,
    }
    let mut first = Frame {
        subdirs: Vec::new(),
        fd,
        name: cname,
        path: display.to_path_buf(),
        blocks: st.st_blocks as u64 * 512,
        failed: false,
    };
    let mut failed = false;
    clear_files(
        &mut first.subdirs,
        out,
        &first.path,
        first.fd.as_fd(),
        &mut failed,
    );
    first.failed = failed;
    let mut stack = vec![first];
    while let Some(top) = stack.last_mut() {
        if let Some((sub, blocks)) = top.subdirs.pop() {
            let path = top.path.join(OsStr::from_bytes(sub.to_bytes()));
            match rustix::fs::openat(top.fd.as_fd(), &sub, DIR_FLAGS, Mode::empty()) {
                Ok(fd) if !on_mount(fd.as_fd(), &base) => {
                    out.mounts.push(path);
                    top.failed = true;
                }
                Ok(fd) => {
                    let mut frame = Frame {
                        fd,
                        name: sub,
                        path,
                        blocks,
                        subdirs: Vec::new(),
                        failed: false,
                    };
                    let mut failed = false;
                    clear_files(
                        &mut frame.subdirs,
                        out,
                        &frame.path,
                        frame.fd.as_fd(),
                        &mut failed,
                    );
                    frame.failed = failed;
                    stack.push(frame);
                }
                Err(e) => {
                    out.errors
                        .push(format!("{}: {}", path.display(), reason(e)));
                    top.failed = true;
                }
            }
            continue;
        }
        let done = stack.pop().expect("top exists");
        match stack.last_mut() {
            Some(parent) => {
                if done.failed {
                    parent.failed = true;
                    continue;
                }
                drop(done.fd);
                match rustix::fs::unlinkat(parent.fd.as_fd(), &done.name, AtFlags::REMOVEDIR) {
                    Ok(()) => {
                        out.dirs += 1;
                        out.freed += done.blocks;
                    }
                    Err(e) => {
                        out.errors
                            .push(format!("{}: {}", done.path.display(), reason(e)));
                        parent.failed = true;
                    }
                }
            }
            None => {
                // The folder the removal started from.
                if !keep_dir && !done.failed {
                    drop(done.fd);
                    match rustix::fs::unlinkat(dir, &done.name, AtFlags::REMOVEDIR) {
                        Ok(()) => {
                            out.dirs += 1;
                            out.freed += done.blocks;
                        }
                        Err(e) => {
                            out.errors
                                .push(format!("{}: {}", done.path.display(), reason(e)))
                        }
                    }
                }
            }
        }
    }
}

/// Unlinks every non-folder in `fd` and lists its subfolders (with their own sizes).
fn clear_files(
    subdirs: &mut Vec<(CString, u64)>,
    out: &mut Removed,
    path: &Path,
    fd: BorrowedFd,
    failed: &mut bool,
) {
    let entries = match Dir::read_from(fd) {
        Ok(d) => d,
        Err(e) => {
            out.errors
                .push(format!("{}: cannot list: {}", path.display(), reason(e)));
            *failed = true;
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.errors.push(format!(
                    "{}: listing stopped: {}",
                    path.display(),
                    reason(e)
                ));
                *failed = true;
                break;
            }
        };
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let child = || path.join(OsStr::from_bytes(name.to_bytes()));
        let st = match stat_of(fd, name) {
            Ok(st) => st,
            Err(Errno::NOENT) => continue, // gone already: nothing to do
            Err(e) => {
                out.errors
                    .push(format!("{}: {}", child().display(), reason(e)));
                *failed = true;
                continue;
            }
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            subdirs.push((name.to_owned(), st.st_blocks as u64 * 512));
        } else if !unlink_counted(fd, name, &st, &child(), out) {
            *failed = true;
        }
    }
}

/// Unlinks one non-folder, counting the bytes it frees. False when it
/// stays (an error, or written too recently).
fn unlink_counted(
    dir: BorrowedFd,
    name: &CStr,
    st: &rustix::fs::Stat,
    display: &Path,
    out: &mut Removed,
) -> bool {
    // Modification time only, like the active rule: a copied or restored
    // tree has every change time "now".
    if out
        .guard
        .is_some_and(|cut| (st.st_mtime, st.st_mtime_nsec as u32) >= (cut, out.guard_nsec))
    {
        out.kept_recent += 1;
        return false;
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => {
            out.files += 1;
            // The last link of a file frees its blocks; an earlier one frees
            // nothing, unless another thread took the last one meanwhile.
            if st.st_nlink > 1 {
                out.linked
                    .push((st.st_dev, st.st_ino, st.st_nlink, st.st_blocks as u64 * 512));
            }
            if st.st_nlink <= 1 {
                out.freed += st.st_blocks as u64 * 512;
            }
            true
        }
        Err(Errno::NOENT) => true,
        Err(e) => {
            out.errors
                .push(format!("{}: {}", display.display(), reason(e)));
            false
        }
    }
}
