//! 100,000 messages from strangers, in two rounds with a prune after each:
//! the rows left are bounded, every drop is accounted for in the audit
//! trail, and the second round reuses the space the first one freed.

use std::{
    ops::Range,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use frankenstein::reqwest::Client;
use telegate::store::{audit_chain, inbox, outbox};
use tokio::task::JoinSet;

use super::{DAY, rows};
use crate::support::{
    SECRET, TELEGRAM_IP, TestApp, WEBHOOK_PATH, eventually_within, updates::private_text,
};

const STRANGERS: i64 = 10;
/// Messages per round; two rounds.
const ROUND: i64 = 50_000;
/// Requests in flight at once, as many as Telegram's max_connections allows.
const IN_FLIGHT: usize = 100;
/// Generous: the point is that the work ends, not how fast.
const ROUND_DEADLINE: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_stranger_messages_leave_bounded_rows_and_a_file_that_stops_growing() {
    let app = TestApp::spawn_with(&[("INBOUND_LIMIT_PER_MIN", "1"), ("RETENTION_DAYS", "7")]).await;
    let started = Instant::now();

    let first = round(&app, 1..1 + ROUND).await;
    let second = round(&app, 1 + ROUND..1 + 2 * ROUND).await;
    eprintln!(
        "{} messages in {:?}; the database after each round: {first:?}, {second:?}",
        2 * ROUND,
        started.elapsed()
    );

    let audit = rows(&app, "audit").await;
    assert!(
        audit < 1_000,
        "{audit} audit rows for {} messages",
        2 * ROUND
    );
    let verdict = audit_chain::verify(app.db()).await.unwrap();
    assert_eq!(verdict.problem, None, "the audit chain holds");
    // The second round reuses the pages the first one's rows left free (had
    // they stayed, the file would have about doubled). A little leeway for
    // the index pages, whose fill varies with the order of the commits.
    assert!(
        second.pages <= first.pages + first.pages / 20,
        "the second round grew the database from {first:?} to {second:?}"
    );
}

/// The database's size once a round is pruned.
#[derive(Debug, Clone, Copy)]
struct Size {
    /// The database file's pages.
    pages: i64,
    /// Those holding rows (the others are free for reuse).
    used_pages: i64,
}

/// Strangers send the messages with `ids`; once all are handled and the
/// replies sent, housekeeping runs, and again RETENTION_DAYS later.
async fn round(app: &TestApp, ids: Range<i64>) -> Size {
    post_all(app, ids.clone()).await;
    wait_for("the inbox to be worked off", || async {
        inbox::count_pending(app.db()).await.unwrap() == 0
    })
    .await;
    wait_for("the replies to be sent", || async {
        outbox::count_pending(app.db()).await.unwrap() == 0
    })
    .await;
    app.housekeeping_now().await;
    assert_eq!(
        accounted_for(app).await,
        ids.end - 1,
        "every update so far has an audit row or is counted in a flood row"
    );

    app.clock.advance(8 * DAY);
    app.housekeeping_now().await;
    assert_eq!(rows(app, "inbox").await, 0, "handled updates are pruned");
    assert_eq!(rows(app, "outbox").await, 0, "sent replies are pruned");
    assert_eq!(rows(app, "flood_drops").await, 0);
    let size = size(app).await;
    assert!(size.used_pages < 100, "{size:?}");
    size
}

/// Posts every update through the webhook, [`IN_FLIGHT`] at a time.
async fn post_all(app: &TestApp, ids: Range<i64>) {
    let url = app.url(WEBHOOK_PATH);
    let client = Client::new();
    let next = Arc::new(AtomicI64::new(ids.start));
    let mut posters = JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (url, client, next, end) = (url.clone(), client.clone(), next.clone(), ids.end);
        posters.spawn(async move {
            loop {
                let id = next.fetch_add(1, Ordering::Relaxed);
                if id >= end {
                    return;
                }
                let stranger = 900_000 + id % STRANGERS;
                let answer = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-telegram-bot-api-secret-token", SECRET)
                    .header("x-forwarded-for", TELEGRAM_IP)
                    .body(private_text(id, stranger, "let me in").to_string())
                    .send()
                    .await
                    .expect("the webhook answers");
                assert_eq!(answer.status(), 200, "update {id}");
            }
        });
    }
    posters.join_all().await;
}

/// Updates with an audit row of their own, plus those counted in the flood
/// limit's summary rows ("dropped N update(s) ...").
async fn accounted_for(app: &TestApp) -> i64 {
    let (own, summarised): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(DISTINCT update_id) FROM audit WHERE update_id IS NOT NULL),
                (SELECT COALESCE(SUM(CAST(substr(outcome, 9) AS INTEGER)), 0)
                 FROM audit WHERE kind = 'flood')",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    own + summarised
}

/// How many pages the database file has now, and how many hold rows.
async fn size(app: &TestApp) -> Size {
    let (pages, free): (i64, i64) =
        sqlx::query_as("SELECT * FROM pragma_page_count(), pragma_freelist_count()")
            .fetch_one(app.db())
            .await
            .unwrap();
    Size {
        pages,
        used_pages: pages - free,
    }
}

/// Polls `done` until it is true, within [`ROUND_DEADLINE`].
async fn wait_for<F, Fut>(what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let finished = eventually_within(ROUND_DEADLINE, || {
        let check = done();
        async move { check.await.then_some(()) }
    });
    assert!(finished.await.is_some(), "waited too long for {what}");
}
