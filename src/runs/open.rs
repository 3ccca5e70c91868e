//! Opening a run's files as untrusted input: never through a symbolic link,
//! never anything but a regular file (a FIFO would block the reader for
//! ever, `/dev/zero` would fill memory), and never more bytes than a cap.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

/// `run_info.json`, configs and READMEs bigger than this are not read.
pub const METADATA_CAP: u64 = 16 << 20;

/// `O_NONBLOCK` so that even a FIFO swapped in after the type check cannot
/// block the open; `O_NOCTTY` so that a terminal device never becomes ours.
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// A word for what a file is, for messages: `a FIFO`, `a character device`...
pub fn kind_word(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a folder",
        FileType::Symlink => "a symbolic link, not followed",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "of an unknown kind",
    }
}

/// Why an open failed, in words.
fn reason(e: Errno) -> String {
    std::io::Error::from(e).to_string()
}

/// Opens a folder by path (links on the way to it are the caller's: the
/// user may keep `outputs/` behind a link).
pub fn open_dir(path: &Path) -> Result<Option<OwnedFd>, String> {
    match rustix::fs::openat(
        rustix::fs::CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(format!("{}: cannot open: {}", path.display(), reason(e))),
    }
}

/// Opens the folder `name` inside `dir` without following a link:
/// `Ok(None)` when it does not exist.
pub fn open_dir_in(dir: BorrowedFd, name: &str) -> Result<Option<OwnedFd>, String> {
    match rustix::fs::openat(dir, name, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::LOOP | Errno::NOTDIR) => {
            let kind = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode));
            Err(format!("{name}: not a folder ({})", kind_word(kind)))
        }
        Err(e) => Err(format!("{name}: cannot open: {}", reason(e))),
    }
}

/// Opens the regular file `name` inside `dir` without following a link;
/// anything else is refused by name, before it is opened when the type
/// shows at once, and again after (the file may be swapped in between).
/// `display` names the file in messages. `Ok(None)` when it does not exist.
pub fn open_file_in(
    dir: BorrowedFd,
    name: &OsStr,
    display: &str,
) -> Result<Option<(File, Stat)>, String> {
    let refuse = |kind: FileType| format!("{display}: not a regular file ({})", kind_word(kind));
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
            return Err(refuse(FileType::from_raw_mode(st.st_mode)));
        }
        Ok(_) => {}
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(format!("{display}: cannot read: {}", reason(e))),
    }
    let fd = match rustix::fs::openat(dir, name, FILE_FLAGS, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => return Err(refuse(FileType::Symlink)),
        Err(e) => return Err(format!("{display}: cannot read: {}", reason(e))),
    };
    let st =
        rustix::fs::fstat(&fd).map_err(|e| format!("{display}: cannot read: {}", reason(e)))?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(refuse(kind));
    }
    // Regular files ignore O_NONBLOCK; clearing it keeps reads plain anyway.
    let _ = rustix::fs::fcntl_setfl(&fd, OFlags::empty());
    Ok(Some((File::from(fd), st)))
}

/// Reads at most `cap` bytes of an open file; a longer file is an error
/// that says the cap (its size on disk may be stale: it is read bounded).
pub fn read_capped(file: File, st: &Stat, cap: u64, display: &str) -> Result<Vec<u8>, String> {
    let too_big = |len: u64| {
        format!(
            "{display}: too big to read ({}, over the {} cap)",
            crate::fmt::size(len),
            crate::fmt::size(cap)
        )
    };
    let len = u64::try_from(st.st_size).unwrap_or(0);
    if len > cap {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{display}: cannot read: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads the regular file at `path`, at most `cap` bytes, without following
/// a link at its last component: `Ok(None)` when it does not exist.
/// Messages name the file by its last component.
pub fn read_regular(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, String> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    let display = name.to_string_lossy();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(dir) = open_dir(parent)? else {
        return Ok(None);
    };
    let Some((file, st)) = open_file_in(dir.as_fd(), name, &display)? else {
        return Ok(None);
    };
    read_capped(file, &st, cap, &display).map(Some)
}
