//! Wiring: open the database, register with the Bot API, serve HTTP, work the
//! inbox, send the outbox; and drain it all on shutdown.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    net::TcpListener,
    signal::unix::{SignalKind, signal},
    sync::{Notify, watch},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use crate::{
    auth::totp::TotpVerifier,
    bot::{
        Dispatcher, Guard,
        access::Access,
        flood::Flood,
        session::{Factor, StepUp},
    },
    clock::Clock,
    config::{Config, Intake},
    housekeeping::Housekeeping,
    http::{
        AppState, Gate, build_app,
        serve::{self, Listening},
    },
    ingest::Ingest,
    metrics::Metrics,
    relay::service::{Parts as RelayParts, Relay},
    store::{
        self, Db,
        audit::{self, Decision, Entry},
        fault::Faults,
        lock::SenderLock,
    },
    telegram::{
        BotClient,
        poll::Poller,
        register,
        register::WebhookStatus,
        sender::{Policy, Sender},
    },
    tls::Certificate,
    worker::Worker,
};

/// Everything must have stopped this long after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(9);
/// How long shutdown waits for relay jobs to end: past their SIGKILL.
const RELAY_SHUTDOWN: Duration = Duration::from_secs(8);
/// How long shutdown waits for uploads to end (their partial files removed).
const UPLOADS_SHUTDOWN: Duration = Duration::from_secs(1);

/// A running server.
pub struct Running {
    /// Released when the server is gone.
    _lock: SenderLock,
    /// `None` when polling: there is no webhook to listen for.
    addr: Option<SocketAddr>,
    /// The certificate served when serve terminates TLS itself.
    certificate: Option<Certificate>,
    metrics: Metrics,
    metrics_addr: SocketAddr,
    db: Db,
    reads: Db,
    cancel: CancellationToken,
    /// Fired when serve must exit with an error (the database could not be
    /// written for STORAGE_FAULT_EXIT_AFTER).
    fatal: CancellationToken,
    server: JoinHandle<()>,
    ingest: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    housekeeping: Housekeeping,
    relay: Arc<Relay>,
    uploads: Arc<crate::files::Uploads>,
    /// BOT_OWNER_ID, whose chat gets the owner's command menu.
    owner_id: i64,
    /// Wakes the sender for calls queued outside an update.
    outbox_wake: Arc<Notify>,
}

impl Running {
    /// The address the HTTP server listens on (none when polling).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The address GET /metrics is served on.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Returns when the server must exit with an error, saying why.
    pub async fn fatal(&self) -> anyhow::Error {
        self.fatal.cancelled().await;
        anyhow::anyhow!(
            "the database could not be written for longer than STORAGE_FAULT_EXIT_AFTER; exiting so that systemd restarts telegate"
        )
    }

    /// Re-reads TLS_CERT_FILE and TLS_KEY_FILE (what SIGHUP does). The
    /// certificate served so far stays when they cannot be used.
    pub async fn reload_certificate(&self) -> anyhow::Result<()> {
        let Some(certificate) = &self.certificate else {
            anyhow::bail!("TLS_CERT_FILE is not set: nginx (or nothing) terminates TLS");
        };
        certificate.reload().await?;
        self.metrics.certificate_expires(certificate.not_after());
        log_validity(certificate);
        Ok(())
    }

    /// Re-reads COMMANDS_FILE (what SIGHUP does); returns how many commands
    /// are declared. A file with problems changes nothing.
    pub async fn reload_commands(&self) -> anyhow::Result<Option<usize>> {
        if self.relay.file().is_none() {
            return Ok(None);
        }
        let count = self.relay.reload()?;
        // Telegram's command menu follows, through the outbox.
        let calls = register::menu_calls(self.owner_id, &self.relay.menu());
        store::outbox::queue(&self.db, &calls)
            .await
            .context("cannot queue the new command menu")?;
        self.outbox_wake.notify_one();
        Ok(Some(count))
    }

    /// The relay (its jobs, for tests and the sandbox).
    pub fn relay(&self) -> &Arc<Relay> {
        &self.relay
    }

    /// Runs one round of the minute's chores now (pruning, the flood limit's
    /// audit rows, expired sessions), beside the timer's rounds.
    pub async fn housekeeping_now(&self) -> anyhow::Result<()> {
        self.housekeeping.once().await
    }

    /// Stops accepting, finishes what is in flight, and returns within
    /// [`SHUTDOWN_GRACE`]; whatever is left stays pending for the next start.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        // Jobs end first (SIGTERM, SIGKILL after the grace) and are marked
        // interrupted, while the database is still open.
        self.relay.shutdown(RELAY_SHUTDOWN).await;
        // Downloads under way end, and start again at the next start.
        self.uploads.shutdown(UPLOADS_SHUTDOWN).await;
        let drain = async {
            let _ = self.server.await;
            // The router (and its ingest handles) is gone: the writer drains.
            let _ = self.ingest.await;
            for task in self.background {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
            tracing::warn!("shutdown took too long; pending work resumes at the next start");
        }
        // After the last write: the head the next start must still reach.
        crate::audit_head::log(&self.db, "shutdown").await;
        self.reads.close().await;
        self.db.close().await;
    }
}

/// Starts every part of the server and returns once it listens.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_with_clock(config, Clock::system()).await
}

/// [`start`], deciding by `clock` (tests move it forward).
pub async fn start_with_clock(config: Config, clock: Clock) -> anyhow::Result<Running> {
    let config = Arc::new(config);
    // A bad commands file stops the start before anything else, naming its lines.
    if let Some(path) = &config.commands_file {
        crate::relay::spec::load(path).context("COMMANDS_FILE")?;
    }
    let lock = SenderLock::acquire(&config.database_path)?;
    let db = store::open(&config.database_path).await?;
    audit::record(&db, &startup_entry(&config))
        .await
        .context("cannot write the startup row of the audit trail")?;
    crate::audit_head::log(&db, "startup").await;
    let reads = store::open_reader(&config.database_path).await?;
    let certificate = match (&config.tls, config.intake) {
        (Some(files), Intake::Webhook) => Some(Certificate::load(files).await?),
        _ => None,
    };
    let listener = match config.intake {
        Intake::Webhook => Some(
            TcpListener::bind(config.listen_addr)
                .await
                .with_context(|| format!("cannot listen on LISTEN_ADDR={}", config.listen_addr))?,
        ),
        Intake::Polling => None,
    };
    let addr = listener.as_ref().map(TcpListener::local_addr).transpose()?;
    let metrics_listener = TcpListener::bind(config.metrics_addr)
        .await
        .with_context(|| format!("cannot listen on METRICS_ADDR={}", config.metrics_addr))?;
    let metrics_addr = metrics_listener.local_addr()?;
    let metrics = Metrics::default();
    if let Some(certificate) = &certificate {
        metrics.certificate_expires(certificate.not_after());
        log_validity(certificate);
    }
    let client = BotClient::new(&config.api_url, &config.bot_token)?.counted_in(metrics.clone());
    let cancel = CancellationToken::new();
    let (inbox_wake, outbox_wake) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let webhook_status = Arc::new(WebhookStatus::default());
    let (identity_tx, identity) = watch::channel(None);

    let faults = Faults::new(metrics.clone());
    let (ingest, ingest_task) = Ingest::start(db.clone(), inbox_wake.clone(), faults.clone());
    let state = AppState {
        db: db.clone(),
        faults: faults.clone(),
        ingest,
        webhook_secret: config.webhook_secret.clone(),
        trusted_proxies: config.trusted_proxies.clone().into(),
        telegram_ranges: config.telegram_ranges.clone().into(),
        webhook: webhook_status.clone(),
        metrics: metrics.clone(),
    };
    let server = match listener {
        Some(listener) => {
            let listening = Listening {
                gate: Gate::new(
                    state.telegram_ranges.clone(),
                    state.trusted_proxies.clone(),
                    config.max_connections,
                    metrics.clone(),
                ),
                header_read_timeout: config.header_read_timeout,
                certificate: certificate.clone(),
            };
            let app = build_app(state, &config.webhook_path);
            tokio::spawn(serve::serve(
                listener,
                app,
                listening,
                cancel.clone(),
                SHUTDOWN_GRACE / 2,
            ))
        }
        None => {
            let poller = Poller {
                client: client.clone(),
                ingest: state.ingest,
            };
            spawn_poller(poller, state.webhook, cancel.clone())
        }
    };

    let scrubber = crate::scrub::Scrubber::new(db.clone());
    let relay = Relay::load(
        config.commands_file.as_deref(),
        config.relay.clone(),
        RelayParts {
            db: db.clone(),
            metrics: metrics.clone(),
            wake: outbox_wake.clone(),
            clock: clock.clone(),
        },
    )
    .context("COMMANDS_FILE")?;
    let interrupted = relay
        .recover()
        .await
        .context("cannot mark the jobs a stopped telegate left running")?;
    if interrupted > 0 {
        tracing::warn!(
            jobs = interrupted,
            "relay jobs were running when telegate stopped; marked interrupted, not run again"
        );
    }
    let uploads = crate::files::Uploads::new(
        &config.uploads,
        crate::files::service::Parts {
            client: client.clone(),
            db: db.clone(),
            wake: outbox_wake.clone(),
            backoff: config.send_retry_backoff.clone().into(),
            relay: relay.clone(),
            clock: clock.clone(),
        },
    )?;
    let resumed = uploads
        .resume()
        .await
        .context("cannot read the uploads a stopped telegate left pending")?;
    if resumed > 0 {
        tracing::info!(
            uploads = resumed,
            "uploads were pending when telegate stopped; downloading them again"
        );
    }
    let dispatcher = Arc::new(Dispatcher {
        db: db.clone(),
        reads: reads.clone(),
        access: Access::new(config.owner_id, &config.allowed_chat_ids),
        passcode: config.enrollment_passcode.clone(),
        guard: Guard {
            after: config.lockout_after,
            window: config.lockout_window,
            duration: config.lockout_duration,
            enrolment_wrong_per_hour: config.enrollment_max_wrong_per_hour,
        },
        step_up: step_up(&config)?,
        clock: clock.clone(),
        flood: Flood::new(config.inbound_limit_per_min),
        metrics: metrics.clone(),
        identity,
        started: Instant::now(),
        outbox_wake: outbox_wake.clone(),
        scrubber: scrubber.clone(),
        faults: faults.clone(),
        relay: relay.clone(),
        uploads: uploads.clone(),
        downloads: Arc::new(crate::files::Downloads::new(
            config.download_dirs.clone(),
            config.download_max_bytes,
            config.relay.confirm_timeout,
        )),
    });
    let housekeeping = Housekeeping {
        dispatcher: dispatcher.clone(),
        audit_retention_days: config.audit_retention_days,
        retention_days: config.retention_days,
    };
    let worker = Worker {
        reads: reads.clone(),
        dispatcher,
        wake: inbox_wake,
    };
    let menu_wake = outbox_wake.clone();
    let sender = Sender {
        db: db.clone(),
        client: client.clone(),
        wake: outbox_wake,
        policy: Policy::from_config(&config),
        clock: clock.clone(),
        metrics: metrics.clone(),
        faults: faults.clone(),
    };
    let fatal = CancellationToken::new();
    let metrics_server = tokio::spawn(serve_http(
        "metrics",
        metrics_listener,
        crate::metrics::router(metrics.clone(), reads.clone(), &config.database_path),
        cancel.clone(),
    ));
    let background = vec![
        metrics_server,
        tokio::spawn(register::run(
            client,
            config.clone(),
            {
                let relay = relay.clone();
                Arc::new(move || relay.menu())
            },
            webhook_status,
            identity_tx,
            cancel.clone(),
        )),
        tokio::spawn(worker.run(cancel.clone())),
        tokio::spawn(sender.run(cancel.clone())),
        tokio::spawn(housekeeping.clone().run(cancel.clone())),
        tokio::spawn(scrubber.run(cancel.clone())),
        tokio::spawn(watch_storage(
            faults,
            config.storage_fault_exit_after,
            fatal.clone(),
            cancel.clone(),
        )),
        tokio::spawn(crate::audit_head::run(
            db.clone(),
            crate::audit_head::EVERY,
            cancel.clone(),
        )),
    ];
    match addr {
        Some(addr) => {
            let tls = certificate.is_some();
            tracing::info!(%addr, tls, %metrics_addr, path = %config.webhook_path, version = env!("CARGO_PKG_VERSION"), "telegate is listening");
        }
        None => {
            tracing::info!(%metrics_addr, version = env!("CARGO_PKG_VERSION"), "telegate is polling (no webhook)");
        }
    }
    Ok(Running {
        _lock: lock,
        addr,
        certificate,
        metrics,
        metrics_addr,
        db,
        reads,
        cancel,
        fatal,
        server,
        ingest: ingest_task,
        background,
        housekeeping,
        relay,
        uploads,
        owner_id: config.owner_id,
        outbox_wake: menu_wake,
    })
}

fn step_up(config: &Config) -> anyhow::Result<StepUp> {
    let factor = match (&config.totp_secret, &config.enrollment_passcode) {
        (Some(secret), _) => {
            Factor::Totp(TotpVerifier::from_base32(secret.expose()).context("TOTP_SECRET")?)
        }
        (None, Some(passcode)) => Factor::Passcode(passcode.clone()),
        (None, None) => Factor::Off,
    };
    Ok(StepUp {
        factor,
        timeout: config.session_timeout,
        max_age: config.session_max_age,
    })
}

/// Says until when the certificate is valid; warns when that is near.
fn log_validity(certificate: &Certificate) {
    let file = certificate.files().cert.display().to_string();
    match certificate.not_after() {
        Some(ms) if ms - store::now_ms() < 14 * 86_400_000 => tracing::warn!(
            %file,
            "the TLS certificate expires on {} UTC, in less than 14 days: renew it",
            crate::timefmt::utc(ms)
        ),
        Some(ms) => {
            tracing::info!(%file, "the TLS certificate is valid until {} UTC", crate::timefmt::utc(ms))
        }
        None => tracing::warn!(%file, "the TLS certificate's expiry date could not be read"),
    }
}

/// The poller, started once registration has deleted the webhook. It owns
/// the last ingest handle, so it ends before the inbox writer drains.
fn spawn_poller(
    poller: Poller,
    registration: Arc<WebhookStatus>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = cancel.cancelled() => {}
            () = registration.wait_registered() => poller.run(cancel).await,
        }
    })
}

/// Serves `app` until `cancel` fires.
async fn serve_http(
    name: &'static str,
    listener: TcpListener,
    app: axum::Router,
    cancel: CancellationToken,
) {
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, server = name, "an HTTP server stopped");
    }
}

/// The configuration at startup, for the audit trail: settings, never secrets.
fn startup_entry(config: &Config) -> Entry {
    let on = |set: bool| if set { "on" } else { "off" };
    let factor = match (&config.totp_secret, &config.enrollment_passcode) {
        (Some(_), _) => "totp",
        (None, Some(_)) => "passcode",
        (None, None) => "off",
    };
    let outcome = format!(
        "started telegate {}: owner {}, {} chat(s) in ALLOWED_CHAT_IDS, enrolment {}, second factor {factor}, \
         session timeout {} s, max age {} s, lockout after {} in {} s for {} s, \
         inbound limit {}/min per user, audit retention {} day(s), retention {} day(s), webhook {}",
        env!("CARGO_PKG_VERSION"),
        config.owner_id,
        config.allowed_chat_ids.len(),
        on(config.enrollment_passcode.is_some()),
        config.session_timeout.as_secs(),
        config.session_max_age.as_secs(),
        config.lockout_after,
        config.lockout_window.as_secs(),
        config.lockout_duration.as_secs(),
        config.inbound_limit_per_min,
        config.audit_retention_days,
        config.retention_days,
        match config.intake {
            Intake::Webhook => config.webhook_url.as_str(),
            Intake::Polling => "none (polling with getUpdates)",
        },
    );
    Entry::event("startup", Some(config.owner_id), Decision::Allowed, outcome)
}

/// `telegate serve`: runs until SIGTERM or SIGINT; SIGHUP re-reads the TLS
/// certificate.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Handlers first: a signal that comes while starting is not fatal.
    let mut hangups = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let running = start(config).await?;
    let stop = async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    tokio::pin!(stop);
    let mut failure = None;
    loop {
        tokio::select! {
            () = &mut stop => break,
            e = running.fatal() => {
                failure = Some(e);
                break;
            }
            Some(()) = hangups.recv() => reload(&running).await,
        }
    }
    tracing::info!("shutting down");
    running.shutdown().await;
    failure.map_or(Ok(()), Err)
}

/// SIGHUP: re-reads the TLS certificate (when serve terminates TLS) and
/// the commands file (when one is set); what cannot be used leaves the one
/// before in force.
async fn reload(running: &Running) {
    match running.reload_commands().await {
        Ok(Some(count)) => tracing::info!(commands = count, "SIGHUP: reloaded COMMANDS_FILE"),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "SIGHUP: COMMANDS_FILE was not reloaded; the commands before stay in force")
        }
    }
    if running.certificate.is_none() && running.relay.file().is_some() {
        return;
    }
    match running.reload_certificate().await {
        Ok(()) => tracing::info!("SIGHUP: reloaded the TLS certificate"),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "SIGHUP: the TLS certificate was not reloaded; still serving the one before")
        }
    }
}

/// Summarises a storage fault that goes on, and fires `fatal` once it has
/// lasted `exit_after`.
async fn watch_storage(
    faults: Arc<Faults>,
    exit_after: Duration,
    fatal: CancellationToken,
    cancel: CancellationToken,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        if faults.tick().is_some_and(|failing| failing >= exit_after) {
            tracing::error!(
                after = ?exit_after,
                "the database could not be written for STORAGE_FAULT_EXIT_AFTER; exiting so that systemd restarts telegate"
            );
            fatal.cancel();
            return;
        }
    }
}
