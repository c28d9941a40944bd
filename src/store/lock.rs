//! One sender per database: `telegate serve` holds an exclusive lock on a
//! file beside the database for as long as it runs, so a second server (or
//! `telegate notify --now`) on the same database is refused instead of
//! sending the same outbox twice. The operating system releases the lock
//! when the process ends, however it ends.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

/// The lock, held while this value lives.
#[derive(Debug)]
pub struct SenderLock {
    _file: File,
}

impl SenderLock {
    /// Takes the lock for the database at `db_path`, or says who has it.
    pub fn acquire(db_path: &Path) -> anyhow::Result<Self> {
        let path = lock_path(db_path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => bail!(
                "another telegate is sending from {} (telegate serve, or notify --now); stop it first",
                db_path.display()
            ),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

/// `telegate.db` → `telegate.db.lock`.
fn lock_path(db_path: &Path) -> PathBuf {
    super::beside(db_path, ".lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("telegate.db");
        let first = SenderLock::acquire(&db).unwrap();
        let second = SenderLock::acquire(&db).unwrap_err().to_string();
        assert!(
            second.contains("another telegate is sending from"),
            "{second}"
        );
        drop(first);
        assert!(SenderLock::acquire(&db).is_ok());
    }
}
