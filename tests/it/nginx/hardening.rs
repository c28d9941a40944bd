//! What nginx/telegate.conf gives away and lets through: no version, no
//! redirect to a host the client names, no stapling that cannot work, only
//! the normalised webhook path passed to telegate, and forwarding headers
//! replaced on every proxied location.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use frankenstein::reqwest::{Client, StatusCode, redirect::Policy};
use rustls_pki_types::ServerName;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpSocket},
};

use super::{
    DENIED, MONITOR, Nginx, TELEGRAM, behind_nginx, nginx_installed, start_nginx, until_up,
};
use crate::support::{DEADLINE, OWNER, SECRET, updates::private_text};

#[tokio::test]
async fn nginx_loads_the_site_without_a_stapling_directive_it_would_ignore() {
    let Some((_app, _dir, nginx)) = behind_nginx().await else {
        return;
    };

    assert!(
        !nginx.checked.contains("ssl_stapling"),
        "Let's Encrypt's certificates have no OCSP responder: {}",
        nginx.checked
    );
}

#[tokio::test]
async fn nginx_names_no_version_on_either_port() {
    let Some((_app, _dir, nginx)) = behind_nginx().await else {
        return;
    };
    let https = super::client_from(TELEGRAM)
        .get(nginx.url("/admin"))
        .send()
        .await
        .unwrap();
    let http = plain().get(http_url(&nginx, "/")).send().await.unwrap();

    for response in [https, http] {
        assert_eq!(response.headers()["server"], "nginx");
        let page = response.text().await.unwrap();
        assert!(!page.contains("nginx/"), "{page}");
    }
}

#[tokio::test]
async fn the_port_80_redirect_goes_to_the_configured_name_whatever_host_is_sent() {
    let Some((_app, _dir, nginx)) = behind_nginx().await else {
        return;
    };

    let response = plain()
        .get(http_url(&nginx, "/telegram/webhook?x=1"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        response.headers()["location"],
        "https://bot.example.org/telegram/webhook?x=1"
    );
}

#[tokio::test]
async fn variants_of_the_webhook_path_reach_telegate_as_the_webhook_path() {
    let Some((app, _dir, nginx)) = behind_nginx().await else {
        return;
    };
    let variants = [
        (41, "/telegram/x/../webhook"),
        (42, "/%74elegram/webhook"),
        (43, "/telegram//webhook"),
        (44, "/telegram/./webhook"),
    ];

    for (id, target) in variants {
        let status = raw_post(&nginx, TELEGRAM, target, id).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{target}");
        assert!(app.inbox_status(id).await.is_some(), "{target} stored");
    }
    let denied = raw_post(&nginx, DENIED, "/telegram/x/../webhook", 45).await;
    assert_eq!(denied, "HTTP/1.1 403 Forbidden", "still only Telegram's");
}

#[tokio::test]
async fn health_through_nginx_replaces_the_forwarding_headers_the_client_sent() {
    if !nginx_installed() {
        return;
    }
    let upstream = Recorder::start().await;
    let dir = tempfile::tempdir().unwrap();
    let nginx = start_nginx(dir.path(), &upstream.addr.to_string());
    until_up(&nginx).await;

    let response = super::client_from(MONITOR)
        .get(nginx.url("/health"))
        .header("x-forwarded-for", "149.154.167.1")
        .header("x-real-ip", "149.154.167.1")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let heads = upstream.heads.lock().unwrap().clone();
    let head = heads.last().expect("nginx passed the request on");
    assert!(head.starts_with("get /health http/1.1\r\n"), "{head}");
    assert!(
        head.contains("\r\nx-forwarded-for: 127.0.0.4\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nx-real-ip: 127.0.0.4\r\n"), "{head}");
    assert!(!head.contains("149.154.167.1"), "{head}");
}

/// A plain HTTP client that does not follow redirects.
fn plain() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

fn http_url(nginx: &Nginx, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", nginx.http)
}

/// POSTs update `id` to `target` exactly as written (a client library
/// would normalise it first), over TLS from `source`; the status line.
async fn raw_post(nginx: &Nginx, source: &str, target: &str, id: i64) -> String {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse().unwrap(), 0))
        .unwrap();
    let tcp = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], nginx.https)))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = nginx.ca.connector().connect(name, tcp).await.unwrap();
    let body = private_text(id, OWNER, "/ping").to_string();
    let request = format!(
        "POST {target} HTTP/1.1\r\nhost: localhost\r\nx-telegram-bot-api-secret-token: {SECRET}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let status_line = async {
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = tls.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed without an answer");
            answer.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(DEADLINE, status_line)
        .await
        .expect("nginx answers");
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap().to_owned()
}

/// An upstream that answers every request 200 and keeps each request head
/// (lower-cased), to show what nginx passes on.
struct Recorder {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut read = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        read.extend_from_slice(&buf[..n]);
                        // Bodiless GETs only: a head ends a request.
                        while let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head: Vec<u8> = read.drain(..end + 4).collect();
                            let head = String::from_utf8_lossy(&head).to_lowercase();
                            kept.lock().unwrap().push(head);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n";
                            if socket.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        Self { addr, heads }
    }
}
