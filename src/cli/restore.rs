//! `telegate restore BACKUP`: puts a backup made by `telegate backup` in
//! place of the database, with serve stopped. The backup is checked first
//! (a SQLite file, intact, of a schema this version knows, its audit chain
//! whole) and the database it replaces is kept beside it, never deleted.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::{
    MIGRATOR,
    config::Config,
    store::{self, audit_chain, lock::SenderLock},
    timefmt::utc,
};

pub async fn run(backup: &Path) -> anyhow::Result<()> {
    let target = Config::database_path_from_env()?;
    if !backup.is_file() {
        bail!("there is no backup at {}", backup.display());
    }
    // Held to the end: serve cannot start on a half-restored database.
    let _lock = SenderLock::acquire(&target).context("restore needs telegate serve stopped")?;
    let rows = check(backup).await?;
    let aside = set_aside(&target).await?;
    put_in_place(backup, &target)
        .with_context(|| format!("cannot copy {} to {}", backup.display(), target.display()))?;
    println!(
        "restored {} to {} (audit trail intact, {rows} row(s))",
        backup.display(),
        target.display()
    );
    if let Some(aside) = aside {
        println!("the database it replaced is kept as {}", aside.display());
    }
    println!("start telegate serve again (systemctl start telegate)");
    Ok(())
}

/// The backup is a telegate database this version can open, undamaged.
async fn check(backup: &Path) -> anyhow::Result<u64> {
    let unusable = || format!("{} is not a usable telegate backup", backup.display());
    let db = store::open_reader(backup).await.with_context(unusable)?;
    let checked = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&db)
            .await?;
        if integrity != "ok" {
            bail!("SQLite's integrity check says: {integrity}");
        }
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&db)
                .await
                .context("it has no telegate schema")?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        if newest.unwrap_or(0) > known {
            bail!(
                "it was written by a newer telegate (schema {}, this one knows up to {known}); restore it with that version",
                newest.unwrap_or(0)
            );
        }
        let verdict = audit_chain::verify(&db).await?;
        if let Some(problem) = verdict.problem {
            bail!("its audit trail has been tampered with: {problem}");
        }
        Ok(verdict.rows)
    };
    let result = checked.await;
    db.close().await;
    result.with_context(unusable)
}

/// Moves the current database (after folding its WAL in) to
/// `<name>.before-restore-<UTC time>`.
async fn set_aside(target: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !target.exists() {
        return Ok(None);
    }
    let db = store::open(target).await?;
    let folded = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await;
    db.close().await;
    folded.with_context(|| format!("cannot checkpoint {}", target.display()))?;
    let stamp = utc(store::now_ms()).replace([' ', ':'], "-");
    let aside = store::beside(target, &format!(".before-restore-{stamp}"));
    std::fs::rename(target, &aside)
        .with_context(|| format!("cannot move {} aside", target.display()))?;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(store::beside(target, side));
    }
    Ok(Some(aside))
}

/// Copies to a temporary file beside the target, syncs it, and renames it
/// over: the target is either absent or the whole backup, never half.
fn put_in_place(backup: &Path, target: &Path) -> std::io::Result<()> {
    let partial = store::beside(target, ".restoring");
    std::fs::copy(backup, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
