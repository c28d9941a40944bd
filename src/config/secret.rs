//! Secrets as types: they never print their value, and compare in constant time.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// A secret string (bot token, webhook secret, passcode). `Debug` and `Display`
/// print `[redacted]`; the value is reachable only through [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// 32 random base32 characters (160 bits), for a secret that must
    /// exist but that nobody is meant to know.
    pub fn random() -> Self {
        Self::new(totp_rs::Secret::generate().to_base32())
    }

    /// The value itself, for the few places that must send it somewhere.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Constant-time comparison with a candidate value (the time taken does not
    /// depend on how many leading bytes match).
    pub fn matches(&self, candidate: &[u8]) -> bool {
        self.expose().as_bytes().ct_eq(candidate).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
    }

    #[test]
    fn a_secret_matches_only_its_exact_value() {
        let secret = Secret::new("abc");
        assert!(secret.matches(b"abc"));
        assert!(!secret.matches(b"abd"));
        assert!(!secret.matches(b"ab"));
        assert!(!secret.matches(b"abcd"));
        assert!(!secret.matches(b""));
    }
}
