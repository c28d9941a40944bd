//! The broadcast benchmark: how close the sender comes to the time
//! Telegram's limits set, and how many 429s it draws on the way.
//!
//! `cargo run --release --example broadcast_bench`
//!
//! The sender (the same code `telegate serve` runs) drains an outbox of 300
//! messages into the Telegram stand-in, which enforces the limits (one a
//! second per chat, thirty a second overall) and answers 429 past them. Two
//! runs: 300 chats with one message each, and 30 chats with ten each. At 30
//! a second, the ideal for 300 messages is 10 s in both. See docs/BENCHMARKS.md.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use telegate::{
    clock::Clock,
    config::Secret,
    standin::StandIn,
    store::{
        self,
        outbox::{self, NewCall},
    },
    telegram::{
        BotClient,
        sender::{Policy, Sender},
        throttle::Limits,
    },
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "123456789:BENCHbenchBENCHbench_-0123456789abc";
const MESSAGES: usize = 300;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("| run | chats | messages | time s | ideal s | over ideal | 429s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for chats in [300, 30] {
        let (elapsed, refused) = run(chats).await?;
        let ideal = MESSAGES as f64 / f64::from(Limits::default().global_per_sec);
        println!(
            "| {chats} chats | {chats} | {MESSAGES} | {elapsed:.2} | {ideal:.1} | {:+.1}% | {refused} |",
            (elapsed / ideal - 1.0) * 100.0
        );
    }
    Ok(())
}

/// Sends 300 messages spread over `chats` chats; returns the seconds from
/// the start to the last delivery, and the number of 429s.
async fn run(chats: usize) -> anyhow::Result<(f64, usize)> {
    let standin = StandIn::start(TOKEN, "bench_bot").await?;
    let dir = tempfile::tempdir()?;
    let db = store::open(&dir.path().join("bench.db")).await?;
    let calls: Vec<NewCall> = (0..MESSAGES)
        .map(|i| {
            let chat_id = 10_000 + i64::try_from(i % chats).unwrap_or(0);
            NewCall::new(
                chat_id,
                "sendMessage",
                json!({ "chat_id": chat_id, "text": format!("broadcast {i}") }),
            )
        })
        .collect();
    let mut tx = db.begin().await?;
    outbox::insert(&mut tx, None, &calls).await?;
    tx.commit().await?;

    let clock = Clock::system();
    let sender = Sender {
        db: db.clone(),
        client: BotClient::new(&standin.url(), &Secret::new(TOKEN))?,
        wake: Arc::new(Notify::new()),
        policy: Policy {
            limits: Limits::default(),
            backoff: Arc::new([Duration::from_secs(1), Duration::from_secs(4)]),
            max_age: Duration::from_secs(3600),
        },
        clock: clock.clone(),
        metrics: telegate::metrics::Metrics::default(),
        faults: telegate::store::fault::Faults::new(telegate::metrics::Metrics::default()),
    };
    let cancel = CancellationToken::new();
    let started = clock.now_ms();
    let sending = tokio::spawn(sender.run(cancel.clone()));
    let last = standin
        .wait_for(Duration::from_secs(120), |calls| {
            let sent: Vec<i64> = calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.status == 200)
                .map(|c| c.at_ms)
                .collect();
            (sent.len() >= MESSAGES).then(|| sent.into_iter().max().unwrap_or(0))
        })
        .await
        .ok_or_else(|| anyhow::anyhow!("not every message arrived within 120 s"))?;
    cancel.cancel();
    let _ = sending.await;
    db.close().await;
    let elapsed = (last - started) as f64 / 1000.0;
    Ok((elapsed, standin.too_many_requests()))
}
