//! Direct TLS without nginx: serve terminates TLS with rustls on
//! TLS_CERT_FILE and TLS_KEY_FILE, takes a renewed certificate without a
//! restart, and uploads a self-signed one with setWebhook when asked.

mod connections;

use std::path::PathBuf;

use frankenstein::reqwest::{Certificate, Client};

use crate::support::{
    OWNER, SECRET, TestApp, WEBHOOK_PATH,
    certs::{self, TestCa},
    updates::private_text,
};

/// A server on direct TLS with a certificate from `ca` (a self-signed one
/// without), whose peer, with no proxy in between, is the client itself:
/// loopback stands in for Telegram's range.
pub async fn tls_app(ca: Option<&TestCa>, extra: &[(&str, &str)]) -> (TestApp, PathBuf) {
    let (mut app, cert) = tls_prepared(ca, extra).await;
    app.start().await;
    (app, cert)
}

/// [`tls_app`], not started yet. `extra` may set TELEGRAM_IP_RANGES and
/// TRUSTED_PROXIES.
pub async fn tls_prepared(ca: Option<&TestCa>, extra: &[(&str, &str)]) -> (TestApp, PathBuf) {
    let mut app = TestApp::prepare(extra).await;
    let (cert, key) = (
        app.dir.path().join("cert.pem"),
        app.dir.path().join("key.pem"),
    );
    match ca {
        Some(ca) => ca.issue(&cert, &key),
        None => certs::self_signed(&cert, &key),
    }
    for (name, value) in [
        ("TLS_CERT_FILE", cert.display().to_string()),
        ("TLS_KEY_FILE", key.display().to_string()),
    ] {
        app.vars.insert(name.to_owned(), value);
    }
    for (name, value) in [
        ("TELEGRAM_IP_RANGES", "127.0.0.1/32"),
        ("TRUSTED_PROXIES", ""),
    ] {
        app.vars
            .entry(name.to_owned())
            .or_insert_with(|| value.to_owned());
    }
    (app, cert)
}

/// A client that trusts only the certificate in `pem`.
fn trusting(pem: &[u8]) -> Client {
    Client::builder()
        .tls_certs_only([Certificate::from_pem(pem).unwrap()])
        .build()
        .unwrap()
}

/// The certificate expiry /metrics shows, as a UTC date.
async fn expiry_shown(app: &TestApp) -> String {
    let metrics = app.metrics().await;
    let seconds: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("telegate_tls_certificate_expiry_timestamp_seconds "))
        .unwrap_or_else(|| panic!("no certificate expiry in:\n{metrics}"))
        .parse()
        .unwrap();
    telegate::timefmt::utc(seconds * 1000)
}

fn https(app: &TestApp, path: &str) -> String {
    app.url(path).replacen("http://", "https://", 1)
}

async fn post_update(
    client: &Client,
    app: &TestApp,
    update_id: i64,
) -> Result<u16, frankenstein::reqwest::Error> {
    let response = client
        .post(https(app, WEBHOOK_PATH))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("content-type", "application/json")
        .body(private_text(update_id, OWNER, "/ping").to_string())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

#[tokio::test]
async fn serve_terminates_tls_itself_and_handles_an_update_sent_over_https() {
    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new(scratch.path());
    let (app, _) = tls_app(Some(&ca), &[]).await;

    assert_eq!(
        post_update(&trusting(&ca.pem()), &app, 1).await.unwrap(),
        200
    );

    let texts = app.wait_texts_to(OWNER, 1).await;
    assert!(texts[0].starts_with("pong"), "{texts:?}");
    assert_eq!(
        expiry_shown(&app).await,
        certs::not_after(&app.dir.path().join("cert.pem"))
    );
    let plain = Client::new().get(app.url("/health")).send().await;
    assert!(plain.is_err(), "plain HTTP on the TLS port: {plain:?}");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_after_a_reload_without_a_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let (old_ca, new_ca) = (
        TestCa::new(&scratch.path().join("old")),
        TestCa::new(&scratch.path().join("new")),
    );
    let (app, cert) = tls_app(Some(&old_ca), &[]).await;
    let before = expiry_shown(&app).await;
    new_ca.issue_for(30, &cert, &app.dir.path().join("key.pem"));
    // Until the reload, the certificate read at the start is served.
    assert_eq!(
        post_update(&trusting(&old_ca.pem()), &app, 1)
            .await
            .unwrap(),
        200
    );

    app.reload_certificate().await.unwrap();

    assert_eq!(
        post_update(&trusting(&new_ca.pem()), &app, 2)
            .await
            .unwrap(),
        200
    );
    assert!(
        post_update(&trusting(&old_ca.pem()), &app, 3)
            .await
            .is_err()
    );
    assert_eq!(app.wait_handled(2).await, "done");
    let after = expiry_shown(&app).await;
    assert_eq!(after, certs::not_after(&cert));
    assert_ne!(after, before, "the renewed certificate's date is shown");
}

#[tokio::test]
async fn an_unusable_certificate_on_reload_is_refused_and_the_old_one_kept() {
    let scratch = tempfile::tempdir().unwrap();
    let ca = TestCa::new(scratch.path());
    let (app, cert) = tls_app(Some(&ca), &[]).await;
    std::fs::write(&cert, "not a certificate\n").unwrap();

    let refused = format!("{:#}", app.reload_certificate().await.unwrap_err());

    assert!(refused.contains("TLS_CERT_FILE"), "{refused}");
    assert_eq!(
        post_update(&trusting(&ca.pem()), &app, 1).await.unwrap(),
        200
    );
}

#[tokio::test]
async fn serve_does_not_start_on_a_missing_key_and_says_which_file() {
    let mut app = TestApp::prepare(&[]).await;
    let cert = app.dir.path().join("cert.pem");
    certs::self_signed(&cert, &app.dir.path().join("key.pem"));
    app.vars
        .insert("TLS_CERT_FILE".into(), cert.display().to_string());
    app.vars
        .insert("TLS_KEY_FILE".into(), "/nonexistent/key.pem".into());

    let refused = telegate::app::start(app.config())
        .await
        .err()
        .expect("refused");

    let message = format!("{refused:#}");
    assert!(
        message.contains("cannot read TLS_KEY_FILE /nonexistent/key.pem"),
        "{message}"
    );
}

#[tokio::test]
async fn with_cert_upload_set_webhook_carries_the_certificate_as_a_file() {
    let (app, cert) = tls_app(None, &[("WEBHOOK_CERT_UPLOAD", "true")]).await;

    let set = app
        .standin
        .wait_for(crate::support::DEADLINE, |calls| {
            calls
                .iter()
                .find(|c| c.method == "setWebhook" && c.status == 200)
                .cloned()
        })
        .await
        .expect("setWebhook called");

    let uploaded = &set.params["certificate"];
    assert_eq!(uploaded["file_name"], "cert.pem");
    assert_eq!(
        uploaded["content"].as_str().unwrap().as_bytes(),
        std::fs::read(&cert).unwrap()
    );
    assert_eq!(set.params["secret_token"], SECRET);
    assert_eq!(
        set.params["allowed_updates"],
        serde_json::json!(["message", "my_chat_member", "callback_query"])
    );
    assert_eq!(app.standin.webhook()["has_custom_certificate"], true);
}
