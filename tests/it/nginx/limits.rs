//! nginx's limits, sized for Telegram at max_connections=100: at most 100
//! connections, one request in flight on each. Like Telegram, the client
//! here speaks HTTP/1.1, one connection per request in flight.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use frankenstein::reqwest::StatusCode;
use tokio::{net::TcpListener, task::JoinSet};

use super::{
    OUT_OF_RANGE, TELEGRAM, behind_nginx, client_from, nginx_installed, start_nginx, until_up,
    webhook_post,
};
use crate::support::{OWNER, eventually, updates::private_text};

#[tokio::test]
async fn nginx_lets_a_burst_of_concurrent_updates_from_telegram_through() {
    let Some((app, _dir, nginx)) = behind_nginx().await else {
        return;
    };

    let telegram = client_from(TELEGRAM);
    let mut requests = JoinSet::new();
    for id in 1..=60 {
        let request = webhook_post(&telegram, &nginx, &private_text(id, OWNER, "hello"));
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let statuses: Vec<StatusCode> = requests
        .join_all()
        .await
        .into_iter()
        .map(|answer| answer.expect("nginx answers"))
        .collect();

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "60 updates at once, each answered 200: {statuses:?}"
    );
    for id in 1..=60 {
        assert!(app.inbox_status(id).await.is_some(), "update {id} stored");
    }
}

#[tokio::test]
async fn nginx_refuses_a_101st_request_in_flight_from_one_address() {
    if !nginx_installed() {
        return;
    }
    let upstream = Stalled::start().await;
    let dir = tempfile::tempdir().unwrap();
    let nginx = start_nginx(dir.path(), &upstream.addr);
    until_up(&nginx).await;
    let telegram = client_from(TELEGRAM);
    let mut in_flight = JoinSet::new();
    for id in 1..=100 {
        in_flight.spawn(webhook_post(&telegram, &nginx, &private_text(id, OWNER, "hello")).send());
    }
    let all_through = eventually(|| async { (upstream.accepted() == 100).then_some(()) }).await;
    assert!(
        all_through.is_some(),
        "Telegram's 100 requests in flight all pass nginx; {} did",
        upstream.accepted()
    );

    let extra = webhook_post(&telegram, &nginx, &private_text(101, OWNER, "hello"))
        .send()
        .await
        .map(|r| r.status());

    assert_eq!(
        extra.ok(),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "a 101st request in flight from one address is refused"
    );
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap();
    assert!(
        log.contains("limiting connections"),
        "refused by limit_conn: {log}"
    );
    let other = client_from(OUT_OF_RANGE);
    in_flight.spawn(webhook_post(&other, &nginx, &private_text(102, OWNER, "hello")).send());
    let admitted = eventually(|| async { (upstream.accepted() == 101).then_some(()) }).await;
    assert!(admitted.is_some(), "the limit is per address");
}

/// An upstream that accepts connections and never answers, so that every
/// request nginx passes to it stays in flight.
struct Stalled {
    addr: String,
    accepted: Arc<AtomicUsize>,
}

impl Stalled {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { addr, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}
