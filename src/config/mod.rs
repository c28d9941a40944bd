//! The only reader of the environment: typed, validated, secrets wrapped.
//!
//! Every variable is checked and every problem reported at once, so an operator
//! fixes the whole `.env` in one go instead of one restart per mistake.

mod env_file;
mod parse;
mod secret;
mod secret_source;

use std::{collections::HashMap, fmt, net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;

pub use parse::parse_duration;
pub use secret::Secret;
pub use secret_source::SecretSource;

use parse::Reader;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How updates reach telegate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// Telegram posts them to WEBHOOK_URL (`telegate serve`).
    Webhook,
    /// telegate fetches them with getUpdates (`telegate poll`, for
    /// development): the webhook variables are optional.
    Polling,
}

/// The certificate and key serve terminates TLS with, without nginx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the certificate, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The validated configuration of `telegate serve` (and `telegate poll`).
#[derive(Debug, Clone)]
pub struct Config {
    pub intake: Intake,
    pub bot_token: Secret,
    /// Bot API base, without a trailing slash.
    pub api_url: String,
    pub webhook_url: String,
    /// The path of `webhook_url`: the only route that accepts updates.
    pub webhook_path: String,
    pub webhook_secret: Secret,
    pub webhook_max_connections: u8,
    pub listen_addr: SocketAddr,
    /// Connections the webhook's listener holds at once (MAX_CONNECTIONS);
    /// more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// A connection that has not sent a whole request head this long after
    /// it opened (after the TLS handshake), or after its last answer, is
    /// closed. [`HEADER_READ_TIMEOUT`]; not read from the environment,
    /// tests shorten it.
    pub header_read_timeout: Duration,
    /// Direct TLS on LISTEN_ADDR, when both TLS_CERT_FILE and TLS_KEY_FILE
    /// are set; re-read on SIGHUP.
    pub tls: Option<TlsFiles>,
    /// Upload TLS_CERT_FILE with setWebhook (for a self-signed certificate).
    pub webhook_cert_upload: bool,
    /// Where GET /metrics is served (Prometheus text).
    pub metrics_addr: SocketAddr,
    pub database_path: PathBuf,
    /// serve exits (for systemd to restart it) once the database could not
    /// be written for this long.
    pub storage_fault_exit_after: Duration,
    pub owner_id: i64,
    pub allowed_chat_ids: Vec<i64>,
    pub trusted_proxies: Vec<IpNet>,
    pub telegram_ranges: Vec<IpNet>,
    /// The passcode strangers send to enrol; `None` turns enrolment off.
    pub enrollment_passcode: Option<Secret>,
    /// Wrong passcodes within `lockout_window` that lock a user out.
    pub lockout_after: u32,
    pub lockout_window: Duration,
    pub lockout_duration: Duration,
    /// Wrong enrolment passcodes from anyone within an hour that pause
    /// enrolment for an hour.
    pub enrollment_max_wrong_per_hour: u32,
    /// The second factor for sensitive commands; without it, the passcode.
    pub totp_secret: Option<Secret>,
    /// A session closes after this long without a command.
    pub session_timeout: Duration,
    /// ... and this long after it was opened, however active.
    pub session_max_age: Duration,
    /// Audit rows older than this many days are pruned; 0 keeps them forever.
    pub audit_retention_days: u32,
    /// Handled updates and sent calls older than this many days are pruned
    /// (dead letters after twice as long); 0 keeps them forever.
    pub retention_days: u32,
    /// Updates handled per user per minute; the rest are dropped.
    pub inbound_limit_per_min: u32,
    /// Outgoing messages per second overall (30; paid broadcasting up to 1000).
    pub rate_global_per_sec: u32,
    /// Outgoing messages per second in one chat.
    pub rate_chat_per_sec: u32,
    /// Outgoing messages per minute in one group.
    pub rate_group_per_min: u32,
    /// A call still failing after this long is dead-lettered.
    pub send_max_age: Duration,
    /// A text needing more messages than this is sent as a .txt document.
    pub long_message_max_parts: usize,
    /// Waits between attempts to send after a network or 5xx error; the
    /// last one repeats.
    pub send_retry_backoff: Vec<Duration>,
    pub log_level: String,
    pub log_format: LogFormat,
    /// The relay's commands file (COMMANDS_FILE); `None`: no relay commands.
    pub commands_file: Option<PathBuf>,
    /// The relay's limits and pacing (RELAY_*, CONFIRM_TIMEOUT).
    pub relay: crate::relay::service::Settings,
    /// Files from the phone (UPLOAD_DIR, UPLOAD_MAX_BYTES).
    pub uploads: crate::files::Settings,
    /// The folders /get sends from (DOWNLOAD_DIRS); empty: /get is off.
    pub download_dirs: Vec<PathBuf>,
    /// Files larger than this are not sent (DOWNLOAD_MAX_BYTES).
    pub download_max_bytes: u64,
    /// Where each secret that is set came from, in the order of
    /// `secret_source::SECRETS` (for `telegate check`).
    pub secret_sources: Vec<(&'static str, SecretSource)>,
}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: &'static str,
    pub message: String,
}

/// Every problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<Problem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  {}: {}", problem.variable, problem.message)?;
        }
        write!(
            f,
            "set them in the environment or in .env (see .env.example)"
        )
    }
}

impl ConfigError {
    /// The variables named in the error, in order.
    pub fn variables(&self) -> Vec<&'static str> {
        self.0.iter().map(|p| p.variable).collect()
    }
}

pub const DEFAULT_API_URL: &str = "https://api.telegram.org";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:telegate.db";
pub const DEFAULT_TELEGRAM_RANGES: &str = "149.154.160.0/20,91.108.4.0/22";
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.1/32,::1/128";
/// MAX_CONNECTIONS when unset: Telegram's 100 at most, and room to spare.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// How long a connection may take to send a request head (see
/// [`Config::header_read_timeout`]).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Config {
    /// Reads the process environment, after loading `.env` from the current
    /// directory when one is there (variables already set in the environment win).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_for(Intake::Webhook)
    }

    /// [`Config::from_env`] for the given way of receiving updates.
    pub fn from_env_for(intake: Intake) -> Result<Self, ConfigError> {
        let vars = Variables::load()?;
        Self::from_sources(intake, |name| vars.get(name), |name| vars.origin(name))
    }

    /// Only DATABASE_URL, for the operator's commands that need nothing else.
    pub fn database_path_from_env() -> Result<PathBuf, ConfigError> {
        let vars = Variables::load()?;
        let mut r = Reader::new(|name: &str| vars.get(name));
        let path = r.sqlite_path("DATABASE_URL", DEFAULT_DATABASE_URL);
        r.finish()?;
        Ok(path.expect("checked"))
    }

    /// Only COMMANDS_FILE, for `telegate commands check`; `None` when unset.
    pub fn commands_file_from_env() -> Result<Option<PathBuf>, ConfigError> {
        let vars = Variables::load()?;
        let mut r = Reader::new(|name: &str| vars.get(name));
        let path = r.file_path("COMMANDS_FILE");
        r.finish()?;
        Ok(path.expect("checked"))
    }

    /// Only BOT_OWNER_ID, for `telegate notify` without `--chat`.
    pub fn owner_id_from_env() -> Result<i64, ConfigError> {
        let vars = Variables::load()?;
        let mut r = Reader::new(|name: &str| vars.get(name));
        let owner = r.user_id("BOT_OWNER_ID");
        r.finish()?;
        Ok(owner.expect("checked"))
    }

    /// Only the Bot API's address and the token, for `telegate owner-id`.
    pub fn bot_api_from_env() -> Result<(String, Secret), ConfigError> {
        const TOKEN: &str = "TELEGRAM_BOT_TOKEN";
        let vars = Variables::load()?;
        // The token, like serve's, from its variable, file or credential.
        let secrets = secret_source::resolve(&|name: &str| vars.get(name), &|name: &str| {
            vars.origin(name)
        });
        let mut r = Reader::new(|name: &str| match name {
            TOKEN => secrets.values.get(name).cloned(),
            _ => vars.get(name),
        });
        for (secret, problem) in secrets.problems.iter().filter(|(s, _)| *s == TOKEN) {
            r.secret_problem(secret, problem);
        }
        let api_url = r.api_url("TELEGRAM_API_URL", DEFAULT_API_URL);
        let token = r.token("TELEGRAM_BOT_TOKEN");
        r.finish()?;
        Ok((api_url.expect("checked"), token.expect("checked")))
    }

    /// Only LONG_MESSAGE_MAX_PARTS, for `telegate notify`.
    pub fn long_message_max_parts_from_env() -> Result<usize, ConfigError> {
        let vars = Variables::load()?;
        let mut r = Reader::new(|name: &str| vars.get(name));
        let parts = r.int_in("LONG_MESSAGE_MAX_PARTS", 4, 1..=50);
        r.finish()?;
        Ok(parts.expect("checked"))
    }

    /// Only DOWNLOAD_MAX_BYTES, for `telegate notify --file`.
    pub fn download_max_bytes_from_env() -> Result<u64, ConfigError> {
        let vars = Variables::load()?;
        let mut r = Reader::new(|name: &str| vars.get(name));
        let max = r.int_in(
            "DOWNLOAD_MAX_BYTES",
            crate::files::DEFAULT_MAX_BYTES,
            1..=4_000_000_000,
        );
        r.finish()?;
        Ok(max.expect("checked"))
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_for(Intake::Webhook, lookup)
    }

    /// [`Config::from_lookup`] for the given way of receiving updates.
    pub fn from_lookup_for(
        intake: Intake,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::from_sources(intake, lookup, |_| SecretSource::Environment)
    }

    /// Builds the configuration from `lookup`; `origin` says where a
    /// variable found there was set. Each secret is read from its variable,
    /// its `NAME_FILE` or its systemd credential, whichever one is given.
    fn from_sources(
        intake: Intake,
        lookup: impl Fn(&str) -> Option<String>,
        origin: impl Fn(&str) -> SecretSource,
    ) -> Result<Self, ConfigError> {
        let secrets = secret_source::resolve(&lookup, &origin);
        let mut r = Reader::new(|name: &str| {
            if secret_source::SECRETS
                .iter()
                .any(|(secret, _)| *secret == name)
            {
                secrets.values.get(name).cloned()
            } else {
                lookup(name)
            }
        });
        for (secret, problem) in &secrets.problems {
            r.secret_problem(secret, problem);
        }
        let polling = intake == Intake::Polling;
        let bot_token = r.token("TELEGRAM_BOT_TOKEN");
        let api_url = r.api_url("TELEGRAM_API_URL", DEFAULT_API_URL);
        // Polling needs no webhook: an unset URL stays empty, and an unset
        // secret is a random one nobody knows (no webhook route is served).
        let webhook = if polling && !r.is_set("WEBHOOK_URL") {
            Some((String::new(), "/telegram/webhook".to_owned()))
        } else {
            r.webhook_url("WEBHOOK_URL")
        };
        let webhook_secret = if polling && !r.is_set("WEBHOOK_SECRET") {
            Some(Secret::random())
        } else {
            r.webhook_secret("WEBHOOK_SECRET")
        };
        let webhook_max_connections = r.int_in("WEBHOOK_MAX_CONNECTIONS", 40, 1..=100);
        let listen_addr = r.socket_addr("LISTEN_ADDR", "127.0.0.1:8000");
        let max_connections = r.int_in("MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, 1..=10_000);
        if let (Some(max), Some(telegram)) = (max_connections, webhook_max_connections)
            && max < usize::from(telegram)
        {
            r.problem(
                "MAX_CONNECTIONS",
                format!("must be at least WEBHOOK_MAX_CONNECTIONS ({telegram}): Telegram opens that many connections at once"),
            );
        }
        let metrics_addr = r.socket_addr("METRICS_ADDR", "127.0.0.1:9464");
        let tls = tls_files(&mut r);
        let webhook_cert_upload = r.flag("WEBHOOK_CERT_UPLOAD", false);
        if webhook_cert_upload == Some(true) && tls.as_ref().is_some_and(Option::is_none) {
            r.problem(
                "WEBHOOK_CERT_UPLOAD",
                "uploads TLS_CERT_FILE, which is not set (set TLS_CERT_FILE and TLS_KEY_FILE, or WEBHOOK_CERT_UPLOAD=false)",
            );
        }
        let database_path = r.sqlite_path("DATABASE_URL", DEFAULT_DATABASE_URL);
        let storage_fault_exit_after = r.duration("STORAGE_FAULT_EXIT_AFTER", "5m");
        let owner_id = r.user_id("BOT_OWNER_ID");
        let allowed_chat_ids = r.id_list("ALLOWED_CHAT_IDS");
        let trusted_proxies = r.cidr_list("TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES);
        let telegram_ranges = r.cidr_list("TELEGRAM_IP_RANGES", DEFAULT_TELEGRAM_RANGES);
        let enrollment_passcode = r.passcode("ENROLLMENT_PASSCODE");
        let lockout_after = r.int_in("LOCKOUT_AFTER", 5, 1..=100);
        let lockout_window = r.duration("LOCKOUT_WINDOW", "15m");
        let lockout_duration = r.duration("LOCKOUT_DURATION", "1h");
        let enrollment_max_wrong_per_hour =
            r.int_in("ENROLLMENT_MAX_WRONG_PER_HOUR", 20, 1..=10_000);
        let totp_secret = r.totp_secret("TOTP_SECRET");
        let session_timeout = r.duration("SESSION_TIMEOUT", "3600");
        let session_max_age = r.duration("SESSION_MAX_AGE", "12h");
        let audit_retention_days = r.int_in("AUDIT_RETENTION_DAYS", 365, 0..=36_500);
        let retention_days = r.int_in("RETENTION_DAYS", 7, 0..=36_500);
        let inbound_limit_per_min = r.int_in("INBOUND_LIMIT_PER_MIN", 30, 1..=10_000);
        let rate_global_per_sec = r.int_in("RATE_GLOBAL_PER_SEC", 30, 1..=1000);
        let rate_chat_per_sec = r.int_in("RATE_CHAT_PER_SEC", 1, 1..=100);
        let rate_group_per_min = r.int_in("RATE_GROUP_PER_MIN", 20, 1..=6000);
        let send_max_age = r.duration("SEND_MAX_AGE", "24h");
        let long_message_max_parts = r.int_in("LONG_MESSAGE_MAX_PARTS", 4, 1..=50);
        let send_retry_backoff = r.durations("SEND_RETRY_BACKOFF", "1s,4s,16s,60s");
        let log_level = r.log_level("LOG_LEVEL", "info");
        let log_format = r.log_format("LOG_FORMAT");
        let commands_file = r.file_path("COMMANDS_FILE");
        let relay_max_running = r.int_in("RELAY_MAX_RUNNING", 4, 1..=1000);
        let relay_max_per_user = r.int_in("RELAY_MAX_PER_USER", 2, 1..=1000);
        let confirm_timeout = r.duration("CONFIRM_TIMEOUT", "60s");
        let relay_edit_every = r.duration("RELAY_EDIT_EVERY", "2s");
        let relay_output_cap = r.int_in("RELAY_OUTPUT_CAP", 10 * 1024 * 1024, 1024..=50_000_000);
        let relay_message_output = r.int_in(
            "RELAY_MESSAGE_OUTPUT",
            crate::relay::status::MESSAGE_OUTPUT_MAX,
            0..=crate::relay::status::MESSAGE_OUTPUT_MAX,
        );
        let upload_dir = r.file_path("UPLOAD_DIR");
        let upload_max_bytes = r.int_in(
            "UPLOAD_MAX_BYTES",
            crate::files::service::DEFAULT_MAX_BYTES,
            1..=4_000_000_000,
        );
        let download_dirs = r.dir_list("DOWNLOAD_DIRS");
        let download_max_bytes = r.int_in(
            "DOWNLOAD_MAX_BYTES",
            crate::files::DEFAULT_MAX_BYTES,
            1..=4_000_000_000,
        );
        r.finish()?;
        // finish() returned Ok, so every field above is Some.
        let (webhook_url, webhook_path) = webhook.expect("checked");
        Ok(Self {
            intake,
            bot_token: bot_token.expect("checked"),
            api_url: api_url.expect("checked"),
            webhook_url,
            webhook_path,
            webhook_secret: webhook_secret.expect("checked"),
            webhook_max_connections: webhook_max_connections.expect("checked"),
            listen_addr: listen_addr.expect("checked"),
            max_connections: max_connections.expect("checked"),
            header_read_timeout: HEADER_READ_TIMEOUT,
            tls: tls.expect("checked"),
            webhook_cert_upload: webhook_cert_upload.expect("checked"),
            metrics_addr: metrics_addr.expect("checked"),
            database_path: database_path.expect("checked"),
            storage_fault_exit_after: storage_fault_exit_after.expect("checked"),
            owner_id: owner_id.expect("checked"),
            allowed_chat_ids: allowed_chat_ids.expect("checked"),
            trusted_proxies: trusted_proxies.expect("checked"),
            telegram_ranges: telegram_ranges.expect("checked"),
            enrollment_passcode: enrollment_passcode.expect("checked"),
            lockout_after: lockout_after.expect("checked"),
            lockout_window: lockout_window.expect("checked"),
            lockout_duration: lockout_duration.expect("checked"),
            enrollment_max_wrong_per_hour: enrollment_max_wrong_per_hour.expect("checked"),
            totp_secret: totp_secret.expect("checked"),
            session_timeout: session_timeout.expect("checked"),
            session_max_age: session_max_age.expect("checked"),
            audit_retention_days: audit_retention_days.expect("checked"),
            retention_days: retention_days.expect("checked"),
            inbound_limit_per_min: inbound_limit_per_min.expect("checked"),
            rate_global_per_sec: rate_global_per_sec.expect("checked"),
            rate_chat_per_sec: rate_chat_per_sec.expect("checked"),
            rate_group_per_min: rate_group_per_min.expect("checked"),
            send_max_age: send_max_age.expect("checked"),
            long_message_max_parts: long_message_max_parts.expect("checked"),
            send_retry_backoff: send_retry_backoff.expect("checked"),
            log_level: log_level.expect("checked"),
            log_format: log_format.expect("checked"),
            commands_file: commands_file.expect("checked"),
            relay: crate::relay::service::Settings {
                max_running: relay_max_running.expect("checked"),
                max_per_user: relay_max_per_user.expect("checked"),
                confirm_timeout: confirm_timeout.expect("checked"),
                edit_every: relay_edit_every.expect("checked"),
                output_cap: relay_output_cap.expect("checked"),
                message_output: relay_message_output.expect("checked"),
                kill_grace: crate::relay::runner::DEFAULT_KILL_GRACE,
            },
            uploads: crate::files::Settings {
                dir: upload_dir.expect("checked"),
                max_bytes: upload_max_bytes.expect("checked"),
            },
            download_dirs: download_dirs.expect("checked"),
            download_max_bytes: download_max_bytes.expect("checked"),
            secret_sources: secrets.sources.clone(),
        })
    }

    /// The numeric bot id, the part of the token before the colon (public).
    pub fn bot_id(&self) -> &str {
        self.bot_token
            .expose()
            .split(':')
            .next()
            .unwrap_or_default()
    }
}

/// TLS_CERT_FILE and TLS_KEY_FILE: both or neither.
fn tls_files<F: Fn(&str) -> Option<String>>(r: &mut Reader<F>) -> Option<Option<TlsFiles>> {
    let cert = r.file_path("TLS_CERT_FILE")?;
    let key = r.file_path("TLS_KEY_FILE")?;
    match (cert, key) {
        (Some(cert), Some(key)) => Some(Some(TlsFiles { cert, key })),
        (None, None) => Some(None),
        (Some(_), None) => {
            r.problem(
                "TLS_KEY_FILE",
                "is required when TLS_CERT_FILE is set (the certificate's private key, PEM)",
            );
            None
        }
        (None, Some(_)) => {
            r.problem(
                "TLS_CERT_FILE",
                "is required when TLS_KEY_FILE is set (the certificate chain, PEM)",
            );
            None
        }
    }
}

/// The file named by `--env-file`, read instead of ./.env.
static ENV_FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Reads the configuration from `path` instead of ./.env (the command line's
/// `--env-file`, for the operator's commands on a server whose
/// configuration is systemd's EnvironmentFile). Set once, before reading.
pub fn use_env_file(path: PathBuf) {
    let _ = ENV_FILE.set(path);
}

/// The file the configuration is read from besides the environment, and
/// whether it was named explicitly (then it must exist).
pub fn env_file() -> (PathBuf, bool) {
    match ENV_FILE.get() {
        Some(path) => (path.clone(), true),
        None => (PathBuf::from(".env"), false),
    }
}

/// The variables telegate reads: the process environment first, then the
/// env file (./.env when it exists, only in the working directory: a file in
/// a parent directory is not ours to read; or the `--env-file`). The file is
/// parsed, never loaded into the process environment.
struct Variables {
    file: Option<(PathBuf, HashMap<String, String>)>,
}

impl Variables {
    fn load() -> Result<Self, ConfigError> {
        let (path, named) = env_file();
        if !named && !path.exists() {
            return Ok(Self { file: None });
        }
        // Neither the I/O error nor the parse error shows any of the text.
        let problem = |message: String| {
            let (variable, message) = if named {
                ("--env-file", format!("{} {message}", path.display()))
            } else {
                (".env", message)
            };
            ConfigError(vec![Problem { variable, message }])
        };
        let text = std::fs::read(&path).map_err(|e| problem(format!("cannot be read: {e}")))?;
        let text = String::from_utf8(text)
            .map_err(|_| problem("cannot be read: it is not UTF-8 text".to_owned()))?;
        let pairs = env_file::parse(&text).map_err(|e| problem(format!("cannot be read: {e}")))?;
        Ok(Self {
            file: Some((path, pairs.into_iter().collect())),
        })
    }

    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.file.as_ref()?.1.get(name).cloned())
    }

    fn origin(&self, name: &str) -> SecretSource {
        match &self.file {
            Some((path, vars)) if std::env::var_os(name).is_none() && vars.contains_key(name) => {
                SecretSource::EnvFile(path.clone())
            }
            _ => SecretSource::Environment,
        }
    }
}

#[cfg(test)]
mod tests;
