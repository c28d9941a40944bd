//! Tracing set-up, with every secret scrubbed from every line at every level
//! (reqwest and hyper print request URLs, and the token is in the URL).

use std::{io, sync::Arc};

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

use crate::config::LogFormat;

/// Installs the global subscriber. `secrets` are replaced by `[redacted]`
/// wherever they would appear. Calling it twice keeps the first.
pub fn init(level: &str, format: LogFormat, secrets: Vec<String>) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = Redacting::new(secrets);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Writes log lines to stderr with the secrets replaced.
#[derive(Clone)]
pub struct Redacting {
    secrets: Arc<[String]>,
}

impl Redacting {
    /// The token's key part (after the colon) is redacted on its own too, so
    /// that it cannot leak in a re-encoded form of the URL.
    pub fn new(secrets: Vec<String>) -> Self {
        let mut all: Vec<String> = Vec::new();
        for secret in secrets.into_iter().filter(|s| s.len() >= 4) {
            if let Some((_, key)) = secret.split_once(':') {
                all.push(key.to_owned());
            }
            all.push(secret);
        }
        // Longest first, so a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            secrets: all.into(),
        }
    }

    /// The text with every secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "[redacted]"))
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            redact: self.clone(),
        }
    }
}

/// One event's writer. The formatter hands it a whole line at once.
pub struct LineWriter {
    redact: Redacting,
}

impl io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().write_all(self.redact.scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_and_its_key_part_are_scrubbed() {
        let r = Redacting::new(vec!["123:ABCDEFGHIJKLMNOP".into(), "hook-secret".into()]);
        assert_eq!(
            r.scrub("POST /bot123:ABCDEFGHIJKLMNOP/getMe key=ABCDEFGHIJKLMNOP s=hook-secret"),
            "POST /bot[redacted]/getMe key=[redacted] s=[redacted]"
        );
    }
}
