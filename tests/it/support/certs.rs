//! Certificates made with openssl (installed by .ci/run), for the tests
//! that speak TLS.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// Writes a self-signed certificate for 127.0.0.1 and localhost to `cert`,
/// and its key to `key` (what WEBHOOK_CERT_UPLOAD is for).
pub fn self_signed(cert: &Path, key: &Path) {
    openssl(&["-days", "1", "-subj", "/CN=localhost"], cert, key);
}

/// A certificate authority of the test's own, as Let's Encrypt is for a
/// real server: clients trust it, and the server's certificate is issued
/// by it.
pub struct TestCa {
    cert: PathBuf,
    key: PathBuf,
}

impl TestCa {
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let (cert, key) = (dir.join("ca.pem"), dir.join("ca.key"));
        openssl(
            &["-days", "1", "-subj", "/CN=telegate test CA"],
            &cert,
            &key,
        );
        Self { cert, key }
    }

    /// The CA's certificate, PEM, for a client to trust.
    pub fn pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap()
    }

    /// A TLS client (rustls) that trusts only this CA, for tests that speak
    /// TLS byte by byte.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        use rustls_pki_types::{CertificateDer, pem::PemObject};
        use tokio_rustls::rustls;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.pem()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
    }

    /// Issues a certificate for 127.0.0.1 and localhost to `cert` and `key`
    /// (a new key each time, as a renewal may have), valid for a day.
    pub fn issue(&self, cert: &Path, key: &Path) {
        self.issue_for(1, cert, key);
    }

    /// [`TestCa::issue`], valid for `days`.
    pub fn issue_for(&self, days: u32, cert: &Path, key: &Path) {
        let (ca_cert, ca_key) = (self.cert.display(), self.key.display());
        openssl(
            &[
                "-days",
                &days.to_string(),
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-CA",
                &ca_cert.to_string(),
                "-CAkey",
                &ca_key.to_string(),
            ],
            cert,
            key,
        );
    }
}

fn openssl(args: &[&str], cert: &Path, key: &Path) {
    let output = Command::new("openssl")
        .args(["req", "-x509", "-nodes"])
        .args(EC)
        .args(args)
        .arg("-keyout")
        .arg(key)
        .arg("-out")
        .arg(cert)
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The notAfter of the certificate in `cert`, as openssl reads it:
/// `2026-11-27 01:40:00` (UTC).
pub fn not_after(cert: &Path) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(cert)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .strip_prefix("notAfter=")
        .and_then(|t| t.strip_suffix('Z'))
        .unwrap_or_else(|| panic!("openssl said {text:?}"))
        .to_owned()
}
