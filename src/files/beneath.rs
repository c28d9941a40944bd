//! The one place files under a root are opened. A path is resolved by the
//! kernel with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): `..` that
//! climbs out, an absolute symlink, a relative one that leads outside, or a
//! /proc magic link all fail the open itself. There is no check before the
//! open that a swapped-in symlink could race: the open is the check.

use std::{
    fs::File,
    io,
    os::fd::OwnedFd,
    path::{Component, Path, PathBuf},
};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};

/// What a path under a root turned out to be.
#[derive(Debug)]
pub enum Opened {
    /// A regular file, open for reading, and its size in bytes.
    File(File, u64),
    /// A directory, open for listing.
    Dir(OwnedFd),
}

/// Why a path could not be opened under its root.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The path leads outside the root (`..`, or a symlink pointing out).
    #[error("it leads outside the allowed folder")]
    Outside,
    #[error("there is no such file or folder")]
    Missing,
    #[error("it is neither a regular file nor a folder")]
    NotAFile,
    #[error("it cannot be opened: {0}")]
    Io(io::Error),
}

/// Opens `rel` (relative, may be empty for the root itself) beneath `root`.
pub fn open(root: &Path, rel: &Path) -> Result<Opened, Refused> {
    if rel.is_absolute() {
        return Err(Refused::Outside);
    }
    let root_fd = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| classify(e.into()))?;
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    // NONBLOCK: a FIFO planted under the root must not hang the worker.
    let open = || {
        rustix::fs::openat2(
            &root_fd,
            rel,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        )
    };
    // EAGAIN: a rename elsewhere raced the resolution of `..`; the kernel
    // asks to try again rather than risk a wrong answer.
    let mut attempt = open();
    for _ in 0..8 {
        if !matches!(attempt, Err(rustix::io::Errno::AGAIN)) {
            break;
        }
        attempt = open();
    }
    let fd = attempt.map_err(|e| classify(e.into()))?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| Refused::Io(e.into()))?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => {
            // Reads are blocking from here on (tokio reads on its blocking pool).
            rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(|e| Refused::Io(e.into()))?;
            let size = u64::try_from(stat.st_size).unwrap_or_default();
            Ok(Opened::File(File::from(fd), size))
        }
        FileType::Directory => Ok(Opened::Dir(fd)),
        _ => Err(Refused::NotAFile),
    }
}

fn classify(e: io::Error) -> Refused {
    match e.raw_os_error() {
        // EXDEV: RESOLVE_BENEATH refused to leave; ELOOP: a magic link.
        Some(code) if code == libc_exdev() || code == libc_eloop() => Refused::Outside,
        Some(2) | Some(20) => Refused::Missing,
        _ => Refused::Io(e),
    }
}

fn libc_exdev() -> i32 {
    rustix::io::Errno::XDEV.raw_os_error()
}

fn libc_eloop() -> i32 {
    rustix::io::Errno::LOOP.raw_os_error()
}

/// One entry of a listed folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
    /// The size of a regular file; `None` for anything else.
    pub size: Option<u64>,
}

/// The entries of an opened folder, folders first, then by name; at most
/// `max` of them, and how many there were in all. Names that are not UTF-8
/// are left out (they could not be asked for in a chat either).
pub fn list(dir: &OwnedFd, max: usize) -> io::Result<(Vec<Entry>, usize)> {
    let mut entries = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        // Not followed: a symlink is shown as what it is, not what it points at.
        let Ok(stat) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let kind = FileType::from_raw_mode(stat.st_mode);
        entries.push(Entry {
            name: name.to_owned(),
            is_dir: kind == FileType::Directory,
            size: (kind == FileType::RegularFile).then(|| u64::try_from(stat.st_size).unwrap_or(0)),
        });
    }
    let total = entries.len();
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    entries.truncate(max);
    Ok((entries, total))
}

/// Splits `path` as typed in a chat into one of `roots` and the part below
/// it: an absolute path under the root it starts with (compared component by
/// component, not as text), a relative one under the first root. The part
/// below is only ever opened through [`open`], which refuses any escape.
pub fn locate(roots: &[PathBuf], path: &str) -> Option<(usize, PathBuf)> {
    let path = Path::new(path.trim());
    if !path.is_absolute() {
        return (!roots.is_empty()).then(|| (0, normal(path)));
    }
    roots
        .iter()
        .enumerate()
        .filter_map(|(i, root)| Some((i, path.strip_prefix(root).ok()?)))
        .max_by_key(|(i, _)| roots[*i].components().count())
        .map(|(i, rel)| (i, normal(rel)))
}

/// Drops `.` components; `..` stays, for the kernel to refuse.
fn normal(rel: &Path) -> PathBuf {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absolute_path_belongs_to_the_longest_root_it_starts_with() {
        let roots = vec![PathBuf::from("/srv"), PathBuf::from("/srv/reports")];
        assert_eq!(
            locate(&roots, "/srv/reports/a.pdf"),
            Some((1, PathBuf::from("a.pdf")))
        );
        assert_eq!(locate(&roots, "/srvx/a"), None);
        assert_eq!(locate(&roots, "b/./c"), Some((0, PathBuf::from("b/c"))));
    }
}
