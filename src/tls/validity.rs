//! When a certificate expires: its notAfter, read from the DER of the first
//! certificate in a PEM chain. A few lines of DER walking instead of an
//! X.509 crate: only the TBSCertificate's fields up to its validity are
//! read, and anything unexpected gives `None`.

use rustls_pki_types::{CertificateDer, pem::PemObject};

use crate::timefmt::unix_ms;

/// The notAfter of the first certificate in `pem`, in unix milliseconds.
pub fn not_after(pem: &[u8]) -> Option<i64> {
    let first = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
    not_after_der(&first)
}

fn not_after_der(der: &[u8]) -> Option<i64> {
    const SEQUENCE: u8 = 0x30;
    const VERSION: u8 = 0xa0;
    let (SEQUENCE, certificate, _) = tlv(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = tlv(certificate)? else {
        return None;
    };
    let mut rest = tbs;
    if let (VERSION, _, after) = tlv(rest)? {
        rest = after;
    }
    // serialNumber, signature, issuer
    for _ in 0..3 {
        rest = tlv(rest)?.2;
    }
    let (SEQUENCE, validity, _) = tlv(rest)? else {
        return None;
    };
    let not_before_rest = tlv(validity)?.2;
    let (tag, time, _) = tlv(not_before_rest)?;
    time_ms(tag, time)
}

/// One DER element at the start of `input`: (tag, contents, what follows).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |len, byte| len << 8 | usize::from(*byte))
    };
    let (contents, after) = rest.split_at_checked(len)?;
    Some((tag, contents, after))
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`), as RFC 5280 requires them.
fn time_ms(tag: u8, time: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let (year, rest) = match (tag, text.len()) {
        (0x17, 12) => {
            let yy: i64 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (0x18, 14) => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2)?.parse::<u32>().ok();
    unix_ms(year, field(0)?, field(2)?, field(4)?, field(6)?, field(8)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_time_forms_are_read() {
        assert_eq!(time_ms(0x17, b"261125194005Z"), Some(1_795_635_605_000));
        assert_eq!(time_ms(0x18, b"20261125194005Z"), Some(1_795_635_605_000));
        assert_eq!(
            time_ms(0x17, b"491231235959Z"),
            unix_ms(2049, 12, 31, 23, 59, 59)
        );
        assert_eq!(
            time_ms(0x17, b"500101000000Z"),
            unix_ms(1950, 1, 1, 0, 0, 0)
        );
        assert_eq!(time_ms(0x17, b"2611251940Z"), None);
    }

    #[test]
    fn what_is_not_a_certificate_has_no_expiry() {
        assert_eq!(not_after(b"not a certificate"), None);
        let not_der = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(not_after(not_der), None);
    }
}
