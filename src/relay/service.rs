//! The relay at work in serve: the commands in force, the limits on runs,
//! each job from its start to its end (status message edits, the output
//! document, the audit row, the metric), cancel, and at start the jobs a
//! stopped telegate left behind.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    buttons::{Buttons, Request},
    group,
    runner::{self, RunOutcome, RunSpec},
    spec::{self, Command, CommandsFile},
    status::{self, Phase},
};
use crate::{
    clock::Clock,
    metrics::Metrics,
    store::{
        Db,
        audit::{Decision, Entry},
        jobs::{self, Ended, State},
        outbox,
    },
};

mod limits;
mod run;

pub use limits::{Busy, Slot};

/// The relay's settings (RELAY_*, CONFIRM_TIMEOUT).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Jobs running at once, overall (RELAY_MAX_RUNNING).
    pub max_running: usize,
    /// Jobs running at once for one user (RELAY_MAX_PER_USER).
    pub max_per_user: usize,
    /// How long a [Run] button works (CONFIRM_TIMEOUT).
    pub confirm_timeout: Duration,
    /// The least time between two edits of a status message (RELAY_EDIT_EVERY).
    pub edit_every: Duration,
    /// Output kept per job, in bytes (RELAY_OUTPUT_CAP).
    pub output_cap: usize,
    /// Output longer than this (in characters) also goes as a .txt
    /// document (RELAY_MESSAGE_OUTPUT); at most what one message holds.
    pub message_output: usize,
    /// Time between SIGTERM and SIGKILL when a job is ended.
    pub kill_grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_running: 4,
            max_per_user: 2,
            confirm_timeout: Duration::from_secs(60),
            edit_every: Duration::from_secs(2),
            output_cap: 10 * 1024 * 1024,
            message_output: status::MESSAGE_OUTPUT_MAX,
            kill_grace: runner::DEFAULT_KILL_GRACE,
        }
    }
}

/// The commands in force, each shared with the jobs that run it.
#[derive(Debug, Default)]
pub struct Catalog {
    pub commands: Vec<Arc<Command>>,
    /// The command plain text is sent to (`text_command`).
    pub text_command: Option<Arc<Command>>,
}

impl Catalog {
    fn from_file(file: CommandsFile) -> Self {
        let commands: Vec<Arc<Command>> = file.commands.into_iter().map(Arc::new).collect();
        let text_command = file
            .text_command
            .and_then(|name| commands.iter().find(|c| c.name == name).cloned());
        Self {
            commands,
            text_command,
        }
    }

    pub fn find(&self, name: &str) -> Option<Arc<Command>> {
        self.commands.iter().find(|c| c.name == name).cloned()
    }
}

/// A job on its way.
struct Live {
    user: i64,
    cancel: CancellationToken,
}

pub struct Relay {
    catalog: RwLock<Arc<Catalog>>,
    file: Option<std::path::PathBuf>,
    pub settings: Settings,
    db: Db,
    metrics: Metrics,
    wake: Arc<Notify>,
    clock: Clock,
    pub buttons: Buttons,
    slots: Arc<Mutex<limits::Slots>>,
    live: Mutex<HashMap<i64, Live>>,
    /// Fired at shutdown: every job is ended and marked interrupted.
    stopping: CancellationToken,
    tasks: tokio_util::task::TaskTracker,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("file", &self.file)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What the relay needs from serve.
pub struct Parts {
    pub db: Db,
    pub metrics: Metrics,
    pub wake: Arc<Notify>,
    pub clock: Clock,
}

impl Relay {
    /// The relay with the commands of `file` (none when `None`); a file
    /// with problems is refused, each named with its line.
    pub fn load(
        file: Option<&Path>,
        settings: Settings,
        parts: Parts,
    ) -> Result<Arc<Self>, spec::LoadError> {
        let catalog = match file {
            Some(path) => Catalog::from_file(spec::load(path)?),
            None => Catalog::default(),
        };
        Ok(Arc::new(Self {
            catalog: RwLock::new(Arc::new(catalog)),
            file: file.map(Path::to_owned),
            settings,
            db: parts.db,
            metrics: parts.metrics,
            wake: parts.wake,
            clock: parts.clock,
            buttons: Buttons::default(),
            slots: Arc::default(),
            live: Mutex::default(),
            stopping: CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
        }))
    }

    /// The commands in force.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// COMMANDS_FILE, when set.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The commands for Telegram's menu: name, description, and whether
    /// every allowed user may run it (else only the owner's menu lists it).
    pub fn menu(&self) -> Vec<(String, String, bool)> {
        self.catalog()
            .commands
            .iter()
            .map(|c| {
                let everyone = c.allow == spec::Allow::Everyone;
                (c.name.clone(), c.description.clone(), everyone)
            })
            .collect()
    }

    /// Re-reads COMMANDS_FILE (SIGHUP). A file with problems changes
    /// nothing; the error names them. Jobs running go on as they started.
    pub fn reload(&self) -> Result<usize, spec::LoadError> {
        let Some(path) = &self.file else {
            return Ok(0);
        };
        let catalog = Catalog::from_file(spec::load(path)?);
        let count = catalog.commands.len();
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
        Ok(count)
    }

    /// A place for one more job of `user`, or why there is none.
    pub fn reserve(&self, user: i64) -> Result<Slot, Busy> {
        limits::reserve(&self.slots, &self.settings, user)
    }

    /// Starts job `job` (its row written, queued) in the background: the
    /// program runs, its status message (the one call `status_call` sends)
    /// is kept up to date, and at its end the job row, the last edit, the
    /// output document and the audit row are written together.
    pub fn launch(
        self: &Arc<Self>,
        job: i64,
        status_call: i64,
        request: Request,
        cancel_button: String,
        slot: Slot,
    ) {
        let cancel = self.stopping.child_token();
        self.lock_live().insert(
            job,
            Live {
                user: request.user,
                cancel: cancel.clone(),
            },
        );
        let relay = self.clone();
        self.tasks.spawn(async move {
            let run = run::Job {
                id: job,
                status_call,
                request,
                cancel_button,
            };
            run.run(&relay, &cancel).await;
            relay.lock_live().remove(&job);
            relay.buttons.forget(&run.cancel_button);
            drop(slot);
        });
    }

    /// Cancels job `job` if it runs; returns whether it did.
    pub fn cancel(&self, job: i64) -> bool {
        match self.lock_live().get(&job) {
            Some(live) => {
                live.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels every job of `user`; returns their ids.
    pub fn cancel_all_of(&self, user: i64) -> Vec<i64> {
        let live = self.lock_live();
        let mut ids: Vec<i64> = live
            .iter()
            .filter(|(_, l)| l.user == user)
            .map(|(id, l)| {
                l.cancel.cancel();
                *id
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Ends every job (SIGTERM, SIGKILL after the grace) and marks it
    /// interrupted; returns once all are written, or after `within`.
    pub async fn shutdown(&self, within: Duration) {
        self.stopping.cancel();
        self.tasks.close();
        if tokio::time::timeout(within, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("relay jobs did not end in time; the next start marks them interrupted");
        }
    }

    /// Jobs a stopped telegate left queued or running: their process groups
    /// are ended, they become interrupted, and their status messages say so.
    /// Nothing is run again.
    pub async fn recover(&self) -> anyhow::Result<usize> {
        let left = jobs::live(&self.db).await?;
        for job in &left {
            if let Some(pgid) = job.pgid.and_then(|p| i32::try_from(p).ok()) {
                match group::kill_group_if_alive(pgid) {
                    Ok(true) => {
                        tracing::warn!(job = job.id, pgid, "ended a job's processes left running")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(job = job.id, pgid, error = %e, "cannot end a job's processes")
                    }
                }
            }
            let detail = "interrupted: telegate stopped while it ran; it was not run again";
            let text = status::text(Phase::Interrupted, &job.shown, detail, "", "");
            let calls: Vec<_> = job
                .status_call
                .map(|of| status::edit(job.chat_id, of, &text, None))
                .into_iter()
                .collect();
            let entry = Entry {
                chat_id: Some(job.chat_id),
                command: Some(job.command.clone()),
                ..Entry::event(
                    "job",
                    Some(job.user_id),
                    Decision::Allowed,
                    format!(
                        "job {}: interrupted (telegate stopped while it ran)",
                        job.id
                    ),
                )
            };
            let ended = Ended {
                state: State::Interrupted,
                exit: "interrupted".into(),
                output_bytes: 0,
            };
            jobs::finish(&self.db, job.id, &ended, &calls, &entry).await?;
            self.count(&job.command, State::Interrupted.as_str());
        }
        if !left.is_empty() {
            self.wake.notify_one();
        }
        Ok(left.len())
    }

    fn count(&self, command: &str, outcome: &str) {
        self.metrics.count(
            "telegate_relay_runs_total",
            &[("command", command), ("outcome", outcome)],
        );
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Live>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues calls of a job outside any update, and wakes the sender.
    async fn queue(&self, calls: &[outbox::NewCall]) -> sqlx::Result<()> {
        outbox::queue(&self.db, calls).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Removes the buttons of question `id` once it expires, unless it was
    /// answered before.
    pub fn expire_later(self: &Arc<Self>, id: u64, expires_at: i64) {
        let relay = self.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = relay.clock.sleep_until(expires_at) => {}
                () = relay.stopping.cancelled() => return,
            }
            let Some(question) = relay.buttons.expire(id, relay.clock.now_ms()) else {
                return;
            };
            let Some(prompt) = question.prompt_call else {
                return;
            };
            let text = status::text(
                Phase::NotStarted,
                &question.request.shown,
                &format!(
                    "not run: not confirmed within {}",
                    crate::timefmt::span(status::millis(relay.settings.confirm_timeout))
                ),
                "",
                "",
            );
            let edit = status::edit(question.request.chat, prompt, &text, None);
            if let Err(e) = relay.queue(&[edit]).await {
                tracing::error!(error = %e, "cannot remove the buttons of an expired confirmation");
            }
        });
    }
}

/// The child's environment: PATH, HOME and LANG, then what the command
/// declares (which may replace them). Nothing of telegate's own.
pub fn environment(command: &Command) -> Vec<(String, String)> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/".into());
    let mut env: std::collections::BTreeMap<String, String> = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", home.as_str()),
        ("LANG", "C.UTF-8"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend(command.env.clone());
    env.into_iter().collect()
}

/// What to run for `request`.
pub fn run_spec(request: &Request, settings: &Settings) -> RunSpec {
    let command = &request.command;
    RunSpec {
        argv: request.argv.args.clone(),
        env: environment(command),
        workdir: command.workdir.clone(),
        stdin: request.argv.stdin.clone().map(String::into_bytes),
        timeout: command.timeout,
        output_cap: settings.output_cap,
        kill_grace: settings.kill_grace,
        ..RunSpec::new(&command.program)
    }
}

/// The outcome's state, and what the status message says of it.
pub fn verdict(outcome: &RunOutcome, timeout: Duration) -> (State, String) {
    use super::exit::Exit;
    let took = crate::timefmt::span(status::millis(outcome.duration));
    if outcome.timed_out {
        let limit = crate::timefmt::span(status::millis(timeout));
        return (State::TimedOut, format!("timed out after {limit}"));
    }
    if outcome.cancelled {
        return (State::Cancelled, format!("cancelled after {took}"));
    }
    match outcome.exit {
        Exit::Code(0) => (State::Succeeded, format!("exit code 0, {took}")),
        exit => (State::Failed, format!("{exit}, {took}")),
    }
}
