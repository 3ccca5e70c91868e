//! Copying a file or folder for a promotion or a move across filesystems,
//! every step relative to an open folder.
//!
//! The rules, checked twice (a survey before anything is created, then again
//! on each open while copying, since the tree may change in between):
//! - only regular files and folders are copied: a FIFO, socket or device is
//!   refused by name (opening a FIFO would block, a device never ends);
//! - no symbolic link is followed: the source itself and every folder on the
//!   way to it or to the destination must be a real folder, and a link
//!   *inside* a copied folder is recreated as a link with the same target
//!   (what it points to is not copied, and its target is in the checksum);
//! - nothing on another mount than where the walk started is entered;
//! - holes stay holes: a clone (FICLONE) where the filesystem has one, else
//!   only the data extents (SEEK_DATA/SEEK_HOLE) are written, and the
//!   checksum still covers every byte (holes hash as zeros);
//! - the copy is fsynced before the caller renames it into place.

use std::cell::Cell;
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, SeekFrom, StatxFlags};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

use super::fsat;

/// Why a copy cannot be made: callers show the reason beside the thing
/// they name themselves (the promote picker's rows), so it is kept apart
/// from the path rather than cut out of a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    /// `path` cannot be read, opened or copied, for `reason`.
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The path as the user sees it.
        path: PathBuf,
        /// Why, in words (a link, a FIFO, a mount point, an errno's text).
        reason: String,
    },
    /// The copy does not fit the destination's free space.
    #[error(
        "{}: not enough free space: the copy needs {} ({need} bytes), {} ({free} bytes) are free",
        path.display(),
        crate::fmt::size(*need),
        crate::fmt::size(*free)
    )]
    NoSpace {
        /// The destination folder.
        path: PathBuf,
        /// Allocated bytes the copy takes.
        need: u64,
        /// Bytes free for an unprivileged writer.
        free: u64,
    },
}

impl CopyError {
    /// `path` refused for `reason`.
    pub fn refused(path: &Path, reason: impl std::fmt::Display) -> Self {
        CopyError::Refused {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// The reason alone, without the path the message starts with.
    pub fn reason(&self) -> String {
        match self {
            CopyError::Refused { reason, .. } => reason.clone(),
            CopyError::NoSpace { need, free, .. } => format!(
                "not enough free space: the copy needs {}, {} are free",
                crate::fmt::size(*need),
                crate::fmt::size(*free)
            ),
        }
    }
}

/// What a copy will take, from a survey of the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Survey {
    /// Regular files.
    pub files: u64,
    /// Folders, the top one included when the source is a folder.
    pub dirs: u64,
    /// Symbolic links inside a folder (recreated as links).
    pub links: u64,
    /// Apparent bytes of the files.
    pub apparent: u64,
    /// Allocated bytes of files and folders: what the copy takes on disk.
    pub disk: u64,
}

/// Where a mount-aware walk is, and which filesystem it must stay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    dev: (u32, u32),
    /// The mount id when the kernel reports it (a bind mount of the same
    /// filesystem has the same device but another mount id).
    mnt: Option<u64>,
}

const STAT_MASK: StatxFlags = StatxFlags::TYPE
    .union(StatxFlags::MODE)
    .union(StatxFlags::INO)
    .union(StatxFlags::SIZE)
    .union(StatxFlags::BLOCKS)
    // A copied folder takes its source's time when left; without this bit
    // the kernel may leave `stx_mtime` zero and every folder is dated 1970.
    .union(StatxFlags::MTIME)
    .union(StatxFlags::MNT_ID);

fn statx_at(dir: BorrowedFd, name: &CStr) -> rustix::io::Result<rustix::fs::Statx> {
    rustix::fs::statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, STAT_MASK)
}

fn place_of(st: &rustix::fs::Statx) -> Place {
    Place {
        dev: (st.stx_dev_major, st.stx_dev_minor),
        mnt: (st.stx_mask & StatxFlags::MNT_ID.bits() != 0).then_some(st.stx_mnt_id),
    }
}

/// The filesystem an open folder is on.
fn place_of_fd(fd: BorrowedFd) -> Result<Place, Errno> {
    rustix::fs::statx(fd, c"", AtFlags::EMPTY_PATH, STAT_MASK).map(|st| place_of(&st))
}

fn same_place(a: Place, b: Place) -> bool {
    a.dev == b.dev && (a.mnt.is_none() || b.mnt.is_none() || a.mnt == b.mnt)
}

/// What a non-regular, non-folder entry is, in words.
fn kind_words(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

fn refused(shown: &Path, kind: FileType) -> CopyError {
    if kind == FileType::Symlink {
        return CopyError::refused(shown, "a symbolic link: runyard does not follow links");
    }
    CopyError::refused(
        shown,
        format!(
            "{}, not a regular file: only regular files and folders are copied",
            kind_words(kind)
        ),
    )
}

fn mount_point(shown: &Path) -> CopyError {
    CopyError::refused(shown, "a mount point (another filesystem): not entered")
}

/// Why `name` in `dir` could not be opened as a folder, in words that say
/// what it is (a link, a file) rather than the bare errno.
fn why_not_dir(dir: BorrowedFd, name: &OsStr, shown: &Path, e: Errno) -> CopyError {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => refused(shown, FileType::Symlink),
            FileType::Directory => CopyError::refused(shown, fsat::reason(e)),
            _ => CopyError::refused(shown, "not a folder"),
        },
        Err(e) => CopyError::refused(shown, fsat::reason(e)),
    }
}

/// How [`open_dirs`] treats a missing folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create it (mkdirat, relative to its open parent).
    Create,
    /// Stop there and return the deepest folder that exists.
    Stop,
    /// Fail.
    Fail,
}

/// Opens each component of `rel` under `dir` in turn: a folder, never a
/// link, on the same mount as `dir`. `shown` is `rel`'s place as the user
/// sees it (for messages). Returns the last folder opened and whether it is
/// `rel` itself (false only with [`Missing::Stop`]).
pub fn open_dirs(
    dir: BorrowedFd,
    rel: &Path,
    shown: &Path,
    missing: Missing,
) -> Result<(OwnedFd, bool), CopyError> {
    let base = place_of_fd(dir).map_err(|e| CopyError::refused(shown, fsat::reason(e)))?;
    // Start from a duplicate so the caller's folder stays theirs.
    let mut fd = rustix::fs::openat(
        dir,
        c".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| CopyError::refused(shown, fsat::reason(e)))?;
    // The part of `shown` above `rel`, so messages name each component in full.
    let mut at = shown
        .ancestors()
        .nth(rel.components().count())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(CopyError::refused(
                shown,
                "not a plain path inside the root",
            ));
        };
        at.push(name);
        if missing == Missing::Create {
            match rustix::fs::mkdirat(&fd, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(CopyError::refused(&at, fsat::reason(e))),
            }
        }
        let next = match fsat::open_dir_at(fd.as_fd(), name) {
            Ok(next) => next,
            Err(Errno::NOENT) if missing == Missing::Stop => return Ok((fd, false)),
            Err(e) => return Err(why_not_dir(fd.as_fd(), name, &at, e)),
        };
        let here =
            place_of_fd(next.as_fd()).map_err(|e| CopyError::refused(&at, fsat::reason(e)))?;
        if !same_place(base, here) {
            return Err(mount_point(&at));
        }
        fd = next;
    }
    Ok((fd, true))
}

/// One step of a walk, in path order (a folder before what it holds).
enum Step<'a> {
    /// A folder entered (`rel` empty for the top).
    Enter { fd: BorrowedFd<'a>, rel: &'a Path },
    /// Every entry of the folder entered last has been visited.
    Leave {
        rel: &'a Path,
        mode: u32,
        /// The source folder's modification time (seconds, nanoseconds).
        mtime: (i64, u32),
    },
    /// A regular file, as surveyed (open it again to read: it may change).
    File {
        dir: BorrowedFd<'a>,
        name: &'a CStr,
        rel: &'a Path,
        st: &'a rustix::fs::Statx,
    },
    /// A symbolic link inside a folder.
    Link {
        dir: BorrowedFd<'a>,
        name: &'a CStr,
        rel: &'a Path,
    },
}

/// Walks `name` in `dir` in path order without following links, refusing
/// anything that is not a regular file, folder, or link inside a folder,
/// and anything on another mount than `dir`.
fn walk(
    dir: BorrowedFd,
    name: &OsStr,
    shown: &Path,
    visit: &mut dyn FnMut(Step) -> Result<(), CopyError>,
) -> Result<(), CopyError> {
    let base = place_of_fd(dir).map_err(|e| CopyError::refused(shown, fsat::reason(e)))?;
    let cname = CString::new(name.as_bytes())
        .map_err(|_| CopyError::refused(shown, "a name with a NUL byte"))?;
    let st = statx_at(dir, &cname).map_err(|e| CopyError::refused(shown, fsat::reason(e)))?;
    let kind = FileType::from_raw_mode(st.stx_mode.into());
    if !same_place(base, place_of(&st)) {
        return Err(mount_point(shown));
    }
    match kind {
        FileType::RegularFile => {
            return visit(Step::File {
                dir,
                name: &cname,
                rel: Path::new(""),
                st: &st,
            });
        }
        FileType::Directory => {}
        // The source itself being a link is refused: following it would
        // copy whatever it points to under the run's name.
        other => return Err(refused(shown, other)),
    }
    struct Frame {
        fd: OwnedFd,
        rel: PathBuf,
        mode: u32,
        mtime: (i64, u32),
        /// Names still to visit, last first (popped from the end).
        names: Vec<CString>,
    }
    let open = |parent: BorrowedFd,
                n: &CStr,
                shown: &Path|
     -> Result<(OwnedFd, Vec<CString>), CopyError> {
        let fd = fsat::open_dir_at(parent, OsStr::from_bytes(n.to_bytes()))
            .map_err(|e| why_not_dir(parent, OsStr::from_bytes(n.to_bytes()), shown, e))?;
        let mut names = Vec::new();
        let entries = Dir::read_from(&fd)
            .map_err(|e| CopyError::refused(shown, format!("cannot list: {}", fsat::reason(e))))?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                CopyError::refused(shown, format!("listing stopped: {}", fsat::reason(e)))
            })?;
            let n = entry.file_name();
            if !matches!(n.to_bytes(), b"." | b"..") {
                names.push(n.to_owned());
            }
        }
        // Byte order, reversed for popping: path order, which the tree
        // checksum is defined by.
        names.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
        Ok((fd, names))
    };
    let (fd, names) = open(dir, &cname, shown)?;
    let mode = u32::from(st.stx_mode) & 0o7777;
    let mtime = (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec);
    visit(Step::Enter {
        fd: fd.as_fd(),
        rel: Path::new(""),
    })?;
    let mut stack = vec![Frame {
        fd,
        rel: PathBuf::new(),
        mode,
        mtime,
        names,
    }];
    while let Some(top) = stack.last_mut() {
        let Some(n) = top.names.pop() else {
            let done = stack.pop().expect("top exists");
            visit(Step::Leave {
                rel: &done.rel,
                mode: done.mode,
                mtime: done.mtime,
            })?;
            continue;
        };
        let rel = top.rel.join(OsStr::from_bytes(n.to_bytes()));
        let child_shown = shown.join(&rel);
        let st = match statx_at(top.fd.as_fd(), &n) {
            Ok(st) => st,
            // Gone since the listing: nothing to copy.
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(CopyError::refused(&child_shown, fsat::reason(e))),
        };
        let kind = FileType::from_raw_mode(st.stx_mode.into());
        if kind != FileType::Symlink && !same_place(base, place_of(&st)) {
            return Err(mount_point(&child_shown));
        }
        match kind {
            FileType::RegularFile => visit(Step::File {
                dir: top.fd.as_fd(),
                name: &n,
                rel: &rel,
                st: &st,
            })?,
            FileType::Symlink => visit(Step::Link {
                dir: top.fd.as_fd(),
                name: &n,
                rel: &rel,
            })?,
            FileType::Directory => {
                let (fd, names) = open(top.fd.as_fd(), &n, &child_shown)?;
                // Opened, then checked: the folder may have been swapped for
                // a mount point between the statx and the open.
                let here = place_of_fd(fd.as_fd())
                    .map_err(|e| CopyError::refused(&child_shown, fsat::reason(e)))?;
                if !same_place(base, here) {
                    return Err(mount_point(&child_shown));
                }
                let mode = u32::from(st.stx_mode) & 0o7777;
                let mtime = (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec);
                visit(Step::Enter {
                    fd: fd.as_fd(),
                    rel: &rel,
                })?;
                stack.push(Frame {
                    fd,
                    rel,
                    mode,
                    mtime,
                    names,
                });
            }
            other => return Err(refused(&child_shown, other)),
        }
    }
    Ok(())
}

/// Surveys `name` in `dir` (a regular file or a folder) for a copy: counts
/// and bytes, and an error naming the first entry that cannot be copied (a
/// FIFO, socket, device, a link as the source itself, a mount point).
pub fn survey(dir: BorrowedFd, name: &OsStr, shown: &Path) -> Result<Survey, CopyError> {
    let mut s = Survey::default();
    walk(dir, name, shown, &mut |step| {
        match step {
            Step::Enter { fd, .. } => {
                s.dirs += 1;
                if let Ok(st) = rustix::fs::fstat(fd) {
                    s.disk += st.st_blocks as u64 * 512;
                }
            }
            Step::File { st, .. } => {
                s.files += 1;
                s.apparent += st.stx_size;
                s.disk += st.stx_blocks * 512;
            }
            Step::Link { .. } => s.links += 1,
            Step::Leave { .. } => {}
        }
        Ok(())
    })?;
    Ok(s)
}

/// Refuses a copy of `need` allocated bytes into `dest` (an open folder on
/// the destination filesystem) when they do not fit its free space.
pub fn check_space(dest: BorrowedFd, need: u64, shown: &Path) -> Result<(), CopyError> {
    let vfs = rustix::fs::fstatvfs(dest).map_err(|e| {
        CopyError::refused(shown, format!("free space unknown: {}", fsat::reason(e)))
    })?;
    // f_bavail: what an unprivileged writer may use, the honest figure even
    // for root (the reserve is there for the system, not for artifacts).
    let free = vfs.f_bavail.saturating_mul(vfs.f_frsize);
    if need > free {
        return Err(CopyError::NoSpace {
            path: shown.to_path_buf(),
            need,
            free,
        });
    }
    Ok(())
}

/// Copies `name` in `src` to `to` in `dst` (which must not exist), and
/// returns the sha256: of the bytes for a file; for a folder, the tree
/// checksum of [`TreeHash`] (names, kinds, file checksums and link targets,
/// each unambiguous). On failure whatever was created at `to` is removed
/// again.
pub fn copy_at(
    src: BorrowedFd,
    name: &OsStr,
    dst: BorrowedFd,
    to: &OsStr,
    shown: &Path,
) -> Result<String, CopyError> {
    let created = Cell::new(false);
    let result = copy_inner(src, name, Some((dst, to)), shown, &created);
    // Only what this copy made: a `to` that was there already (say, another
    // process's temporary) is not ours to remove.
    if result.is_err() && created.get() {
        let mut removed = fsat::Removed::default();
        fsat::remove_at(dst, to, Path::new(to), false, &mut removed);
    }
    result
}

/// The checksum [`copy_at`] gives, computed from `name` in `dir` as it is.
pub fn hash_at(dir: BorrowedFd, name: &OsStr, shown: &Path) -> Result<String, CopyError> {
    copy_inner(dir, name, None, shown, &Cell::new(false))
}

/// Which scheme a folder's checksum follows: written into provenance
/// records (their `version`) so a record made by another scheme is never
/// compared with a checksum made by this one. A file's checksum is the
/// sha256 of its bytes under every scheme.
pub const TREE_HASH_VERSION: u64 = 2;

/// The checksum of a folder (scheme [`TREE_HASH_VERSION`]): the sha256 of
/// a tag, then one record per entry in path order (a folder before what
/// it holds, names in byte order): a kind byte (`d` folder, `f` file, `l`
/// link), the path below the folder as an 8-byte big-endian length and its
/// raw bytes, then for a file its sha256 as 64 hex digits, for a link its
/// target as a length and raw bytes. Every field has its length or a fixed
/// one, so no name (a newline in it, bytes that are not UTF-8) can pass for
/// another listing: the older text listing (`<sha>  <name>` lines, names
/// written lossily) could be forged that way.
struct TreeHash(Sha256);

impl TreeHash {
    const TAG: &[u8] = b"runyard tree sha256 v2\0";

    fn new() -> Self {
        TreeHash(Sha256::new_with_prefix(Self::TAG))
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_be_bytes());
        self.0.update(b);
    }

    fn entry(&mut self, kind: u8, rel: &Path) {
        self.0.update([kind]);
        self.bytes(rel.as_os_str().as_bytes());
    }

    fn dir(&mut self, rel: &Path) {
        self.entry(b'd', rel);
    }

    fn file(&mut self, rel: &Path, sha_hex: &str) {
        self.entry(b'f', rel);
        self.0.update(sha_hex.as_bytes());
    }

    fn link(&mut self, rel: &Path, target: &[u8]) {
        self.entry(b'l', rel);
        self.bytes(target);
    }

    fn finish(self) -> String {
        format!("{:x}", self.0.finalize())
    }
}

fn copy_inner(
    src: BorrowedFd,
    name: &OsStr,
    dst: Option<(BorrowedFd, &OsStr)>,
    shown: &Path,
    created: &Cell<bool>,
) -> Result<String, CopyError> {
    let mut single: Option<String> = None;
    let mut tree = TreeHash::new();
    // Open destination folders, innermost last, alongside the walk's own.
    let mut dirs: Vec<OwnedFd> = Vec::new();
    let err = |rel: &Path, e: std::io::Error| CopyError::refused(&shown.join(rel), e);
    walk(src, name, shown, &mut |step| {
        match step {
            Step::Enter { rel, .. } => {
                tree.dir(rel);
                let Some((top, to)) = dst else { return Ok(()) };
                let (parent, n) = match dirs.last() {
                    Some(p) => (p.as_fd(), rel.file_name().unwrap_or_default()),
                    None => (top, to),
                };
                // 0o700 while filling it; the source's mode is set on leaving.
                rustix::fs::mkdirat(parent, n, Mode::from_raw_mode(0o700))
                    .map_err(|e| err(rel, e.into()))?;
                if dirs.is_empty() {
                    created.set(true);
                }
                let fd = fsat::open_dir_at(parent, n).map_err(|e| err(rel, e.into()))?;
                dirs.push(fd);
            }
            Step::Leave { rel, mode, mtime } => {
                if let Some(fd) = dirs.pop() {
                    // Its children are all made: now its time can be the
                    // source's (a moved run must not look active).
                    let t = rustix::fs::Timespec {
                        tv_sec: mtime.0,
                        tv_nsec: mtime.1 as _,
                    };
                    let times = rustix::fs::Timestamps {
                        last_access: t,
                        last_modification: t,
                    };
                    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o777))
                        .and_then(|()| rustix::fs::futimens(&fd, &times))
                        .and_then(|()| rustix::fs::fsync(&fd))
                        .map_err(|e| err(rel, e.into()))?;
                }
            }
            Step::File { dir, name, rel, st } => {
                let out = dst.map(|(top, to)| match dirs.last() {
                    Some(p) => (p.as_fd(), rel.file_name().unwrap_or_default()),
                    None => (top, to),
                });
                let top = rel.as_os_str().is_empty();
                let sum = copy_file(dir, name, st, out, &shown.join(rel), top.then_some(created))?;
                if rel.as_os_str().is_empty() {
                    single = Some(sum);
                } else {
                    tree.file(rel, &sum);
                }
            }
            Step::Link { dir, name, rel } => {
                let target = rustix::fs::readlinkat(dir, name, Vec::new())
                    .map_err(|e| err(rel, e.into()))?;
                if let (Some(p), Some(_)) = (dirs.last(), dst) {
                    rustix::fs::symlinkat(
                        target.as_c_str(),
                        p,
                        rel.file_name().unwrap_or_default(),
                    )
                    .map_err(|e| err(rel, e.into()))?;
                }
                tree.link(rel, target.as_bytes());
            }
        }
        Ok(())
    })?;
    Ok(match single {
        Some(sum) => sum,
        None => tree.finish(),
    })
}

const CHUNK: usize = 1 << 20;

/// Copies (or with no destination, only hashes) one regular file. The
/// source is opened without following a link and without blocking, and
/// must still be the regular file the walk saw.
fn copy_file(
    dir: BorrowedFd,
    name: &CStr,
    seen: &rustix::fs::Statx,
    out: Option<(BorrowedFd, &OsStr)>,
    shown: &Path,
    created: Option<&Cell<bool>>,
) -> Result<String, CopyError> {
    let fail = |e: Errno| CopyError::refused(shown, fsat::reason(e));
    let from = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::LOOP => refused(shown, FileType::Symlink),
        e => fail(e),
    })?;
    let st = rustix::fs::fstat(&from).map_err(fail)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(refused(shown, kind));
    }
    if st.st_ino != seen.stx_ino {
        return Err(CopyError::refused(
            shown,
            "replaced while copying: not copied",
        ));
    }
    let size = st.st_size as u64;
    let from = std::fs::File::from(from);
    let to = match out {
        None => None,
        Some((d, n)) => {
            let fd = rustix::fs::openat(
                d,
                n,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
            .map_err(|e| {
                CopyError::refused(
                    Path::new(n),
                    format!("cannot create the copy: {}", fsat::reason(e)),
                )
            })?;
            if let Some(c) = created {
                c.set(true);
            }
            Some(std::fs::File::from(fd))
        }
    };
    // A clone shares the source's extents, holes included: nothing to write,
    // but the bytes are still read once for the checksum.
    let cloned = to
        .as_ref()
        .is_some_and(|t| rustix::fs::ioctl_ficlone(t, &from).is_ok());
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let zeros = vec![0u8; CHUNK];
    let io = |e: std::io::Error| CopyError::refused(shown, e);
    let mut pos = 0u64;
    while pos < size {
        let data = match rustix::fs::seek(&from, SeekFrom::Data(pos)) {
            Ok(d) => d.min(size),
            // ENXIO: no data after `pos`, the rest is a hole.
            Err(Errno::NXIO) => size,
            // No SEEK_DATA here: treat the rest as data.
            Err(_) => pos,
        };
        hash_zeros(&mut hasher, &zeros, data - pos);
        if data >= size {
            break;
        }
        let hole = match rustix::fs::seek(&from, SeekFrom::Hole(data)) {
            Ok(h) if h > data => h.min(size),
            _ => size,
        };
        let mut at = data;
        while at < hole {
            let want = (hole - at).min(CHUNK as u64) as usize;
            let n = from.read_at(&mut buf[..want], at).map_err(io)?;
            if n == 0 {
                return Err(CopyError::refused(
                    shown,
                    "it shrank while copying: not copied",
                ));
            }
            hasher.update(&buf[..n]);
            if let Some(t) = to.as_ref().filter(|_| !cloned) {
                t.write_all_at(&buf[..n], at).map_err(io)?;
            }
            at += n as u64;
        }
        pos = hole;
    }
    // A file rewritten while it was read would give a copy (and a
    // checksum) of torn bytes: the source must be as it was at the start.
    let after = rustix::fs::fstat(&from).map_err(fail)?;
    let same = |a: &rustix::fs::Stat, b: &rustix::fs::Stat| {
        (
            a.st_size,
            a.st_mtime,
            a.st_mtime_nsec,
            a.st_ctime,
            a.st_ctime_nsec,
        ) == (
            b.st_size,
            b.st_mtime,
            b.st_mtime_nsec,
            b.st_ctime,
            b.st_ctime_nsec,
        )
    };
    if !same(&st, &after) {
        return Err(CopyError::refused(
            shown,
            "written while it was being copied: not copied (try again when nothing writes it)",
        ));
    }
    if let Some(t) = &to {
        // The length, so a trailing hole stays a hole rather than a short file.
        if !cloned {
            t.set_len(size).map_err(io)?;
        }
        rustix::fs::fchmod(t, Mode::from_raw_mode(st.st_mode & 0o777)).map_err(fail)?;
        // The source's times: a moved run must not look freshly written
        // (active) for the next ten minutes, and an artifact keeps the
        // time its content was made.
        let ts = |sec: i64, nsec: i64| rustix::fs::Timespec {
            tv_sec: sec,
            tv_nsec: nsec as _,
        };
        let times = rustix::fs::Timestamps {
            last_access: ts(st.st_atime as i64, st.st_atime_nsec as i64),
            last_modification: ts(st.st_mtime as i64, st.st_mtime_nsec as i64),
        };
        rustix::fs::futimens(t, &times).map_err(fail)?;
        t.sync_all().map_err(io)?;
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Feeds `len` zero bytes to the hasher: a hole reads as zeros.
fn hash_zeros(hasher: &mut Sha256, zeros: &[u8], mut len: u64) {
    while len > 0 {
        let n = len.min(zeros.len() as u64) as usize;
        hasher.update(&zeros[..n]);
        len -= n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum of a folder made from `entries` (path, file bytes or
    /// `None` for a folder), as `hash_at` gives it.
    fn tree_sum(entries: &[(&[u8], Option<&[u8]>)], links: &[(&[u8], &[u8])]) -> String {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("d");
        std::fs::create_dir(&top).unwrap();
        for (rel, bytes) in entries {
            let p = top.join(OsStr::from_bytes(rel));
            match bytes {
                Some(b) => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, b).unwrap();
                }
                None => std::fs::create_dir_all(&p).unwrap(),
            }
        }
        for (rel, target) in links {
            std::os::unix::fs::symlink(OsStr::from_bytes(target), top.join(OsStr::from_bytes(rel)))
                .unwrap();
        }
        let dir = std::fs::File::open(tmp.path()).unwrap();
        hash_at(dir.as_fd(), OsStr::new("d"), Path::new("d")).unwrap()
    }

    #[test]
    fn folders_that_differ_have_different_checksums() {
        let base = tree_sum(&[(b"a", Some(b"X"))], &[]);
        // Stable: the same content gives the same checksum.
        assert_eq!(base, tree_sum(&[(b"a", Some(b"X"))], &[]));
        let others = [
            // An empty folder more.
            tree_sum(&[(b"a", Some(b"X")), (b"e", None)], &[]),
            // An empty file more.
            tree_sum(&[(b"a", Some(b"X")), (b"e", Some(b""))], &[]),
            // The same bytes under a name that is not UTF-8 (and another one).
            tree_sum(&[(b"a\xff", Some(b"X"))], &[]),
            tree_sum(&[(b"a\xfe", Some(b"X"))], &[]),
            // The file one folder down.
            tree_sum(&[(b"s/a", Some(b"X"))], &[]),
            // A link whose target is the file's name, and one with a newline.
            tree_sum(&[(b"a", Some(b"X"))], &[(b"b", b"a")]),
            tree_sum(&[(b"a", Some(b"X"))], &[(b"b", b"a\n")]),
        ];
        let mut all = vec![base];
        all.extend(others);
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "two different folders share a checksum");
    }

    #[test]
    fn a_file_checksum_is_the_sha256_of_its_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"abc").unwrap();
        let dir = std::fs::File::open(tmp.path()).unwrap();
        assert_eq!(
            hash_at(dir.as_fd(), OsStr::new("f"), Path::new("f")).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
