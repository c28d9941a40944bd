//! Counters and a latency histogram in Prometheus' text format, served on
//! METRICS_ADDR (loopback by default) apart from the webhook.

use std::{
    collections::BTreeMap,
    fmt::Write,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};

use crate::{
    disk_space::{self, DiskSpace},
    store::{Db, inbox, outbox},
};

/// Upper bounds of the webhook's acknowledgement latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// The process's metrics; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (name, labels) → count; labels already rendered as `a="x",b="y"`.
    counters: BTreeMap<(&'static str, String), u64>,
    /// Webhook answers by outcome: counted apart, on the hot path, without
    /// rendering labels or allocating.
    webhook: BTreeMap<&'static str, u64>,
    ack_buckets: [u64; BUCKETS.len()],
    ack_count: u64,
    ack_sum: f64,
    /// The served TLS certificate's notAfter (unix ms), with direct TLS.
    certificate_not_after: Option<i64>,
    /// Whether the last write to the database worked (serve only).
    database_writable: Option<bool>,
}

/// What each counter means, for the HELP lines.
const HELP: &[(&str, &str)] = &[
    (
        "telegate_webhook_requests_total",
        "Webhook requests by answer: ok, or the reason for refusing.",
    ),
    (
        "telegate_updates_total",
        "Updates handled, by kind and decision.",
    ),
    (
        "telegate_bot_api_calls_total",
        "Bot API calls made by serve or poll, by method and result.",
    ),
    (
        "telegate_send_retries_total",
        "Sends scheduled for another attempt.",
    ),
    (
        "telegate_too_many_requests_total",
        "429 answers from the Bot API.",
    ),
    ("telegate_dead_letters_total", "Calls given up on."),
    (
        "telegate_relay_runs_total",
        "Relay commands run, by command and outcome: succeeded, failed, timed_out, cancelled, interrupted, not_started.",
    ),
    (
        "telegate_storage_errors_total",
        "Writes the database refused, by kind: full (no space), io, readonly, busy (locked too long), cantopen, corrupt.",
    ),
    (
        "telegate_pruned_rows_total",
        "Rows deleted by housekeeping because they are kept no longer (RETENTION_DAYS and the brute-force guard's windows), by table.",
    ),
    (
        "telegate_connections_refused_total",
        "Connections to the webhook's listener closed on accepting them, by reason: address_not_allowed or too_many (MAX_CONNECTIONS).",
    ),
];

/// Counters without labels: shown as 0 until first counted, so that rate()
/// and increase() see that first increment.
const UNLABELLED: [&str; 3] = [
    "telegate_send_retries_total",
    "telegate_too_many_requests_total",
    "telegate_dead_letters_total",
];

/// Every answer the webhook counts, shown as 0 until it happens.
pub const WEBHOOK_OUTCOMES: [&str; 7] = [
    "ok",
    "wrong_secret",
    "address_not_allowed",
    "too_large",
    "bad_json",
    "not_stored",
    "other",
];

impl Metrics {
    /// Adds one to a counter. `labels` are (name, value) pairs.
    pub fn count(&self, name: &'static str, labels: &[(&str, &str)]) {
        self.add(name, labels, 1);
    }

    /// Adds `n` to a counter.
    pub fn add(&self, name: &'static str, labels: &[(&str, &str)], n: u64) {
        debug_assert!(
            HELP.iter().any(|(n, _)| *n == name),
            "{name} needs a HELP line to be shown"
        );
        *self
            .lock()
            .counters
            .entry((name, labelled(labels)))
            .or_insert(0) += n;
    }

    /// Shows a labelled counter as 0 until it is first counted, so that
    /// increase() sees the first increment.
    pub fn seed(&self, name: &'static str, labels: &[(&str, &str)]) {
        self.lock()
            .counters
            .entry((name, labelled(labels)))
            .or_insert(0);
    }

    /// Whether the database can be written now.
    pub fn database_writable(&self, writable: bool) {
        self.lock().database_writable = Some(writable);
    }

    /// The notAfter of the certificate serve terminates TLS with.
    pub fn certificate_expires(&self, not_after_ms: Option<i64>) {
        self.lock().certificate_not_after = not_after_ms;
    }

    /// Counts one webhook answer; an acknowledged one (`took`) is timed too.
    /// One lock, no allocation: this runs for every request.
    pub fn webhook_answer(&self, outcome: &'static str, took: Option<Duration>) {
        debug_assert!(
            WEBHOOK_OUTCOMES.contains(&outcome),
            "{outcome} is not shown"
        );
        let mut inner = self.lock();
        *inner.webhook.entry(outcome).or_insert(0) += 1;
        let Some(took) = took else {
            return;
        };
        let seconds = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                inner.ack_buckets[i] += 1;
            }
        }
        inner.ack_count += 1;
        inner.ack_sum += seconds;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything in Prometheus' text format, with the queue depths read now.
    pub fn render(&self, inbox_depth: i64, outbox_depth: i64, dead: i64) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let requests = "telegate_webhook_requests_total";
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            if *name == requests {
                for outcome in WEBHOOK_OUTCOMES {
                    let value = inner.webhook.get(outcome).copied().unwrap_or(0);
                    let _ = writeln!(out, "{requests}{{outcome=\"{outcome}\"}} {value}");
                }
                continue;
            }
            let samples = inner
                .counters
                .range((*name, String::new())..)
                .take_while(|((n, _), _)| n == name);
            let mut any = false;
            for ((_, labels), value) in samples {
                any = true;
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
            if !any && UNLABELLED.contains(name) {
                let _ = writeln!(out, "{name} 0");
            }
        }
        let ack = "telegate_webhook_ack_seconds";
        let _ = writeln!(
            out,
            "# HELP {ack} Time from request to acknowledgement.\n# TYPE {ack} histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(inner.ack_buckets) {
            let _ = writeln!(out, "{ack}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{ack}_bucket{{le=\"+Inf\"}} {}", inner.ack_count);
        let _ = writeln!(
            out,
            "{ack}_sum {}\n{ack}_count {}",
            inner.ack_sum, inner.ack_count
        );
        for (name, help, value) in [
            (
                "telegate_inbox_pending",
                "Updates stored and not yet handled.",
                inbox_depth,
            ),
            (
                "telegate_outbox_pending",
                "Calls waiting to be sent.",
                outbox_depth,
            ),
            (
                "telegate_outbox_dead",
                "Calls given up on, kept as dead letters.",
                dead,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        if let Some(writable) = inner.database_writable {
            let name = "telegate_database_writable";
            let _ = writeln!(
                out,
                "# HELP {name} 1 while the database can be written, 0 while writes fail (a full disk, an I/O error).\n# TYPE {name} gauge\n{name} {}",
                u8::from(writable)
            );
        }
        if let Some(ms) = inner.certificate_not_after {
            let name = "telegate_tls_certificate_expiry_timestamp_seconds";
            let _ = writeln!(
                out,
                "# HELP {name} When the TLS certificate serve presents expires (direct TLS).\n# TYPE {name} gauge\n{name} {}",
                ms / 1000
            );
        }
        out
    }
}

/// Labels rendered as `a="x",b="y"`.
fn labelled(labels: &[(&str, &str)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// GET /metrics, and nothing else. `database` is the database file, whose
/// file system's free space is read on each scrape.
pub fn router(metrics: Metrics, db: Db, database: &Path) -> Router {
    let dir: Arc<Path> = disk_space::database_dir(database).into();
    Router::new()
        .route("/metrics", get(scrape))
        .with_state((metrics, db, dir))
}

async fn scrape(State((metrics, db, dir)): State<(Metrics, Db, Arc<Path>)>) -> impl IntoResponse {
    let depth = async {
        Ok::<_, sqlx::Error>((
            inbox::count_pending(&db).await?,
            outbox::count_pending(&db).await?,
            outbox::count_dead(&db).await?,
        ))
    };
    let (inbox, outbox, dead) = depth.await.unwrap_or((-1, -1, -1));
    // statvfs can hang on a stalled (network) file system: off the runtime,
    // and the scrape answers without the figures rather than not at all.
    let statvfs = tokio::task::spawn_blocking(move || DiskSpace::of(&dir));
    let space = match tokio::time::timeout(Duration::from_secs(2), statvfs).await {
        Ok(Ok(Ok(space))) => Some(space),
        _ => None,
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(inbox, outbox, dead) + &filesystem_gauges(space),
    )
}

/// The free and total bytes of the database's file system; nothing, rather
/// than a made-up figure, when they cannot be read.
fn filesystem_gauges(space: Option<DiskSpace>) -> String {
    let Some(space) = space else {
        return String::new();
    };
    let mut out = String::new();
    for (name, help, value) in [
        (
            "telegate_database_filesystem_free_bytes",
            "Bytes telegate may still write on the file system holding the database.",
            space.free,
        ),
        (
            "telegate_database_filesystem_size_bytes",
            "Size of the file system holding the database, in bytes.",
            space.size,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_the_histogram_render_as_prometheus_text() {
        let m = Metrics::default();
        m.count(
            "telegate_updates_total",
            &[("kind", "message"), ("decision", "allowed")],
        );
        m.count(
            "telegate_updates_total",
            &[("kind", "message"), ("decision", "allowed")],
        );
        m.webhook_answer("ok", Some(Duration::from_millis(3)));
        m.webhook_answer("wrong_secret", None);
        let text = m.render(1, 2, 0);
        assert!(
            text.contains("telegate_updates_total{kind=\"message\",decision=\"allowed\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("telegate_webhook_ack_seconds_bucket{le=\"0.001\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("telegate_webhook_ack_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("telegate_webhook_ack_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("telegate_outbox_pending 2"), "{text}");
    }

    #[test]
    fn the_file_system_gauges_render_as_prometheus_text() {
        let text = filesystem_gauges(Some(DiskSpace {
            free: 230_000_000,
            size: 3_000_000_000,
        }));
        assert!(
            text.contains("# TYPE telegate_database_filesystem_free_bytes gauge\ntelegate_database_filesystem_free_bytes 230000000\n"),
            "{text}"
        );
        assert!(
            text.contains("telegate_database_filesystem_size_bytes 3000000000\n"),
            "{text}"
        );
        assert_eq!(filesystem_gauges(None), "");
    }

    #[test]
    fn counters_an_alert_watches_are_shown_as_zero_before_they_first_count() {
        let text = Metrics::default().render(0, 0, 0);
        for line in [
            "telegate_dead_letters_total 0",
            "telegate_too_many_requests_total 0",
            "telegate_send_retries_total 0",
            "telegate_webhook_requests_total{outcome=\"wrong_secret\"} 0",
            "# TYPE telegate_updates_total counter",
        ] {
            assert!(text.contains(line), "missing {line:?} in:\n{text}");
        }
    }
}
