//! The webhook listener's door: which accepted connections are kept.
//!
//! Decided on accepting, before any byte is read and before a TLS
//! handshake: a peer outside the addresses a request could ever be allowed
//! from is closed at once, and no more than MAX_CONNECTIONS are held. Either
//! way a refused connection gives its descriptor back straight away, so an
//! idle flood cannot take the descriptors the database and the Bot API need.

use std::{
    future::{Ready, ready},
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum_server::accept::Accept;
use ipnet::IpNet;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, Semaphore},
};

use super::middleware::client_ip::may_connect;
use crate::metrics::Metrics;

/// Admits or closes each accepted connection (an axum-server acceptor; the
/// TLS acceptor runs after it).
#[derive(Clone)]
pub struct Gate {
    telegram_ranges: Arc<[IpNet]>,
    trusted_proxies: Arc<[IpNet]>,
    slots: Arc<Semaphore>,
    metrics: Metrics,
}

impl Gate {
    /// A gate that holds at most `max_connections` connections, from the
    /// addresses [`may_connect`] admits.
    pub fn new(
        telegram_ranges: Arc<[IpNet]>,
        trusted_proxies: Arc<[IpNet]>,
        max_connections: usize,
        metrics: Metrics,
    ) -> Self {
        Self {
            telegram_ranges,
            trusted_proxies,
            slots: Arc::new(Semaphore::new(max_connections)),
            metrics,
        }
    }

    fn admit(&self, stream: TcpStream) -> io::Result<Admitted> {
        let peer = stream.peer_addr()?;
        if !may_connect(peer.ip(), &self.telegram_ranges, &self.trusted_proxies) {
            self.refused("address_not_allowed");
            tracing::debug!(%peer, "closed a connection from outside TELEGRAM_IP_RANGES and TRUSTED_PROXIES");
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "address not allowed",
            ));
        }
        // Refused rather than queued: a connection waiting for a slot would
        // hold its descriptor all the same.
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            self.refused("too_many");
            tracing::warn!(%peer, "closed a connection: MAX_CONNECTIONS connections are open already");
            return Err(io::Error::other("too many connections"));
        };
        Ok(Admitted {
            stream,
            _slot: slot,
        })
    }

    fn refused(&self, reason: &str) {
        self.metrics
            .count("telegate_connections_refused_total", &[("reason", reason)]);
    }
}

impl<S> Accept<TcpStream, S> for Gate {
    type Stream = Admitted;
    type Service = S;
    type Future = Ready<io::Result<(Admitted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        ready(self.admit(stream).map(|admitted| (admitted, service)))
    }
}

/// An admitted connection; its slot is given back when it closes.
pub struct Admitted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Admitted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
