//! `telegate restore BACKUP [--yes]`: puts a backup made by `telegate backup`
//! in place of the database, with serve stopped. A backup is trusted for
//! nothing: it must be an intact SQLite file, of a schema this version
//! knows and holding nothing else (no trigger or view of its own), its audit
//! trail whole. Then it shows the owners stored in it, and without `--yes`
//! stops there. The database it replaces is kept beside it, never deleted.

use std::{
    fs::{File, OpenOptions},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

use crate::{
    MIGRATOR,
    config::Config,
    store::{
        self, audit_chain,
        lock::SenderLock,
        schema::{self, Object},
        users::{self, User},
    },
    timefmt::utc,
};

/// What a checked backup holds.
struct Contents {
    audit_rows: u64,
    users: usize,
    owners: Vec<User>,
}

pub async fn run(backup: &Path, yes: bool) -> anyhow::Result<()> {
    let target = Config::database_path_from_env()?;
    if !backup.is_file() {
        bail!("there is no backup at {}", backup.display());
    }
    if !yes {
        let contents = inspect(backup, backup).await?;
        describe(backup, &contents);
        bail!(
            "nothing was restored: if those are the owners you expect, stop serve and run `telegate restore {} --yes`",
            backup.display()
        );
    }
    // Held to the end: serve cannot start on a half-restored database.
    let _lock = SenderLock::acquire(&target).context("restore needs telegate serve stopped")?;
    // The copy is what is checked, so what goes in place is what was checked.
    let partial = store::beside(&target, ".restoring");
    let checked = async {
        copy_private(backup, &partial).with_context(|| {
            format!("cannot copy {} to {}", backup.display(), partial.display())
        })?;
        let contents = inspect(&partial, backup).await?;
        describe(backup, &contents);
        anyhow::Ok(contents)
    }
    .await;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(store::beside(&partial, side));
    }
    let contents = match checked {
        Ok(contents) => contents,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let aside = set_aside(&target).await?;
    put_in_place(&partial, &target)
        .with_context(|| format!("cannot move {} to {}", partial.display(), target.display()))?;
    println!(
        "restored {} to {} (audit trail intact, {} row(s))",
        backup.display(),
        target.display(),
        contents.audit_rows
    );
    if let Some(aside) = aside {
        println!("the database it replaced is kept as {}", aside.display());
    }
    println!("start telegate serve again (systemctl start telegate)");
    Ok(())
}

/// Checks the file at `path` (a copy of `backup`, which names it in errors).
async fn inspect(path: &Path, backup: &Path) -> anyhow::Result<Contents> {
    let unusable = || format!("{} is not a usable telegate backup", backup.display());
    let db = store::open_reader(path).await.with_context(unusable)?;
    let checked = async {
        let integrity = schema::integrity(&db).await?;
        if integrity != "ok" {
            bail!("SQLite's integrity check says: {integrity}");
        }
        let version = schema::version(&db)
            .await
            .ok()
            .flatten()
            .context("it has no telegate schema")?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        if version > known {
            bail!(
                "it was written by a newer telegate (schema {version}, this one knows up to {known}); restore it with that version"
            );
        }
        let expected = schema::created_up_to(version).await?;
        let found = schema::objects(&db).await?;
        if let Some(difference) = schema_difference(&expected, &found) {
            bail!(
                "its schema is not the one telegate makes: {difference}. `telegate backup` copies the schema as telegate made it, so this file was changed afterwards"
            );
        }
        let verdict = audit_chain::verify(&db).await?;
        if let Some(problem) = verdict.problem {
            bail!("its audit trail has been tampered with: {problem}");
        }
        let stored = users::list(&db).await?;
        let users = stored.len();
        let owners = stored.into_iter().filter(|u| u.role == "owner").collect();
        Ok(Contents {
            audit_rows: verdict.rows,
            users,
            owners,
        })
    };
    let result = checked.await;
    db.close().await;
    result.with_context(unusable)
}

/// What `found` holds that `expected` does not, and the reverse, in words;
/// `None` when they are the same.
fn schema_difference(expected: &[Object], found: &[Object]) -> Option<String> {
    let describe = |o: &Object| {
        if o.kind == "table" || o.name == o.tbl_name {
            format!("{} {}", o.kind, o.name)
        } else {
            format!("{} {} (on {})", o.kind, o.name, o.tbl_name)
        }
    };
    let mut words = Vec::new();
    for object in found.iter().filter(|o| !expected.contains(o)) {
        let known = expected
            .iter()
            .any(|e| e.kind == object.kind && e.name == object.name);
        if known {
            words.push(format!("{} has another definition", describe(object)));
        } else {
            words.push(format!("{} is not one of telegate's", describe(object)));
        }
    }
    for object in expected
        .iter()
        .filter(|e| !found.iter().any(|o| o.kind == e.kind && o.name == e.name))
    {
        words.push(format!("{} is missing", describe(object)));
    }
    (!words.is_empty()).then(|| words.join(", "))
}

/// Says what the backup holds, above all who may use the owner tools.
fn describe(backup: &Path, contents: &Contents) {
    println!(
        "{}: intact, a schema this version knows, audit trail intact ({} row(s)), {} stored user(s)",
        backup.display(),
        contents.audit_rows,
        contents.users
    );
    if contents.owners.is_empty() {
        println!("owners stored in it: none (BOT_OWNER_ID alone is an owner)");
        return;
    }
    println!("owners stored in it, who may use the owner tools besides BOT_OWNER_ID:");
    for owner in &contents.owners {
        let by = owner
            .by_user
            .map_or_else(String::new, |by| format!(" by {by}"));
        println!(
            "  {} via {}{by} since {} UTC",
            owner.user_id,
            owner.how,
            utc(owner.enrolled_at)
        );
    }
}

/// Copies `from` to a new file `to`, mode 600 whatever the umask (a copy
/// would take the backup's mode), synced to disk.
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut source = File::open(from)?;
    let mut copy = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    std::io::copy(&mut source, &mut copy)?;
    copy.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    copy.sync_all()
}

/// Moves the current database (after folding its WAL in) to
/// `<name>.before-restore-<UTC time>`.
async fn set_aside(target: &Path) -> anyhow::Result<Option<PathBuf>> {
    if !target.exists() {
        return Ok(None);
    }
    let db = store::open(target).await?;
    let folded = store::scrub_db(&db).await;
    db.close().await;
    let folded = folded.with_context(|| format!("cannot checkpoint {}", target.display()))?;
    if !folded {
        anyhow::bail!(
            "cannot fold the WAL of {} into it: another process is reading the database (a backup?); try again when it is done",
            target.display()
        );
    }
    let stamp = utc(store::now_ms()).replace([' ', ':'], "-");
    let aside = store::beside(target, &format!(".before-restore-{stamp}"));
    std::fs::rename(target, &aside)
        .with_context(|| format!("cannot move {} aside", target.display()))?;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(store::beside(target, side));
    }
    Ok(Some(aside))
}

/// Renames the checked copy over the target: the target is either absent
/// or the whole backup, never half.
fn put_in_place(partial: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::rename(partial, target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
