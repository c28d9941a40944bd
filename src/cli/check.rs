//! `telegate check`: the configuration, checked without starting. Every
//! check prints a line; the exit status is 1 when one failed.

use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use serde_json::json;

use crate::{
    config::{self, Config, TlsFiles},
    disk_space::{self, DiskSpace},
    store,
    telegram::{ApiError, BotClient},
    timefmt::utc,
    tls::Certificate,
};

/// One check's verdict.
enum Verdict {
    Ok(String),
    Fail(String),
    Skip(String),
    /// Worth fixing, but serve works: the exit status stays 0.
    Warn(String),
}

pub async fn run() -> anyhow::Result<()> {
    let (env_file, named) = config::env_file();
    let mut verdicts = vec![dotenv_file(&env_file, named)];
    match Config::from_env() {
        Err(e) => verdicts.push(Verdict::Fail(e.to_string())),
        Ok(config) => {
            verdicts.push(Verdict::Ok(format!(
                "every variable is valid (webhook {}, listening on {})",
                config.webhook_url, config.listen_addr
            )));
            for (name, source) in &config.secret_sources {
                verdicts.push(Verdict::Ok(format!("{name} comes from {source}")));
            }
            verdicts.push(database(&config.database_path).await);
            verdicts.push(free_space(&config.database_path));
            verdicts.extend(private_files(&config.database_path));
            if let Some(files) = &config.tls {
                verdicts.push(certificate(files, &config).await);
            }
            verdicts.push(commands_file(config.commands_file.as_deref()));
            verdicts.push(token(&config).await);
        }
    }
    let mut failed = 0;
    for verdict in verdicts {
        match verdict {
            Verdict::Ok(text) => println!("ok    {text}"),
            Verdict::Skip(text) => println!("skip  {text}"),
            Verdict::Warn(text) => println!("warn  {text}"),
            Verdict::Fail(text) => {
                failed += 1;
                println!("FAIL  {text}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} check(s) failed (above)");
    }
    Ok(())
}

/// COMMANDS_FILE, checked as serve checks it at start.
fn commands_file(path: Option<&Path>) -> Verdict {
    let Some(path) = path else {
        return Verdict::Skip("COMMANDS_FILE is not set: no relay commands".into());
    };
    match crate::relay::spec::load(path) {
        Ok(file) => Verdict::Ok(format!(
            "COMMANDS_FILE {} declares {} command(s)",
            path.display(),
            file.commands.len()
        )),
        Err(e) => Verdict::Fail(format!("COMMANDS_FILE: {e}")),
    }
}

/// The env file holds secrets: only its owner may read it, and the owner is
/// the user telegate runs as.
fn dotenv_file(path: &Path, named: bool) -> Verdict {
    let Ok(meta) = std::fs::metadata(path) else {
        if named {
            return Verdict::Fail(format!("{} cannot be read", path.display()));
        }
        return Verdict::Skip("no .env here: the configuration comes from the environment".into());
    };
    let name = path.display();
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Verdict::Fail(format!(
            "{name} has mode {mode:03o}: others can read its secrets; run chmod 600 {name}"
        ));
    }
    use std::os::unix::fs::MetadataExt;
    match current_uid() {
        Some(uid) if uid != meta.uid() => Verdict::Fail(format!(
            "{name} belongs to uid {}, but telegate runs as uid {uid}; chown it to the service user",
            meta.uid()
        )),
        _ => Verdict::Ok(format!(
            "{name} has mode {mode:03o} and belongs to this user"
        )),
    }
}

/// The database, its WAL and the backups beside it (in `backups/`, where
/// telegate-backup.service writes them) hold every stored user and the
/// audit trail: a warning for each that others may read.
fn private_files(db: &Path) -> Vec<Verdict> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut files = vec![
        db.to_path_buf(),
        store::beside(db, "-wal"),
        store::beside(db, "-shm"),
    ];
    if let Ok(entries) = std::fs::read_dir(dir.join("backups")) {
        let mut backups: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        backups.sort();
        files.extend(backups);
    }
    let mut verdicts = Vec::new();
    let mut checked = 0;
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        checked += 1;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let name = file.display();
            verdicts.push(Verdict::Warn(format!(
                "{name} has mode {mode:03o}: others can read the users and the audit trail in it; run chmod 600 {name}"
            )));
        }
    }
    if verdicts.is_empty() && checked > 0 {
        verdicts.push(Verdict::Ok(format!(
            "{} and its backups are readable by their owner alone",
            db.display()
        )));
    }
    verdicts
}

/// The real user id, from /proc (Linux); `None` elsewhere.
fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// TLS_CERT_FILE and TLS_KEY_FILE load as serve would load them, and
/// serve listens where Telegram can reach it.
async fn certificate(files: &TlsFiles, config: &Config) -> Verdict {
    let certificate = match Certificate::load(files).await {
        Ok(certificate) => certificate,
        Err(e) => return Verdict::Fail(format!("{e:#}")),
    };
    if config.listen_addr.ip().is_loopback() {
        return Verdict::Fail(format!(
            "TLS_CERT_FILE is set (direct TLS) but LISTEN_ADDR={} is loopback, where Telegram cannot connect; set LISTEN_ADDR=0.0.0.0:8443",
            config.listen_addr
        ));
    }
    let pair = format!("{} and {}", files.cert.display(), files.key.display());
    match certificate.not_after() {
        Some(ms) if ms <= store::now_ms() => Verdict::Fail(format!(
            "the certificate in {} expired on {} UTC: renew it",
            files.cert.display(),
            utc(ms)
        )),
        Some(ms) => Verdict::Ok(format!(
            "{pair} are a usable certificate and key, valid until {} UTC",
            utc(ms)
        )),
        None => Verdict::Ok(format!(
            "{pair} are a usable certificate and key (its expiry date could not be read)"
        )),
    }
}

/// The database (or its directory) takes writes.
async fn database(path: &Path) -> Verdict {
    if !path.exists() {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return match tempfile::tempfile_in(dir) {
            Ok(_) => Verdict::Ok(format!(
                "{} will be created in a writable directory",
                path.display()
            )),
            Err(e) => Verdict::Fail(format!(
                "{} does not exist and {} is not writable: {e}",
                path.display(),
                dir.display()
            )),
        };
    }
    let writable = async {
        let db = store::open(path).await?;
        let locked = store::try_write_lock(&db).await;
        db.close().await;
        locked?;
        anyhow::Ok(())
    };
    match writable.await {
        Ok(()) => Verdict::Ok(format!("{} opens and takes writes", path.display())),
        Err(e) => Verdict::Fail(format!("{}: {e:#}", path.display())),
    }
}

/// The file system holding the database has room: when it fills, SQLite
/// cannot commit and every update is refused.
fn free_space(db: &Path) -> Verdict {
    let dir = disk_space::database_dir(db);
    // "." would tell the operator nothing about which file system it is.
    let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let shown = shown.display();
    match DiskSpace::of(dir) {
        Ok(space) if space.is_low() => Verdict::Warn(format!(
            "{shown} has {space}, under {}% or {}: when it fills, telegate refuses every update; remove old backups or logs from that file system, or grow it",
            disk_space::LOW_PERCENT,
            disk_space::human(disk_space::LOW_BYTES)
        )),
        Ok(space) => Verdict::Ok(format!("{shown} has {space}")),
        Err(e) => Verdict::Warn(format!(
            "the free space of {shown} cannot be read ({e}); watch it with df"
        )),
    }
}

/// getMe with the token, when the Bot API can be reached.
async fn token(config: &Config) -> Verdict {
    let client = match BotClient::new(&config.api_url, &config.bot_token) {
        Ok(client) => client,
        Err(e) => return Verdict::Fail(format!("cannot build the Bot API client: {e}")),
    };
    let me = tokio::time::timeout(Duration::from_secs(10), client.call("getMe", &json!({}))).await;
    match me {
        Ok(Ok(me)) => Verdict::Ok(format!(
            "the token works: this is @{}",
            me["username"].as_str().unwrap_or("?")
        )),
        Ok(Err(ApiError::Api {
            code, description, ..
        })) => Verdict::Fail(format!(
            "the Bot API refused the token ({code}: {description}); check TELEGRAM_BOT_TOKEN"
        )),
        Ok(Err(e)) => Verdict::Skip(format!("the Bot API is not reachable from here: {e}")),
        Err(_) => Verdict::Skip("the Bot API did not answer within 10 s".into()),
    }
}
