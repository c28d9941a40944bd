//! `telegate backup PATH`: an online, consistent copy of the database.

use std::{
    fs::{OpenOptions, Permissions},
    io::ErrorKind,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use anyhow::{Context, bail};

use super::open_existing;

/// Copies the database to `path` with `VACUUM INTO`: one read transaction,
/// so the copy is consistent even while `telegate serve` writes, and it holds
/// only live data (no freed pages, no WAL). The file is made here first,
/// empty and mode 600 whatever the umask (SQLite writes into an empty file),
/// so the copy is never readable by others, not even for a moment.
pub async fn run(path: &Path) -> anyhow::Result<()> {
    let target = path
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    let db = open_existing().await?;
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    if let Err(e) = created {
        db.close().await;
        if e.kind() == ErrorKind::AlreadyExists {
            bail!(
                "{} exists already; give a new file name (a backup never overwrites)",
                path.display()
            );
        }
        return Err(e).with_context(|| format!("cannot create the backup {}", path.display()));
    }
    let copied = crate::store::copy_into(&db, target).await;
    db.close().await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| format!("cannot write the backup to {}", path.display()));
    }
    // The mode given at creation is narrowed by the umask, never widened:
    // set it again for a umask that takes the owner's bits.
    std::fs::set_permissions(path, Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private (mode 600)", path.display()))?;
    println!("backed up to {}", path.display());
    Ok(())
}
