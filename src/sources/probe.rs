//! Bounded looks into a folder for detection and classification: a few
//! names, whether a subfolder is there, a small record read whole. Every
//! step is relative to an open folder and never follows a link; records
//! are untrusted (regular files only, capped).

use std::ffi::{CStr, OsStr};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// The most names a probe lists from one folder: detection never walks.
pub const NAMES_CAP: usize = 512;
/// The largest record a probe reads (a tool's meta.yaml is a few hundred bytes).
pub const RECORD_CAP: u64 = 64 * 1024;

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// An open folder to look into.
pub struct Probe {
    fd: OwnedFd,
}

impl Probe {
    /// Opens a folder by path (the root the user named may be reached
    /// through a link; nothing below it is).
    pub fn open(path: &Path) -> Option<Probe> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty()).ok()?;
        Some(Probe { fd })
    }

    /// A folder already opened (without following a link) by the caller.
    pub fn from_fd(fd: OwnedFd) -> Probe {
        Probe { fd }
    }

    /// Opens the folder `name` inside the open folder `parent`, refusing a link.
    pub fn open_at(parent: BorrowedFd, name: &CStr) -> Option<Probe> {
        let fd = rustix::fs::openat(parent, name, DIR_FLAGS, Mode::empty()).ok()?;
        Some(Probe { fd })
    }

    /// A subfolder (not a link to one), opened.
    pub fn sub(&self, name: &str) -> Option<Probe> {
        let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()).ok()?;
        Some(Probe { fd })
    }

    /// Up to `cap` names in the folder, each with whether it is a folder
    /// (links are not folders), hidden names included.
    pub fn names(&self, cap: usize) -> Vec<(String, bool)> {
        let Ok(dup) = rustix::io::fcntl_dupfd_cloexec(&self.fd, 0) else {
            return Vec::new();
        };
        let Ok(mut dir) = rustix::fs::Dir::new(dup) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while out.len() < cap {
            let Some(Ok(entry)) = dir.read() else { break };
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let is_dir = match entry.file_type() {
                FileType::Directory => true,
                FileType::Unknown => self.kind(name) == Some(FileType::Directory),
                _ => false,
            };
            let shown = OsStr::from_bytes(name.to_bytes())
                .to_string_lossy()
                .into_owned();
            out.push((shown, is_dir));
        }
        out
    }

    fn kind<P: rustix::path::Arg>(&self, name: P) -> Option<FileType> {
        let st = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        Some(FileType::from_raw_mode(st.st_mode))
    }

    /// True when `name` is a folder here (not a link to one).
    pub fn has_dir(&self, name: &str) -> bool {
        self.kind(name) == Some(FileType::Directory)
    }

    /// True when `name` is a regular file here.
    pub fn has_file(&self, name: &str) -> bool {
        self.kind(name) == Some(FileType::RegularFile)
    }

    /// The modification time (seconds) of a regular file here.
    pub fn mtime(&self, name: &str) -> Option<i64> {
        let st = rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
        (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then_some(st.st_mtime as i64)
    }

    /// Reads a small regular file here whole: `None` for a link, a FIFO, a
    /// device, or anything larger than [`RECORD_CAP`].
    pub fn read(&self, name: &str) -> Option<String> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::empty()).ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return None;
        }
        let mut bytes = Vec::new();
        std::fs::File::from(fd)
            .take(RECORD_CAP + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() as u64 > RECORD_CAP {
            return None;
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The open folder.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A probe of one child, opened on first use: classifying a layout tree
/// never needs one, so it costs nothing there.
pub struct LazyProbe<'a> {
    parent: Option<BorrowedFd<'a>>,
    name: &'a CStr,
    opened: Option<Option<Probe>>,
}

impl<'a> LazyProbe<'a> {
    /// A probe of `name` in the open folder `parent` (none: every look fails).
    pub fn new(parent: Option<BorrowedFd<'a>>, name: &'a CStr) -> LazyProbe<'a> {
        LazyProbe {
            parent,
            name,
            opened: None,
        }
    }

    /// The child, opened (once) without following a link.
    pub fn get(&mut self) -> Option<&Probe> {
        let (parent, name) = (self.parent, self.name);
        self.opened
            .get_or_insert_with(|| Probe::open_at(parent?, name))
            .as_ref()
    }
}
