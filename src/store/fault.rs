//! Storage faults: whether the database can be written, and what to do
//! while it cannot.
//!
//! Every writer (the webhook's inbox writer, the worker, the sender,
//! housekeeping) reports each write's outcome here. The first failure of
//! the storage itself (a full disk, an I/O error, a read-only file, a lock
//! held too long) turns the state to failing: the webhook answers 503 at
//! once, the worker and sender wait for [`Faults::writable`] instead of
//! looping, /health says so, and serve exits if it lasts longer than
//! STORAGE_FAULT_EXIT_AFTER. The next write that works turns it back. Errors
//! are logged once, then summarised every minute, so a failing disk is not
//! filled further by the log.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::metrics::Metrics;

/// The kinds of storage error, as counted in `telegate_storage_errors_total`.
pub const KINDS: [&str; 6] = ["full", "io", "readonly", "busy", "cantopen", "corrupt"];

/// How often a fault that goes on is summarised in the log.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);
/// While failing, work is retried after 1 s, then twice as long each time,
/// up to this.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(8);

/// The kind of storage fault `error` is, or `None` for an error that is not
/// the storage's (a constraint, a bug), which the caller handles as before.
pub fn kind(error: &sqlx::Error) -> Option<&'static str> {
    match error {
        sqlx::Error::Database(e) => {
            let code: i64 = e.code()?.parse().ok()?;
            // Extended result codes keep the primary code in the low byte.
            match code & 0xff {
                13 => Some("full"),         // SQLITE_FULL
                10 | 15 => Some("io"),      // SQLITE_IOERR, SQLITE_PROTOCOL
                8 => Some("readonly"),      // SQLITE_READONLY
                5 | 6 => Some("busy"),      // SQLITE_BUSY, SQLITE_LOCKED
                14 => Some("cantopen"),     // SQLITE_CANTOPEN
                11 | 26 => Some("corrupt"), // SQLITE_CORRUPT, SQLITE_NOTADB
                _ => None,
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => Some("io"),
        sqlx::Error::PoolTimedOut => Some("busy"),
        _ => None,
    }
}

/// The storage fault somewhere in an error's chain of causes.
pub fn kind_of(error: &anyhow::Error) -> Option<&'static str> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .and_then(kind)
}

/// A fault in force, for /health.
#[derive(Debug, Clone)]
pub struct Failing {
    pub for_: Duration,
    pub error: String,
}

pub struct Faults {
    /// Mirrors `state.since.is_some()`, read without the lock on every write.
    failing: AtomicBool,
    state: Mutex<State>,
    writable: watch::Sender<bool>,
    /// Bumped each time paused work should try again while failing.
    retry: watch::Sender<u64>,
    metrics: Metrics,
}

#[derive(Default)]
struct State {
    since: Option<Instant>,
    last_error: String,
    /// Errors since the fault began, and since the last summary.
    total: u64,
    unsummarised: u64,
    last_summary: Option<Instant>,
    /// When paused work tries again, and how long the wait after that is.
    next_retry: Option<Instant>,
    retry_wait: Duration,
    /// When a fault's start was last logged: a disk that flaps between full
    /// and not is summarised, not logged at every turn.
    last_logged: Option<Instant>,
    /// This fault's start was logged, so its end is too.
    start_logged: bool,
}

impl State {
    /// Whether a fault's start may be logged now.
    fn may_log(&mut self) -> bool {
        let may = self
            .last_logged
            .is_none_or(|at| at.elapsed() >= SUMMARY_EVERY);
        if may {
            self.last_logged = Some(Instant::now());
        }
        may
    }
}

impl Faults {
    pub fn new(metrics: Metrics) -> Arc<Self> {
        for kind in KINDS {
            metrics.seed("telegate_storage_errors_total", &[("kind", kind)]);
        }
        metrics.database_writable(true);
        Arc::new(Self {
            failing: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            writable: watch::Sender::new(true),
            retry: watch::Sender::new(0),
            metrics,
        })
    }

    /// Records the outcome of a write. Returns whether it failed because of
    /// the storage.
    pub fn record<T>(&self, what: &str, result: &Result<T, sqlx::Error>) -> bool {
        match result {
            Ok(_) => {
                self.ok();
                false
            }
            Err(e) => self.failed(what, kind(e), e),
        }
    }

    /// Records a failed operation. Returns whether the storage is to blame.
    pub fn failed_any(&self, what: &str, error: &anyhow::Error) -> bool {
        self.failed(what, kind_of(error), &format!("{error:#}"))
    }

    /// A write worked: the fault, if there was one, is over.
    pub fn ok(&self) {
        if !self.failing.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        let Some(since) = state.since.take() else {
            return;
        };
        self.failing.store(false, Ordering::Release);
        if state.start_logged {
            tracing::warn!(
                after = ?since.elapsed(),
                errors = state.total,
                "the database can be written again; the backlog is being worked off"
            );
        }
        let last_logged = state.last_logged;
        *state = State {
            last_logged,
            ..State::default()
        };
        drop(state);
        self.metrics.database_writable(true);
        self.writable.send_replace(true);
    }

    /// A write failed; `kind` is `None` when the storage is not to blame.
    fn failed(
        &self,
        what: &str,
        kind: Option<&'static str>,
        error: &dyn std::fmt::Display,
    ) -> bool {
        let Some(kind) = kind else {
            return false;
        };
        self.metrics
            .count("telegate_storage_errors_total", &[("kind", kind)]);
        let mut state = self.lock();
        state.total += 1;
        state.last_error = format!("{what}: {error}");
        if state.since.is_none() {
            let now = Instant::now();
            state.since = Some(now);
            state.last_summary = Some(now);
            state.retry_wait = Duration::from_secs(1);
            state.next_retry = Some(now + state.retry_wait);
            self.failing.store(true, Ordering::Release);
            if state.may_log() {
                state.start_logged = true;
                tracing::error!(
                    kind,
                    error = %state.last_error,
                    "the database cannot be written: updates are refused with 503 (Telegram redelivers them) and work pauses until it can; further errors are summarised every minute"
                );
            } else {
                state.unsummarised += 1;
            }
            drop(state);
            self.metrics.database_writable(false);
            self.writable.send_replace(false);
        } else {
            state.unsummarised += 1;
        }
        true
    }

    /// Whether the database is failing now.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    /// The fault in force, if any.
    pub fn failing(&self) -> Option<Failing> {
        let state = self.lock();
        state.since.map(|since| Failing {
            for_: since.elapsed(),
            error: state.last_error.clone(),
        })
    }

    /// Returns once the database can be written (at once when it can).
    pub async fn writable(&self) {
        let mut rx = self.writable.subscribe();
        let _ = rx.wait_for(|w| *w).await;
    }

    /// Returns at once while the database can be written; while it cannot,
    /// once it can again or when paused work should try again (with
    /// backoff), whichever comes first. Work that waits here between tries
    /// neither spins nor stays paused after the disk has room again.
    pub async fn until_retry(&self) {
        if !self.is_failing() {
            return;
        }
        let mut retry = self.retry.subscribe();
        tokio::select! {
            () = self.writable() => {}
            _ = retry.changed() => {}
        }
    }

    /// Logs the summary of a fault that goes on, once a minute. Returns for
    /// how long the database has been failing.
    pub fn tick(&self) -> Option<Duration> {
        let mut state = self.lock();
        let since = state.since?;
        if state.next_retry.is_some_and(|at| Instant::now() >= at) {
            state.retry_wait = (state.retry_wait * 2).min(MAX_RETRY_WAIT);
            state.next_retry = Some(Instant::now() + state.retry_wait);
            self.retry.send_modify(|n| *n += 1);
        }
        let due = state
            .last_summary
            .is_none_or(|at| at.elapsed() >= SUMMARY_EVERY);
        if due {
            tracing::error!(
                errors = state.unsummarised,
                failing_for = ?since.elapsed(),
                last_error = %state.last_error,
                "the database still cannot be written"
            );
            state.unsummarised = 0;
            state.last_summary = Some(Instant::now());
        }
        Some(since.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
