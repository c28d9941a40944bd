//! Time-based one-time codes (RFC 6238): 30-second steps, 6 digits, SHA-1,
//! one step of clock skew either way, and every step usable once.

use std::fmt;

use qrcode::{QrCode, render::unicode::Dense1x2};
use totp_rs::{Builder, Secret as TotpSecret, Totp};

/// Checks codes against one shared secret. Never prints the secret.
pub struct TotpVerifier {
    totp: Totp,
}

impl fmt::Debug for TotpVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpVerifier([redacted])")
    }
}

/// Why a secret was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("is not base32 (the letters A-Z and digits 2-7, as `telegate totp-setup` prints it)")]
    NotBase32,
    #[error("is too short: at least 128 bits (26 base32 characters) are needed")]
    TooShort,
}

impl TotpVerifier {
    /// From the base32 text an authenticator app is given.
    pub fn from_base32(secret: &str) -> Result<Self, SecretError> {
        let bytes = TotpSecret::try_from_base32(secret.trim().to_ascii_uppercase())
            .map_err(|_| SecretError::NotBase32)?;
        Self::from_bytes(bytes.as_bytes())
    }

    /// From the raw secret bytes (at least 16).
    pub fn from_bytes(secret: &[u8]) -> Result<Self, SecretError> {
        let totp = Builder::new()
            .with_secret(secret.to_vec())
            .build()
            .map_err(|_| SecretError::TooShort)?;
        Ok(Self { totp })
    }

    /// The step a code matches at unix time `now` (within one step of skew),
    /// provided it is later than `last_used`, the step accepted last: a code
    /// is usable once, and an older one never after a newer one.
    pub fn accept(&self, code: &str, now: u64, last_used: Option<u64>) -> Option<u64> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let step = self.totp.check(code, now)?;
        (last_used < Some(step)).then_some(step)
    }

    /// The code for unix time `now` (for tests and the setup check).
    pub fn code_at(&self, now: u64) -> String {
        self.totp.generate(now).to_string()
    }
}

/// What `telegate totp-setup` shows the owner.
pub struct Setup {
    /// The new secret, base32: what TOTP_SECRET is set to.
    pub secret: String,
    /// The `otpauth://` URI authenticator apps import.
    pub uri: String,
    /// The URI as a QR code drawn with Unicode blocks, for a terminal.
    pub qr: String,
}

/// A new random 160-bit secret and the ways to hand it to an authenticator app.
pub fn new_setup(account: &str) -> anyhow::Result<Setup> {
    let secret = TotpSecret::generate();
    let encoded = secret.to_base32();
    let totp = Builder::new()
        .with_secret(secret)
        .with_issuer(Some("telegate"))
        .with_account_name(account.replace(':', " "))
        .build()?;
    let uri = totp.to_url()?;
    let qr = QrCode::new(uri.as_bytes())?
        .render::<Dense1x2>()
        .quiet_zone(true)
        .build();
    Ok(Setup {
        secret: encoded,
        uri,
        qr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, with the last 6 of the 8 digits.
    const VECTORS: [(u64, &str); 6] = [
        (59, "287082"),
        (1_111_111_109, "081804"),
        (1_111_111_111, "050471"),
        (1_234_567_890, "005924"),
        (2_000_000_000, "279037"),
        (20_000_000_000, "353130"),
    ];

    fn rfc() -> TotpVerifier {
        TotpVerifier::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn the_rfc_6238_test_vectors_are_accepted() {
        let v = rfc();
        for (time, code) in VECTORS {
            assert_eq!(v.code_at(time), code, "at {time}");
            assert_eq!(v.accept(code, time, None), Some(time / 30), "at {time}");
        }
    }

    #[test]
    fn one_step_of_skew_is_allowed_and_no_more() {
        let v = rfc();
        let (time, code) = VECTORS[3];
        assert!(v.accept(code, time + 30, None).is_some(), "one step late");
        assert!(v.accept(code, time - 30, None).is_some(), "one step early");
        assert_eq!(v.accept(code, time + 60, None), None, "a stale code");
        assert_eq!(v.accept(code, time - 60, None), None);
    }

    #[test]
    fn a_code_is_usable_once_and_an_older_one_never_after_it() {
        let v = rfc();
        let (time, code) = VECTORS[3];
        let step = v.accept(code, time, None).unwrap();
        assert_eq!(v.accept(code, time, Some(step)), None, "reused");
        let older = v.code_at(time - 30);
        assert_eq!(
            v.accept(&older, time, Some(step)),
            None,
            "older than the last used"
        );
        let newer = v.code_at(time + 30);
        assert_eq!(v.accept(&newer, time + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn malformed_codes_and_secrets_are_refused() {
        let v = rfc();
        for code in ["", "28708", "2870820", "28708a", "94287082"] {
            assert_eq!(v.accept(code, 59, None), None, "{code:?}");
        }
        assert_eq!(
            TotpVerifier::from_base32("not base32!").unwrap_err(),
            SecretError::NotBase32
        );
        assert_eq!(
            TotpVerifier::from_base32("GEZDGNBV").unwrap_err(),
            SecretError::TooShort
        );
        assert!(!format!("{v:?}").contains("1234567890"));
    }

    #[test]
    fn a_setup_gives_a_secret_its_uri_and_a_qr_code_that_agree() {
        let setup = new_setup("owner").unwrap();
        assert!(
            setup.uri.starts_with("otpauth://totp/telegate:owner?"),
            "{}",
            setup.uri
        );
        assert!(
            setup.uri.contains(&format!("secret={}", setup.secret)),
            "{}",
            setup.uri
        );
        assert!(setup.secret.len() >= 32);
        let v = TotpVerifier::from_base32(&setup.secret).unwrap();
        assert!(v.accept(&v.code_at(1_000_000), 1_000_000, None).is_some());
        assert!(setup.qr.lines().count() > 10);
    }
}
