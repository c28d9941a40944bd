//! nginx/telegate.conf in front of a real telegate, over real TLS: nginx
//! from the distribution, a certificate from a test CA made with openssl, both
//! on unprivileged loopback ports (the config's ports, paths and addresses
//! templated). Loopback addresses stand in for the internet: 127.0.0.1 is
//! "Telegram", 127.0.0.2 is an address nginx denies, 127.0.0.3 one that
//! nginx admits but telegate's TELEGRAM_IP_RANGES does not, and 127.0.0.4
//! the monitoring host allowed to read /health.
//!
//! `.ci/run` installs nginx and sets TELEGATE_REQUIRE_NGINX=1, so CI fails
//! without it; elsewhere the test says it was skipped when nginx is missing.

mod hardening;
mod limits;

use std::{
    net::{IpAddr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use frankenstein::reqwest::{Client, RequestBuilder, StatusCode};

use crate::support::{OWNER, SECRET, TestApp, WEBHOOK_PATH, certs, updates::private_text};

const TELEGRAM: &str = "127.0.0.1";
const DENIED: &str = "127.0.0.2";
const OUT_OF_RANGE: &str = "127.0.0.3";
const MONITOR: &str = "127.0.0.4";

struct Nginx {
    child: Child,
    /// The authority nginx's certificate is issued by.
    ca: certs::TestCa,
    /// What `nginx -t` said about the configuration.
    checked: String,
    /// The port standing in for 80 (ACME and the redirect).
    http: u16,
    https: u16,
}

impl Nginx {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_installed() -> bool {
    crate::support::tool_installed("nginx", "-v", "TELEGATE_REQUIRE_NGINX", "nginx")
}

fn port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx/telegate.conf with this test's ports, paths and addresses.
fn templated(dir: &Path, http: u16, https: u16, upstream: &str) -> String {
    let conf = include_str!("../../nginx/telegate.conf");
    let dir = dir.display();
    conf.replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace("listen [::]:80;\n", "")
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{https} ssl http2;"),
        )
        .replace("listen [::]:443 ssl http2;\n", "")
        .replace("/etc/letsencrypt/live/bot.example.org", &dir.to_string())
        .replace("/var/www/letsencrypt", &format!("{dir}/acme"))
        .replace("server 127.0.0.1:8000;", &format!("server {upstream};"))
        .replace(
            "allow 149.154.160.0/20;\n        allow 91.108.4.0/22;",
            &format!("allow {TELEGRAM};\n        allow {OUT_OF_RANGE};"),
        )
        .replace("allow 192.0.2.10;", &format!("allow {MONITOR};"))
}

fn main_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nuser root;\n\
         events {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
         fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
         include {d}/telegate.conf;\n}}\n"
    )
}

/// Writes the config, checks it with `nginx -t`, and starts nginx.
fn start_nginx(dir: &Path, upstream: &str) -> Nginx {
    std::fs::create_dir_all(dir.join("acme")).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let ca = certs::TestCa::new(&dir.join("ca"));
    ca.issue(&dir.join("fullchain.pem"), &dir.join("privkey.pem"));
    let (http, https) = (port(), port());
    std::fs::write(
        dir.join("telegate.conf"),
        templated(dir, http, https, upstream),
    )
    .unwrap();
    std::fs::write(dir.join("nginx.conf"), main_conf(dir)).unwrap();
    let conf = dir.join("nginx.conf");
    let test = Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&test.stderr).into_owned();
    assert!(test.status.success(), "nginx -t: {checked}");
    // One process (no workers to outlive it), logging to its error_log file.
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .args(["-g", "daemon off; master_process off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Nginx {
        child,
        ca,
        checked,
        http,
        https,
    }
}

/// An HTTPS client whose connections come from `source`.
fn client_from(source: &str) -> Client {
    Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A POST of `update` to the webhook through nginx, as Telegram sends one.
fn webhook_post(client: &Client, nginx: &Nginx, update: &serde_json::Value) -> RequestBuilder {
    client
        .post(nginx.url(WEBHOOK_PATH))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("content-type", "application/json")
        .body(update.to_string())
}

/// The address telegate listens on, as nginx's upstream.
fn upstream_of(app: &TestApp) -> String {
    app.url("").trim_start_matches("http://").to_owned()
}

/// A telegate that admits Telegram's stand-in address behind nginx.
async fn telegate_behind_nginx() -> TestApp {
    TestApp::spawn_with(&[
        ("TELEGRAM_IP_RANGES", "127.0.0.1/32"),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await
}

/// Waits until nginx answers on its TLS port (it starts in the background).
async fn until_up(nginx: &Nginx) {
    let client = client_from(TELEGRAM);
    let url = nginx.url("/");
    let up =
        crate::support::eventually(|| async { client.get(&url).send().await.ok().map(|_| ()) })
            .await;
    assert!(up.is_some(), "nginx did not come up");
}

/// A telegate behind a running nginx (and the directory nginx runs in), or
/// `None` when nginx is not installed and not required.
async fn behind_nginx() -> Option<(TestApp, tempfile::TempDir, Nginx)> {
    if !nginx_installed() {
        return None;
    }
    let app = telegate_behind_nginx().await;
    let dir = tempfile::tempdir().unwrap();
    let nginx = start_nginx(dir.path(), &upstream_of(&app));
    until_up(&nginx).await;
    Some((app, dir, nginx))
}

/// The status of a GET of `url` from `source`.
async fn status_of_get(source: &str, url: &str) -> StatusCode {
    client_from(source).get(url).send().await.unwrap().status()
}

#[tokio::test]
async fn nginx_in_front_admits_telegram_only_and_keeps_the_client_address_honest() {
    let Some((app, _dir, nginx)) = behind_nginx().await else {
        return;
    };
    let base = nginx.url("");
    let hook = nginx.url(WEBHOOK_PATH);
    let post = |from: &str, secret: &str, update: serde_json::Value, spoof: Option<&str>| {
        let mut request = client_from(from)
            .post(&hook)
            .header("x-telegram-bot-api-secret-token", secret)
            .header("content-type", "application/json")
            .body(update.to_string());
        if let Some(address) = spoof {
            request = request
                .header("x-forwarded-for", address)
                .header("x-real-ip", address);
        }
        request.send()
    };

    let ok = post(TELEGRAM, SECRET, private_text(1, OWNER, "/ping"), None)
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "a valid update through nginx");
    assert_eq!(app.wait_texts_to(OWNER, 1).await, ["pong"]);

    let denied = post(DENIED, SECRET, private_text(2, OWNER, "/ping"), None)
        .await
        .unwrap();
    assert_eq!(
        denied.status(),
        StatusCode::FORBIDDEN,
        "nginx denies other addresses"
    );

    let wrong = post(
        TELEGRAM,
        "wrong-secret",
        private_text(3, OWNER, "/ping"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "telegate's 401 comes through"
    );

    let spoofed = post(
        OUT_OF_RANGE,
        SECRET,
        private_text(4, OWNER, "/ping"),
        Some(TELEGRAM),
    )
    .await
    .unwrap();
    assert_eq!(
        spoofed.status(),
        StatusCode::FORBIDDEN,
        "a client-sent X-Forwarded-For / X-Real-IP is replaced by nginx, so telegate sees the real address"
    );
    assert_eq!(
        app.inbox_status(4).await,
        None,
        "the spoofed update was not stored"
    );

    let monitor = post(MONITOR, SECRET, private_text(5, OWNER, "/ping"), None)
        .await
        .unwrap();
    assert_eq!(
        monitor.status(),
        StatusCode::FORBIDDEN,
        "the monitoring host may read /health, not post updates"
    );

    let health = format!("{base}/health");
    assert_eq!(
        status_of_get(TELEGRAM, &health).await,
        StatusCode::OK,
        "/health from loopback"
    );
    assert_eq!(
        status_of_get(MONITOR, &health).await,
        StatusCode::OK,
        "/health from the monitoring host"
    );
    assert_eq!(
        status_of_get(DENIED, &health).await,
        StatusCode::FORBIDDEN,
        "/health from elsewhere"
    );
    assert_eq!(
        status_of_get(TELEGRAM, &format!("{base}/admin")).await,
        StatusCode::NOT_FOUND,
        "everything else is 404"
    );
}

#[tokio::test]
async fn port_80_answers_acme_challenges_and_sends_everything_else_to_https() {
    let Some((app, dir, nginx)) = behind_nginx().await else {
        return;
    };
    let challenges = dir.path().join("acme/.well-known/acme-challenge");
    std::fs::create_dir_all(&challenges).unwrap();
    std::fs::write(challenges.join("tok3n"), "tok3n.account-key-thumbprint").unwrap();
    let plain = Client::builder()
        .redirect(frankenstein::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http = format!("http://127.0.0.1:{}", nginx.http);

    let challenge = plain
        .get(format!("{http}/.well-known/acme-challenge/tok3n"))
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), StatusCode::OK);
    assert_eq!(
        challenge.text().await.unwrap(),
        "tok3n.account-key-thumbprint"
    );

    let update = plain
        .post(format!("{http}{WEBHOOK_PATH}"))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .body(private_text(31, OWNER, "/ping").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), StatusCode::MOVED_PERMANENTLY);
    let location = update.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://") && location.ends_with(WEBHOOK_PATH),
        "{location}"
    );
    assert_eq!(
        app.inbox_status(31).await,
        None,
        "plain HTTP carries no update"
    );

    let over_tls = client_from(TELEGRAM)
        .get(nginx.url("/health"))
        .send()
        .await
        .unwrap();
    let hsts = over_tls.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age=31536000"), "{hsts}");
}
