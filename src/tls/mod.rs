//! Direct TLS, for running without nginx: serve terminates TLS itself with
//! rustls, on TLS_CERT_FILE and TLS_KEY_FILE, and re-reads them on SIGHUP so
//! a renewed certificate needs no restart.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;

use crate::config::TlsFiles;

mod validity;

pub use validity::not_after;

/// The certificate being served, and where it came from.
#[derive(Clone)]
pub struct Certificate {
    files: TlsFiles,
    rustls: RustlsConfig,
    /// The served certificate's notAfter (unix ms), 0 when unreadable.
    not_after: Arc<AtomicI64>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// Reads and checks the certificate chain and key.
    pub async fn load(files: &TlsFiles) -> anyhow::Result<Self> {
        let (cert, key) = read(files).await?;
        let expires = not_after(&cert).unwrap_or(0);
        let rustls = RustlsConfig::from_pem(cert, key)
            .await
            .map_err(|e| unusable(files, &e))?;
        Ok(Self {
            files: files.clone(),
            rustls,
            not_after: Arc::new(AtomicI64::new(expires)),
        })
    }

    /// When the certificate being served expires (unix ms), if it says.
    pub fn not_after(&self) -> Option<i64> {
        Some(self.not_after.load(Ordering::Relaxed)).filter(|ms| *ms != 0)
    }

    /// Reads the files again and serves them to new connections. On an
    /// error the certificate served so far stays.
    pub async fn reload(&self) -> anyhow::Result<()> {
        let (cert, key) = read(&self.files).await?;
        let expires = not_after(&cert).unwrap_or(0);
        self.rustls
            .reload_from_pem(cert, key)
            .await
            .map_err(|e| unusable(&self.files, &e))?;
        self.not_after.store(expires, Ordering::Relaxed);
        Ok(())
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The served configuration; a reload reaches every clone.
    pub(crate) fn rustls(&self) -> RustlsConfig {
        self.rustls.clone()
    }
}

async fn read(files: &TlsFiles) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert = tokio::fs::read(&files.cert)
        .await
        .with_context(|| format!("cannot read TLS_CERT_FILE {}", files.cert.display()))?;
    let key = tokio::fs::read(&files.key)
        .await
        .with_context(|| format!("cannot read TLS_KEY_FILE {}", files.key.display()))?;
    Ok((cert, key))
}

fn unusable(files: &TlsFiles, error: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "TLS_CERT_FILE {} and TLS_KEY_FILE {} are not a PEM certificate chain and its private key: {error}",
        files.cert.display(),
        files.key.display()
    )
}
