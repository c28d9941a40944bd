//! Parsers for single variables; each records a problem instead of stopping.

use std::{net::SocketAddr, ops::RangeInclusive, path::PathBuf, str::FromStr, time::Duration};

use frankenstein::reqwest::Url;
use ipnet::IpNet;

use super::{ConfigError, LogFormat, Problem, Secret};

/// The shortest ENROLLMENT_PASSCODE.
pub const MIN_PASSCODE: usize = 12;

/// The shortest WEBHOOK_SECRET.
pub const MIN_WEBHOOK_SECRET: usize = 32;

/// The example configuration, whose placeholders must never be used.
const ENV_EXAMPLE: &str = include_str!("../../.env.example");

/// The value .env.example gives `name`, if it gives one.
fn shipped_example(name: &str) -> Option<&'static str> {
    ENV_EXAMPLE.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key == name && !value.is_empty()).then_some(value)
    })
}

/// Ports Telegram will deliver webhooks to.
const WEBHOOK_PORTS: [u16; 4] = [443, 80, 88, 8443];

pub(super) struct Reader<F> {
    lookup: F,
    problems: Vec<Problem>,
    /// Required variables whose problem is recorded already (a secret file
    /// that cannot be read): not reported as missing as well.
    excused: Vec<&'static str>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            problems: Vec::new(),
            excused: Vec::new(),
        }
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(self.problems))
        }
    }

    /// Records a problem with `variable` (also one found by looking at
    /// several variables together).
    pub fn problem(&mut self, variable: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            variable,
            message: message.into(),
        });
    }

    /// The trimmed value, `None` when unset or blank.
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether the variable has a value.
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Records a problem with the secret `name`, which is then not also
    /// reported as missing.
    pub fn secret_problem(&mut self, name: &'static str, problem: &Problem) {
        self.excused.push(name);
        self.problem(problem.variable, problem.message.clone());
    }

    fn required(&mut self, name: &'static str, what: &str) -> Option<String> {
        let Some(value) = self.get(name) else {
            if !self.excused.contains(&name) {
                self.problem(name, format!("is required: {what}"));
            }
            return None;
        };
        if shipped_example(name) == Some(value.as_str()) {
            // The value is public (it is in .env.example): naming it is safe.
            self.problem(
                name,
                format!("is still the example value from .env.example; set {what}"),
            );
            return None;
        }
        Some(value)
    }

    fn or_default(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn token(&mut self, name: &'static str) -> Option<Secret> {
        let value = self.required(name, "the bot token from @BotFather")?;
        let well_formed = value.split_once(':').is_some_and(|(id, key)| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && key.len() >= 30
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if !well_formed {
            // Never echo the value: it may be a real token with a typo.
            self.problem(
                name,
                "is not a bot token: expected digits, a colon and at least 30 letters, digits, '_' or '-' (as @BotFather gives it)",
            );
            return None;
        }
        Some(Secret::new(value))
    }

    pub fn api_url(&mut self, name: &'static str, default: &str) -> Option<String> {
        let value = self.or_default(name, default);
        match Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(value.trim_end_matches('/').to_owned())
            }
            _ => {
                self.problem(
                    name,
                    format!("must be an http(s) URL such as {default}, got {value:?}"),
                );
                None
            }
        }
    }

    /// The public webhook URL and its path.
    pub fn webhook_url(&mut self, name: &'static str) -> Option<(String, String)> {
        let value = self.required(name, "the public https URL Telegram posts updates to")?;
        let url = match Url::parse(&value) {
            Ok(url) => url,
            Err(e) => {
                self.problem(name, format!("is not a URL ({e}): {value:?}"));
                return None;
            }
        };
        if url.scheme() != "https" {
            self.problem(
                name,
                "must start with https:// (Telegram only delivers over TLS)",
            );
            return None;
        }
        let port = url.port_or_known_default().unwrap_or(443);
        if !WEBHOOK_PORTS.contains(&port) {
            self.problem(
                name,
                format!("uses port {port}; Telegram only delivers to ports 443, 80, 88 or 8443"),
            );
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.problem(name, "must not have a query string or fragment");
            return None;
        }
        if url.path() == "/" {
            self.problem(name, "needs a path, such as https://bot.telegate.test/telegram/webhook (so the route is not guessable from the domain alone)");
            return None;
        }
        Some((value, url.path().to_owned()))
    }

    pub fn webhook_secret(&mut self, name: &'static str) -> Option<Secret> {
        let value = self.required(
            name,
            "a random secret of 32-256 characters of A-Z, a-z, 0-9, '_' and '-'",
        )?;
        let ok = value.len() <= 256
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            self.problem(name, "must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-' (Telegram's rule for secret_token)");
            return None;
        }
        if value.len() < MIN_WEBHOOK_SECRET {
            self.problem(name, format!("is {} characters long; use at least {MIN_WEBHOOK_SECRET} random ones: head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9_-'", value.len()));
            return None;
        }
        Some(Secret::new(value))
    }

    pub fn int_in<T>(
        &mut self,
        name: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Option<T>
    where
        T: FromStr + PartialOrd + Copy + std::fmt::Display,
    {
        let Some(value) = self.get(name) else {
            return Some(default);
        };
        match value.parse::<T>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.problem(
                    name,
                    format!(
                        "must be a whole number from {} to {}, got {value:?}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    pub fn socket_addr(&mut self, name: &'static str, default: &str) -> Option<SocketAddr> {
        let value = self.or_default(name, default);
        match value.parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                self.problem(
                    name,
                    format!("must be an address and port such as {default}, got {value:?}"),
                );
                None
            }
        }
    }

    /// `true` or `false` (also 1/0, yes/no, on/off).
    pub fn flag(&mut self, name: &'static str, default: bool) -> Option<bool> {
        let Some(value) = self.get(name) else {
            return Some(default);
        };
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => {
                self.problem(name, format!("must be true or false, not {value:?}"));
                None
            }
        }
    }

    /// A file path, `None` inside when unset.
    pub fn file_path(&mut self, name: &'static str) -> Option<Option<PathBuf>> {
        Some(self.get(name).map(PathBuf::from))
    }

    /// Comma-separated absolute paths of existing folders; empty when unset.
    pub fn dir_list(&mut self, name: &'static str) -> Option<Vec<PathBuf>> {
        let Some(value) = self.get(name) else {
            return Some(Vec::new());
        };
        let mut dirs = Vec::new();
        let mut ok = true;
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let dir = PathBuf::from(item);
            if !dir.is_absolute() {
                self.problem(
                    name,
                    format!("{item:?} is not an absolute path; give each folder from /"),
                );
                ok = false;
            } else if !dir.is_dir() {
                self.problem(
                    name,
                    format!(
                        "{item:?} is not an existing folder; create it or remove it from the list"
                    ),
                );
                ok = false;
            }
            dirs.push(dir);
        }
        ok.then_some(dirs)
    }

    pub fn sqlite_path(&mut self, name: &'static str, default: &str) -> Option<PathBuf> {
        let value = self.or_default(name, default);
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .map(|p| p.split('?').next().unwrap_or_default())
            .filter(|p| !p.is_empty() && *p != ":memory:");
        match path {
            Some(p) => Some(PathBuf::from(p)),
            None => {
                self.problem(
                    name,
                    format!(
                        "must be sqlite:PATH to a database file, such as {default}, got {value:?}"
                    ),
                );
                None
            }
        }
    }

    pub fn user_id(&mut self, name: &'static str) -> Option<i64> {
        let value = self.required(
            name,
            "your numeric Telegram user id (ask @userinfobot, or run /whoami)",
        )?;
        match value.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                self.problem(
                    name,
                    format!("must be a positive whole number (a Telegram user id), got {value:?}"),
                );
                None
            }
        }
    }

    pub fn id_list(&mut self, name: &'static str) -> Option<Vec<i64>> {
        let value = self.get(name).unwrap_or_default();
        let mut ids = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.parse::<i64>() {
                Ok(id) if id != 0 => ids.push(id),
                _ => {
                    self.problem(
                        name,
                        format!(
                            "must be a comma list of user or chat ids, and {item:?} is not one"
                        ),
                    );
                    return None;
                }
            }
        }
        Some(ids)
    }

    pub fn cidr_list(&mut self, name: &'static str, default: &str) -> Option<Vec<IpNet>> {
        let value = (self.lookup)(name).map(|v| v.trim().to_owned());
        // An explicitly empty value means "none" (for TRUSTED_PROXIES: no proxy).
        let value = value.unwrap_or_else(|| default.to_owned());
        let mut nets = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parsed = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from));
            match parsed {
                Ok(net) => nets.push(net.trunc()),
                Err(_) => {
                    self.problem(name, format!("must be a comma list of CIDRs such as {default}, and {item:?} is not one"));
                    return None;
                }
            }
        }
        Some(nets)
    }

    /// A comma list of durations such as `1s,4s,16s,60s` or `250ms`.
    pub fn durations(&mut self, name: &'static str, default: &str) -> Option<Vec<Duration>> {
        let value = self.or_default(name, default);
        let parsed: Option<Vec<Duration>> = value.split(',').map(parse_duration).collect();
        match parsed {
            Some(list) if !list.is_empty() => Some(list),
            _ => {
                self.problem(
                    name,
                    format!("must be a comma list of durations such as {default}, got {value:?}"),
                );
                None
            }
        }
    }

    /// One duration such as `15m`, `1h`, `90s`.
    pub fn duration(&mut self, name: &'static str, default: &str) -> Option<Duration> {
        match self.durations(name, default)?.as_slice() {
            [one] => Some(*one),
            _ => {
                self.problem(name, format!("must be one duration such as {default}"));
                None
            }
        }
    }

    /// An optional passcode: at least [`MIN_PASSCODE`] characters when set.
    pub fn passcode(&mut self, name: &'static str) -> Option<Option<Secret>> {
        match self.get(name) {
            None => Some(None),
            Some(value) if value.chars().count() >= MIN_PASSCODE => Some(Some(Secret::new(value))),
            Some(_) => {
                self.problem(
                    name,
                    format!("must be at least {MIN_PASSCODE} characters, so that guessing it is hopeless (or unset, to turn enrolment off)"),
                );
                None
            }
        }
    }

    /// An optional TOTP secret in base32, as `telegate totp-setup` prints it.
    pub fn totp_secret(&mut self, name: &'static str) -> Option<Option<Secret>> {
        let Some(value) = self.get(name) else {
            return Some(None);
        };
        match crate::auth::totp::TotpVerifier::from_base32(&value) {
            Ok(_) => Some(Some(Secret::new(value.trim().to_ascii_uppercase()))),
            Err(e) => {
                self.problem(
                    name,
                    format!("{e}; run `telegate totp-setup` for a new one, or unset it to use the passcode"),
                );
                None
            }
        }
    }

    pub fn log_level(&mut self, name: &'static str, default: &str) -> Option<String> {
        let value = self.or_default(name, default);
        match tracing_subscriber::EnvFilter::try_new(&value) {
            Ok(_) => Some(value),
            Err(e) => {
                self.problem(
                    name,
                    format!("is not a log filter such as info, debug or telegate=debug,warn ({e})"),
                );
                None
            }
        }
    }

    pub fn log_format(&mut self, name: &'static str) -> Option<LogFormat> {
        match self
            .or_default(name, "pretty")
            .to_ascii_lowercase()
            .as_str()
        {
            "pretty" => Some(LogFormat::Pretty),
            "json" => Some(LogFormat::Json),
            other => {
                self.problem(name, format!("must be pretty or json, got {other:?}"));
                None
            }
        }
    }
}

/// A duration such as `250ms`, `90s`, `15m`, `1h` or `7d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let item = text.trim();
    let (number, unit) = [
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ]
    .iter()
    .find_map(|(suffix, unit)| item.strip_suffix(suffix).map(|n| (n, *unit)))
    .unwrap_or((item, 1000));
    let n = number.trim().parse::<u64>().ok()?;
    n.checked_mul(unit).map(Duration::from_millis)
}
