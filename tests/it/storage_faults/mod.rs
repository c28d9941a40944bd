//! Storage faults other than a full disk (see full_disk.rs), each met by
//! `telegate serve` (the real binary) while it runs: an I/O error, the
//! database's directory moved away, a write lock held by another process.
//! While broken the webhook answers 503 and /health says "failing" with
//! the error; once fixed, the next update is taken, and every acknowledged
//! update is answered exactly once.

mod busy;
mod io_error;
mod moved_directory;
mod read_only;

use std::{collections::BTreeMap, path::Path, process::Command, time::Instant};

use frankenstein::reqwest::Client;
use telegate::standin::StandIn;

use crate::{
    binary::{Served, serve_prepared, stop, wait_logged},
    support::{
        DEADLINE,
        served::{assert_health_failing, health, metric, pongs, post},
    },
};

/// The chats that send /ping, each allowed.
const CHATS: std::ops::Range<i64> = 8101..8106;

fn allowed() -> String {
    CHATS.map(|c| c.to_string()).collect::<Vec<_>>().join(",")
}

/// Starts serve in `dir` with `extra` variables, `prepare` applied to its command.
fn start(
    standin: &StandIn,
    dir: &Path,
    extra: &[(&str, &str)],
    prepare: impl FnOnce(&mut Command),
) -> Served {
    let allowed = allowed();
    let mut vars = vec![
        ("ALLOWED_CHAT_IDS", allowed.as_str()),
        ("LOG_LEVEL", "info"),
    ];
    vars.extend_from_slice(extra);
    serve_prepared(standin, dir, &vars, prepare)
}

/// A running serve and what it acknowledged.
struct Run {
    standin: StandIn,
    served: Served,
    http: Client,
    next_id: i64,
    /// Acknowledged updates, by chat.
    acked: BTreeMap<i64, u32>,
}

impl Run {
    fn new(standin: StandIn, served: Served) -> Self {
        Self {
            standin,
            served,
            http: Client::new(),
            next_id: 0,
            acked: BTreeMap::new(),
        }
    }

    /// Posts /ping from `chat`; returns the status (200 counted as acknowledged).
    async fn ping(&mut self, chat: i64) -> u16 {
        self.next_id += 1;
        let status = post(&self.http, &self.served.addr, self.next_id, chat).await;
        match status {
            200 => *self.acked.entry(chat).or_insert(0) += 1,
            503 => {}
            other => panic!("the webhook answered {other}"),
        }
        status
    }

    /// Every chat sends /ping and is answered, before the fault.
    async fn working(&mut self) {
        for chat in CHATS {
            assert_eq!(self.ping(chat).await, 200);
        }
        self.all_answered().await;
        // And recorded as answered: nothing is in flight when the fault comes.
        let addr = self.served.addr.clone();
        let settled = crate::support::eventually(|| async {
            let (_, body) = health(&self.http, &addr).await;
            (body["pending_updates"] == 0 && body["pending_outbound"] == 0).then_some(())
        });
        assert!(settled.await.is_some(), "the work was recorded as done");
    }

    /// Sends /ping until one is refused, as updates keep coming while the
    /// storage is broken (those taken before the fault counts are kept).
    async fn until_refused(&mut self) {
        let started = Instant::now();
        for chat in CHATS.cycle() {
            if self.ping(chat).await == 503 {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the webhook never refused an update"
            );
        }
    }

    /// While broken: 503 at the webhook, /health 503 "failing" with an error
    /// that says `what`, and the storage error counted as `kind`.
    async fn failing(&mut self, what: &str, kind: &str) {
        assert_health_failing(&self.http, &self.served.addr, what).await;
        let sample = format!("telegate_storage_errors_total{{kind=\"{kind}\"}}");
        let counted = metric(&self.http, &self.served, &sample).await;
        assert!(counted >= Some(1.0), "{sample} is {counted:?}");
        let writable = metric(&self.http, &self.served, "telegate_database_writable").await;
        assert_eq!(writable, Some(0.0));
        assert_eq!(self.ping(CHATS.start).await, 503, "refused while broken");
    }

    /// Once fixed: the very next update is taken, /health is 200 again, every
    /// acknowledged update is answered once, and serve says it recovered.
    async fn recovers(mut self) {
        self.back().await;
        assert!(wait_logged(
            &self.served,
            "the database can be written again"
        ));
        self.done();
    }

    /// The next update is taken, /health is 200, everything is answered.
    async fn back(&mut self) {
        assert_eq!(self.ping(CHATS.start).await, 200, "taken once fixed");
        let addr = self.served.addr.clone();
        let healthy = crate::support::eventually(|| async {
            (health(&self.http, &addr).await.0 == 200).then_some(())
        });
        assert!(healthy.await.is_some(), "/health is 200 again");
        self.all_answered().await;
    }

    /// Stops serve: each acknowledged update was answered exactly once.
    fn done(mut self) {
        stop(&mut self.served);
        assert_eq!(pongs(&self.standin), self.acked, "nothing was sent twice");
    }

    /// Every acknowledged update answered at least once: after a fault that
    /// drops writes not yet on disk, as a power cut does (see `read_only`).
    async fn all_answered_at_least_once(&self) {
        let answered = self
            .standin
            .wait_for(2 * DEADLINE, |_| {
                let got = pongs(&self.standin);
                self.acked
                    .iter()
                    .all(|(chat, n)| got.get(chat) >= Some(n))
                    .then_some(())
            })
            .await;
        assert!(
            answered.is_some(),
            "every acknowledged update answered: {:?} for {:?}",
            pongs(&self.standin),
            self.acked
        );
    }

    async fn all_answered(&self) {
        let all_sent = self
            .standin
            .wait_for(2 * DEADLINE, |_| {
                (pongs(&self.standin) == self.acked).then_some(())
            })
            .await;
        assert!(
            all_sent.is_some(),
            "one reply per acknowledged update: {:?} for {:?}",
            pongs(&self.standin),
            self.acked
        );
    }
}
