//! The one place files under UPLOAD_DIR are opened. Every path is resolved
//! relative to a descriptor of UPLOAD_DIR, one component at a time, and no
//! symlink inside it is ever followed: a per-user directory is opened with
//! O_NOFOLLOW | O_DIRECTORY, a file is written under a temporary name it
//! created with O_CREAT | O_EXCL (so nothing that already exists there,
//! symlinks included, is written through), fsynced, and renamed to its
//! name without replacing anything that has it.

use std::{
    os::fd::OwnedFd,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use rustix::{
    fs::{AtFlags, Mode, OFlags, RenameFlags},
    io::Errno,
};
use tokio::io::AsyncWriteExt;

use super::name;

/// How temporary names start (a leading dot: never a stored name).
const TEMPORARY_PREFIX: &str = ".upload-";

/// How many `-N` suffixes are tried before a name counts as taken.
const MAX_COLLISIONS: u32 = 10_000;

/// UPLOAD_DIR, held open.
#[derive(Debug)]
pub struct UploadDir {
    root: OwnedFd,
    path: PathBuf,
}

/// A file being written under a temporary name in a user's directory;
/// removed when dropped unless kept.
#[derive(Debug)]
pub struct Partial {
    dir: OwnedFd,
    user: i64,
    temp: String,
    file: Option<tokio::fs::File>,
    kept: bool,
}

impl UploadDir {
    /// Opens UPLOAD_DIR (the operator's path, symlinks in it allowed).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let root = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self {
            root,
            path: path.to_owned(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the temporary files a killed telegate left in the users'
    /// directories (symlinks are neither followed nor removed); returns
    /// how many. Run at start, before any upload.
    pub fn sweep(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in rustix::fs::Dir::read_from(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(dir) = rustix::fs::openat(
                &self.root,
                name.as_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            for file in rustix::fs::Dir::read_from(&dir)? {
                let file = file?;
                let file = file.file_name().to_string_lossy().into_owned();
                if file.starts_with(TEMPORARY_PREFIX) && file.ends_with(".part") {
                    rustix::fs::unlinkat(&dir, file.as_str(), AtFlags::empty())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// A new empty file (mode 0600) in `user`'s directory, made when
    /// missing. A symlink in place of that directory is refused.
    pub fn begin(&self, user: i64) -> std::io::Result<Partial> {
        let component = user.to_string();
        match rustix::fs::mkdirat(&self.root, &component, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        let dir = rustix::fs::openat(
            &self.root,
            &component,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP | Errno::NOTDIR => std::io::Error::other(format!(
                "{component} in the upload directory is not a directory (a symlink or a file); nothing was written"
            )),
            e => e.into(),
        })?;
        loop {
            let temp = temporary_name();
            let created = rustix::fs::openat(
                &dir,
                &temp,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            );
            match created {
                Ok(fd) => {
                    let file = tokio::fs::File::from_std(std::fs::File::from(fd));
                    return Ok(Partial {
                        dir,
                        user,
                        temp,
                        file: Some(file),
                        kept: false,
                    });
                }
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Partial {
    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(bytes).await,
            None => Err(std::io::Error::other("the file was closed")),
        }
    }

    /// Syncs the file to disk and gives it `wanted` (a name from
    /// [`name::sanitise`]), or `wanted-1`, `wanted-2`... when taken; returns
    /// its path relative to UPLOAD_DIR (`<user>/<name>`).
    pub async fn keep(mut self, wanted: &str) -> std::io::Result<String> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("the file was closed"))?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let wanted = name::sanitise(wanted);
        let dir = self.dir.try_clone()?;
        let temp = self.temp.clone();
        let stored = tokio::task::spawn_blocking(move || publish(&dir, &temp, &wanted))
            .await
            .map_err(std::io::Error::other)??;
        self.kept = true;
        Ok(format!("{}/{stored}", self.user))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = rustix::fs::unlinkat(&self.dir, &self.temp, AtFlags::empty());
        }
    }
}

/// Renames `temp` to the first free name of `wanted`, `wanted-1`... without
/// ever replacing a file, then syncs the directory.
fn publish(dir: &OwnedFd, temp: &str, wanted: &str) -> std::io::Result<String> {
    let (stem, extension) = name::split_extension(wanted);
    for n in 0..=MAX_COLLISIONS {
        let candidate = if n == 0 {
            wanted.to_owned()
        } else {
            name::fit(stem, &format!("-{n}"), extension)
        };
        match rename_no_replace(dir, temp, &candidate) {
            Ok(()) => {
                rustix::fs::fsync(dir)?;
                return Ok(candidate);
            }
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(std::io::Error::other(format!(
        "{MAX_COLLISIONS} files are already named like {wanted}"
    )))
}

/// renameat2(RENAME_NOREPLACE), or where the file system lacks it, a hard
/// link (which never replaces either) and the temporary name removed.
fn rename_no_replace(dir: &OwnedFd, from: &str, to: &str) -> Result<(), Errno> {
    match rustix::fs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            rustix::fs::linkat(dir, from, dir, to, AtFlags::empty())?;
            rustix::fs::unlinkat(dir, from, AtFlags::empty())
        }
        other => other,
    }
}

/// A fresh hidden name: never one [`name::sanitise`] makes (no leading dot
/// there), unique in this process, and O_EXCL settles the rest.
fn temporary_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{TEMPORARY_PREFIX}{}-{}-{nanos}.part",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
