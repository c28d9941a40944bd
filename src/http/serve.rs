//! Serves the webhook router on its listener, over plain HTTP (behind
//! nginx) or TLS (direct TLS), behind the [`Gate`] and with time limits on
//! every stage a client could stall in.

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use axum_server::{Handle, tls_rustls::RustlsAcceptor};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::gate::Gate;
use crate::tls::Certificate;

/// A TLS handshake not finished by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the webhook's listener treats connections.
pub struct Listening {
    /// Decides on each connection as it is accepted.
    pub gate: Gate,
    /// Closes a connection that has not sent a whole request head this long
    /// after it opened (after the handshake) or after its last answer.
    pub header_read_timeout: Duration,
    /// Terminates TLS with this certificate; plain HTTP without.
    pub certificate: Option<Certificate>,
}

/// Serves `app` until `cancel` fires, then lets requests in flight finish
/// for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    listening: Listening,
    cancel: CancellationToken,
    grace: Duration,
) {
    let handle: Handle<SocketAddr> = Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        cancel.cancelled().await;
        stopper.graceful_shutdown(Some(grace));
    });
    let served = async {
        let mut server = axum_server::from_tcp(listener.into_std()?)?
            .handle(handle)
            // Until the first request: hyper's own timeout below starts only
            // once it knows the protocol, which needs a byte from the client.
            .first_request_timeout(listening.header_read_timeout);
        // Between requests on a kept-alive connection.
        server
            .http_builder()
            .http1()
            .header_read_timeout(listening.header_read_timeout);
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        match listening.certificate {
            Some(certificate) => {
                let acceptor = RustlsAcceptor::new(certificate.rustls())
                    .handshake_timeout(HANDSHAKE_TIMEOUT)
                    .acceptor(listening.gate);
                server.acceptor(acceptor).serve(service).await
            }
            None => server.acceptor(listening.gate).serve(service).await,
        }
    };
    if let Err(e) = served.await {
        tracing::error!(error = %e, "the webhook's server stopped");
    }
}
