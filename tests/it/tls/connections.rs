//! What a connection to the direct-TLS listener may cost: one from outside
//! the allowed addresses is closed before the handshake, an idle one is
//! closed by the header read timeout, and no more than MAX_CONNECTIONS are
//! held. Loopback stands in for the internet: the server listens on
//! 127.0.0.1, "Telegram" (TELEGRAM_IP_RANGES) is 127.0.0.3, and 127.0.0.2
//! is an address outside every allowed range.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use frankenstein::reqwest::{Certificate, Client};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};
use tokio_rustls::{TlsConnector, client::TlsStream};

use super::{post_update, tls_app, tls_prepared};
use crate::support::{DEADLINE, TestApp, certs::TestCa, eventually};

const OUTSIDE: &str = "127.0.0.2";
const TELEGRAM: &str = "127.0.0.3";
const RANGES: (&str, &str) = ("TELEGRAM_IP_RANGES", "127.0.0.3/32");

#[tokio::test]
async fn a_thousand_idle_connections_from_outside_the_ranges_are_closed_at_once_and_an_update_is_still_answered_within_a_second()
 {
    allow_descriptors(1_000 + 500);
    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new(scratch.path());
    let (app, _) = tls_app(Some(&ca), &[RANGES]).await;
    let mut idle = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        idle.push(connect_from(OUTSIDE, &app).await);
    }

    let started = Instant::now();
    let status = post_update(&client_from(TELEGRAM, &ca), &app, 1).await;
    let took = started.elapsed();

    assert_eq!(status.unwrap(), 200);
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    let counted = eventually(|| async {
        (refused(&app, "address_not_allowed").await == 1_000).then_some(())
    })
    .await;
    assert!(
        counted.is_some(),
        "all 1,000 closed on accepting them, before any handshake; {} were",
        refused(&app, "address_not_allowed").await
    );
    for stream in &mut idle {
        assert!(closed_by_server(stream).await, "the server closed it");
    }
    assert_eq!(refused(&app, "too_many").await, 0, "none took a slot");
}

#[tokio::test]
async fn idle_connections_from_an_allowed_address_are_closed_by_the_header_read_timeout() {
    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new(scratch.path());
    let (mut app, _) = tls_prepared(Some(&ca), &[RANGES]).await;
    let mut config = app.config();
    config.header_read_timeout = Duration::from_millis(300);
    app.start_with_config(config).await;
    let connector = ca.connector();

    // One that never sends a request after its handshake, and one that goes
    // quiet after a request on a kept-alive connection.
    let mut silent = handshake(&connector, connect_from(TELEGRAM, &app).await)
        .await
        .expect("an allowed address completes the handshake");
    let mut kept = handshake(&connector, connect_from(TELEGRAM, &app).await)
        .await
        .unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();

    let answer = read_to_close(&mut kept)
        .await
        .expect("the kept-alive connection is closed once it is quiet");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        closed_by_server(&mut silent).await,
        "the silent connection is closed"
    );
}

#[tokio::test]
async fn beyond_max_connections_a_connection_is_closed_at_once_until_a_slot_frees() {
    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new(scratch.path());
    let (app, _) = tls_app(
        Some(&ca),
        &[
            RANGES,
            ("MAX_CONNECTIONS", "3"),
            ("WEBHOOK_MAX_CONNECTIONS", "3"),
        ],
    )
    .await;
    let connector = ca.connector();
    let mut held = Vec::new();
    for _ in 0..3 {
        let stream = handshake(&connector, connect_from(TELEGRAM, &app).await).await;
        held.push(stream.expect("within MAX_CONNECTIONS"));
    }

    let excess = handshake(&connector, connect_from(TELEGRAM, &app).await).await;

    assert!(excess.is_err(), "a 4th connection is closed unanswered");
    assert_eq!(refused(&app, "too_many").await, 1);
    drop(held.pop());
    let client = client_from(TELEGRAM, &ca);
    let answered = eventually(|| async {
        post_update(&client, &app, 1)
            .await
            .ok()
            .filter(|s| *s == 200)
    })
    .await;
    assert_eq!(answered, Some(200), "the freed slot takes a new connection");
}

/// Raises this process's soft limit on open files to at least `wanted`
/// (up to the hard limit) for a test that holds many sockets.
fn allow_descriptors(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < wanted {
            limit.rlim_cur = limit.rlim_max;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(
        limit.rlim_cur >= wanted,
        "this test needs {wanted} open files; the hard limit is {}",
        limit.rlim_max
    );
}

fn addr_of(app: &TestApp) -> SocketAddr {
    app.url("").trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to the server from `source`, with nothing sent.
async fn connect_from(source: &str, app: &TestApp) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse().unwrap(), 0))
        .unwrap();
    socket.connect(addr_of(app)).await.unwrap()
}

/// An HTTPS client from `source` that trusts `ca`.
fn client_from(source: &str, ca: &TestCa) -> Client {
    Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().unwrap())
        .tls_certs_only([Certificate::from_pem(&ca.pem()).unwrap()])
        .build()
        .unwrap()
}

/// The client's side of a TLS handshake on `tcp`, within the deadline.
async fn handshake(
    connector: &TlsConnector,
    tcp: TcpStream,
) -> std::io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(DEADLINE, connector.connect(name, tcp))
        .await
        .expect("the handshake ends one way or the other")
}

/// Reads until the server closes the connection (end of file or an error),
/// within the deadline; what was read, or `None` if it stayed open.
async fn read_to_close<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    let until_closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(DEADLINE, until_closed).await.ok()?;
    Some(String::from_utf8_lossy(&read).into_owned())
}

async fn closed_by_server<S: AsyncRead + Unpin>(stream: &mut S) -> bool {
    read_to_close(stream).await.is_some()
}

/// Connections closed on accepting them for `reason`, as /metrics shows.
async fn refused(app: &TestApp, reason: &str) -> u64 {
    let line = format!("telegate_connections_refused_total{{reason=\"{reason}\"}} ");
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&line)?.parse().ok())
        .unwrap_or(0)
}
