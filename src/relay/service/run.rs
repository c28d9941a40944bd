//! One job from its start to its end.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Relay, run_spec, verdict};
use crate::{
    relay::{
        buttons::Request,
        runner::{self, RunOutcome},
        status::{self, Phase},
    },
    store::{
        audit::{Decision, Entry},
        jobs::{self, Ended, State},
        outbox::NewCall,
    },
};

/// How often the end of a job is tried to be written while the database
/// fails, a second apart; after that the next start marks it interrupted.
const FINISH_TRIES: u32 = 60;

pub(super) struct Job {
    pub id: i64,
    pub status_call: i64,
    pub request: Request,
    pub cancel_button: String,
}

impl Job {
    pub async fn run(&self, relay: &Relay, cancel: &CancellationToken) {
        let started = match runner::start(run_spec(&self.request, &relay.settings)).await {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(job = self.id, command = %self.request.command.name, error = %e, "a relay command did not start");
                let detail = format!("not started: {e}");
                let text = status::text(Phase::NotStarted, &self.request.shown, &detail, "", "");
                let ended = Ended {
                    state: State::Failed,
                    exit: detail.clone(),
                    output_bytes: 0,
                };
                self.end(
                    relay,
                    &ended,
                    "not_started",
                    vec![self.edit(&text, false)],
                    &detail,
                )
                .await;
                return;
            }
        };
        if let Err(e) = jobs::started(&relay.db, self.id, started.pgid()).await {
            // The row stays queued: a restart still ends the group and marks it.
            tracing::error!(job = self.id, error = %e, "cannot record that a job started");
        }
        let progress = started.progress();
        let shown = self.request.shown.clone();
        let every = relay.settings.edit_every;
        let edits = async {
            let mut last = String::new();
            loop {
                tokio::time::sleep(every).await;
                let now = progress.borrow().clone();
                let text = status::text(
                    Phase::Running,
                    &shown,
                    &status::running(now.elapsed),
                    &now.tail,
                    "",
                );
                if text == last {
                    continue;
                }
                if let Err(e) = relay.queue(&[self.edit(&text, true)]).await {
                    tracing::warn!(job = self.id, error = %e, "cannot queue a job's progress");
                }
                last = text;
            }
        };
        let outcome = tokio::select! {
            outcome = started.finish(cancel) => outcome,
            () = edits => unreachable!("the edits go on until the job ends"),
        };
        self.finished(relay, &outcome).await;
    }

    async fn finished(&self, relay: &Relay, outcome: &RunOutcome) {
        let (state, detail) = if outcome.cancelled && relay.stopping.is_cancelled() {
            (
                State::Interrupted,
                "interrupted: telegate stopped while it ran; it was not run again".to_owned(),
            )
        } else {
            verdict(outcome, self.request.command.timeout)
        };
        let phase = match state {
            State::Succeeded => Phase::Succeeded,
            State::TimedOut => Phase::TimedOut,
            State::Cancelled => Phase::Cancelled,
            State::Interrupted => Phase::Interrupted,
            _ => Phase::Failed,
        };
        let output = String::from_utf8_lossy(&outcome.output.merged()).into_owned();
        let long = output.chars().count() > relay.settings.message_output;
        let mut notes = Vec::new();
        if long {
            notes.push(format!(
                "The whole output ({} bytes) is in the document below.",
                outcome.output.kept()
            ));
        }
        if outcome.output.was_cut() {
            notes.push(format!(
                "Output cut: {} bytes written, the first {} kept (RELAY_OUTPUT_CAP).",
                outcome.output.seen(),
                outcome.output.kept()
            ));
        }
        let shown_output = if long {
            status::tail(&output, relay.settings.message_output)
        } else {
            &output
        };
        let text = status::text(
            phase,
            &self.request.shown,
            &detail,
            shown_output,
            &notes.join("\n"),
        );
        let mut calls = vec![self.edit(&text, false)];
        if long {
            let mut whole = output.clone();
            if outcome.output.was_cut() {
                whole.push_str(&format!(
                    "\n[output cut here: {} bytes written, {} kept]\n",
                    outcome.output.seen(),
                    outcome.output.kept()
                ));
            }
            let caption = format!("{} — {detail}", self.request.shown);
            calls.push(status::document(
                self.request.chat,
                &self.request.command.name,
                self.id,
                &whole,
                &caption,
            ));
        }
        let command = &self.request.command;
        if let (Some(workdir), false) = (&command.workdir, command.output_files.is_empty()) {
            let (workdir, patterns) = (workdir.clone(), command.output_files.clone());
            let (as_photo, chat) = (command.as_photo, self.request.chat);
            let caption = self.request.shown.clone();
            let listed = tokio::task::spawn_blocking(move || {
                crate::files::outputs::calls(&workdir, &patterns, as_photo, chat, &caption)
            })
            .await;
            if let Ok((files, notes)) = listed {
                calls.extend(files);
                if !notes.is_empty() {
                    let text = notes.join("\n");
                    let params = serde_json::json!({ "chat_id": chat, "text": text });
                    calls.push(NewCall::new(chat, "sendMessage", params));
                }
            }
        }
        let ended = Ended {
            state,
            exit: outcome.exit.to_string(),
            output_bytes: i64::try_from(outcome.output.seen()).unwrap_or(i64::MAX),
        };
        let summary = format!("{detail}; {} bytes of output", outcome.output.seen());
        self.end(relay, &ended, state.as_str(), calls, &summary)
            .await;
    }

    /// Writes the end (row, calls, audit) and counts it.
    async fn end(
        &self,
        relay: &Relay,
        ended: &Ended,
        outcome: &str,
        calls: Vec<NewCall>,
        summary: &str,
    ) {
        let request = &self.request;
        let arguments = match request.command.params.len() {
            0 => "no arguments".to_owned(),
            n if request.command.secret_args => format!("{n} arguments (secret)"),
            n => format!("{n} arguments ({})", request.shown),
        };
        let entry = Entry {
            chat_id: Some(request.chat),
            command: Some(request.command.name.clone()),
            ..Entry::event(
                "job",
                Some(request.user),
                Decision::Allowed,
                format!(
                    "job {}: {}: {summary}; {arguments}",
                    self.id,
                    State::label(ended.state.as_str())
                ),
            )
        };
        for attempt in 1..=FINISH_TRIES {
            match jobs::finish(&relay.db, self.id, ended, &calls, &entry).await {
                Ok(_) => {
                    relay.wake.notify_one();
                    break;
                }
                Err(e) if attempt == FINISH_TRIES => {
                    tracing::error!(job = self.id, error = %e, "cannot record the end of a job; the next start marks it interrupted");
                }
                Err(e) => {
                    tracing::warn!(job = self.id, error = %e, "cannot record the end of a job yet; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        relay.count(&request.command.name, outcome);
    }

    /// An edit of the status message, with [Cancel] while it runs.
    fn edit(&self, text: &str, running: bool) -> NewCall {
        let markup = running.then(|| status::keyboard(&[("Cancel", &self.cancel_button)]));
        status::edit(self.request.chat, self.status_call, text, markup)
    }
}
