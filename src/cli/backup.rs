//! `telegate backup PATH`: an online, consistent copy of the database.

use std::path::Path;

use anyhow::{Context, bail};

use super::open_existing;

/// Copies the database to `path` with `VACUUM INTO`: one read transaction,
/// so the copy is consistent even while `telegate serve` writes, and it holds
/// only live data (no freed pages, no WAL).
pub async fn run(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        bail!(
            "{} exists already; give a new file name (a backup never overwrites)",
            path.display()
        );
    }
    let target = path
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    let db = open_existing().await?;
    let copied = sqlx::query("VACUUM INTO ?").bind(target).execute(&db).await;
    db.close().await;
    copied.with_context(|| format!("cannot write the backup to {}", path.display()))?;
    println!("backed up to {}", path.display());
    Ok(())
}
