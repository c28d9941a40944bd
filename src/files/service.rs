//! Uploads at work in serve: each file is fetched in a task of its own once
//! the update that brought it is committed, so the webhook has answered long
//! before and the worker goes on with the chat's next update. getFile and
//! the download are retried with the sender's backoff on 5xx and network
//! errors; the file is streamed to disk (and hashed on the way), never held
//! whole in memory. The end, stored or failed, is a reply to the message
//! and an audit row, written together.

use std::{path::PathBuf, sync::Arc, time::Duration};

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    dir::UploadDir,
    upload::{FollowUp, Upload, exact_size, too_big},
};
use crate::{
    clock::Clock,
    relay::{args, buttons::Request, service::Relay, status},
    store::{
        Db,
        audit::{Decision, Entry},
        outbox::NewCall,
        uploads,
    },
    telegram::{ApiError, BotClient},
};

/// Tries of getFile and of the download, each.
const TRIES: usize = 5;
/// How often the end of an upload is tried to be written while the
/// database fails, a second apart.
const FINISH_TRIES: u32 = 30;

/// UPLOAD_DIR and UPLOAD_MAX_BYTES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `None`: uploads are off.
    pub dir: Option<PathBuf>,
    pub max_bytes: u64,
}

/// The Bot API's own download limit (without a self-hosted server).
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Self {
            dir: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// What uploads need from serve.
pub struct Parts {
    pub client: BotClient,
    pub db: Db,
    /// Wakes the sender for the replies.
    pub wake: Arc<Notify>,
    /// Waits between tries (SEND_RETRY_BACKOFF); the last one repeats.
    pub backoff: Arc<[Duration]>,
    /// For the [Run] question of a command named in a file's caption.
    pub relay: Arc<Relay>,
    pub clock: Clock,
}

pub struct Uploads {
    dir: Option<UploadDir>,
    max_bytes: u64,
    parts: Parts,
    stopping: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploads")
            .field("dir", &self.dir)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// How an upload ended.
enum Outcome {
    Stored {
        path: String,
        bytes: u64,
        sha256: String,
    },
    /// Refused or failed, with what to tell the user.
    Failed { why: String, tell: String },
}

impl Uploads {
    /// Opens UPLOAD_DIR when it is set.
    pub fn new(settings: &Settings, parts: Parts) -> anyhow::Result<Arc<Self>> {
        let dir = match &settings.dir {
            Some(path) => Some(UploadDir::open(path).map_err(|e| {
                anyhow::anyhow!(
                    "UPLOAD_DIR={}: cannot open it as a directory: {e}; create it (owned by telegate's user, mode 0700) or unset UPLOAD_DIR",
                    path.display()
                )
            })?),
            None => None,
        };
        Ok(Arc::new(Self {
            dir,
            max_bytes: settings.max_bytes,
            parts,
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }))
    }

    /// Whether UPLOAD_DIR is set.
    pub fn is_on(&self) -> bool {
        self.dir.is_some()
    }

    /// UPLOAD_MAX_BYTES.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The absolute path of `stored` (a path relative to UPLOAD_DIR, as
    /// the uploads table holds it); `None` when uploads are off.
    pub fn absolute(&self, stored: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|dir| dir.path().join(stored))
    }

    /// Fetches and stores upload `id` (its row written, pending) in the
    /// background; its row, reply and audit row are written when it ends.
    /// Stopped by shutdown, it stays pending for the next start.
    pub fn launch(self: &Arc<Self>, id: i64, upload: Upload) {
        let uploads = self.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                outcome = uploads.fetch(&upload) => uploads.finish(id, &upload, outcome).await,
                () = uploads.stopping.cancelled() => {}
            }
        });
    }

    /// Starts again the uploads a stopped telegate left pending; returns
    /// how many.
    pub async fn resume(self: &Arc<Self>) -> anyhow::Result<usize> {
        if let Some(dir) = &self.dir {
            match dir.sweep() {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(files = n, "removed partial uploads a stopped telegate left")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot remove the partial uploads a stopped telegate left")
                }
            }
        }
        let left = crate::store::uploads::pending(&self.parts.db).await?;
        for row in &left {
            self.launch(row.id, Upload::resumed(row));
        }
        Ok(left.len())
    }

    /// Ends the downloads under way (they stay pending, for the next start:
    /// a partial file is removed) and waits for them, at most `within`.
    pub async fn shutdown(&self, within: Duration) {
        self.stopping.cancel();
        self.tasks.close();
        if tokio::time::timeout(within, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("uploads did not end in time");
        }
    }

    async fn fetch(&self, upload: &Upload) -> Outcome {
        let Some(dir) = &self.dir else {
            return failed("uploads are off", "Uploads are off.".into());
        };
        let file = match self.retried(|| self.get_file(&upload.file_id)).await {
            Ok(file) => file,
            Err(e) => return self.refused_by_api(upload, &e),
        };
        if let Some(size) = file.size
            && size > self.max_bytes
        {
            return failed(
                &format!("refused: {size} bytes, over UPLOAD_MAX_BYTES"),
                too_big(&upload.name, size, self.max_bytes),
            );
        }
        match self.retried(|| self.store(dir, upload, &file.path)).await {
            Ok(stored) => stored,
            Err(e) => self.refused_by_api(upload, &e),
        }
    }

    async fn get_file(&self, file_id: &str) -> Result<RemoteFile, ApiError> {
        let result = self
            .parts
            .client
            .call("getFile", &json!({ "file_id": file_id }))
            .await?;
        let path = result["file_path"].as_str().ok_or_else(|| ApiError::Api {
            code: 400,
            description: "getFile gave no file_path".into(),
            retry_after: None,
        })?;
        Ok(RemoteFile {
            path: path.to_owned(),
            size: result["file_size"].as_u64(),
        })
    }

    /// One try at downloading into a new temporary file and keeping it.
    async fn store(
        &self,
        dir: &UploadDir,
        upload: &Upload,
        path: &str,
    ) -> Result<Outcome, ApiError> {
        let mut download = self.parts.client.download(path).await?;
        let local = |what: &str, e: std::io::Error| Local(format!("{what}: {e}"));
        let attempt = async {
            let mut partial = dir
                .begin(upload.user)
                .map_err(|e| local("cannot create the file", e))?;
            let (mut hash, mut bytes) = (Sha256::new(), 0u64);
            while let Some(chunk) = download.chunk().await.map_err(Remote)? {
                bytes += chunk.len() as u64;
                if bytes > self.max_bytes {
                    return Err(Local(format!(
                        "it grew past UPLOAD_MAX_BYTES ({} bytes) while downloading",
                        self.max_bytes
                    )));
                }
                hash.update(&chunk);
                partial
                    .write(&chunk)
                    .await
                    .map_err(|e| local("cannot write the file", e))?;
            }
            let path = partial
                .keep(&upload.name)
                .await
                .map_err(|e| local("cannot store the file", e))?;
            Ok(Outcome::Stored {
                path,
                bytes,
                sha256: hex(&hash.finalize()),
            })
        };
        match attempt.await {
            Ok(stored) => Ok(stored),
            Err(Remote(e)) => Err(e),
            // A local failure is no reason to download again.
            Err(Local(why)) => {
                tracing::error!(user = upload.user, error = %why, "an upload could not be stored");
                Ok(failed(
                    &format!("failed: {why}"),
                    format!(
                        "{} was not stored: {why}. Tell the server's operator.",
                        upload.name
                    ),
                ))
            }
        }
    }

    /// `call` until it succeeds, fails for good, or [`TRIES`] tries failed.
    async fn retried<T, F, Fut>(&self, call: F) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut tries = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && tries + 1 < TRIES => {
                    let backoff = &self.parts.backoff;
                    let wait = backoff
                        .get(tries)
                        .or(backoff.last())
                        .copied()
                        .unwrap_or(Duration::from_secs(1));
                    let wait = e.retry_after().unwrap_or(wait);
                    tracing::warn!(error = %e, ?wait, "an upload's Bot API call failed; trying again");
                    tokio::time::sleep(wait).await;
                    tries += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn refused_by_api(&self, upload: &Upload, e: &ApiError) -> Outcome {
        if let ApiError::Api { description, .. } = e
            && description.contains("file is too big")
        {
            return failed(
                "refused by the Bot API: file is too big",
                format!(
                    "{} was not stored: the Bot API serves files up to 20 MB only (a self-hosted Bot API server in --local mode serves larger ones).",
                    upload.name
                ),
            );
        }
        failed(
            &format!("failed: {e}"),
            format!(
                "{} could not be downloaded ({}). Send it again later.",
                upload.name,
                short(e)
            ),
        )
    }

    /// Writes the reply and the audit row together.
    async fn finish(&self, id: i64, upload: &Upload, outcome: Outcome) {
        let row = match &outcome {
            Outcome::Stored {
                path,
                bytes,
                sha256,
            } => Some((path.clone(), *bytes, sha256.clone())),
            Outcome::Failed { .. } => None,
        };
        let stored = row.as_ref().map(|(path, bytes, sha256)| uploads::Stored {
            path,
            bytes: i64::try_from(*bytes).unwrap_or(i64::MAX),
            sha256,
        });
        let (decision, audit, text) = match outcome {
            Outcome::Stored {
                path,
                bytes,
                sha256,
            } => (
                Decision::Allowed,
                format!("upload stored: {path}, {bytes} bytes, sha256 {sha256}"),
                format!(
                    "Stored as {path} in the upload directory: {}.",
                    exact_size(bytes)
                ),
            ),
            Outcome::Failed { why, tell } => (
                Decision::Refused,
                format!("upload {}: {why}", upload.name),
                tell,
            ),
        };
        let entry = Entry {
            chat_id: Some(upload.chat),
            ..Entry::event("upload", Some(upload.user), decision, audit)
        };
        let mut calls = vec![NewCall::new(
            upload.chat,
            "sendMessage",
            json!({
                "chat_id": upload.chat,
                "text": text,
                "reply_parameters": {
                    "message_id": upload.message_id,
                    "allow_sending_without_reply": true,
                },
            }),
        )];
        let question = match (&upload.then, &row) {
            (Some(then), Some((path, _, _))) => self.offer(upload, then, path),
            _ => None,
        };
        let asked = question.as_ref().and_then(|offer| offer.question);
        if let Some(offer) = question {
            calls.push(offer.call);
        }
        for attempt in 1..=FINISH_TRIES {
            match uploads::finish(&self.parts.db, id, stored.as_ref(), &calls, &entry).await {
                Ok(ids) => {
                    if let (Some((id, expires_at)), Some(call)) = (asked, ids.get(1)) {
                        self.parts.relay.buttons.set_prompt(id, *call);
                        self.parts.relay.expire_later(id, expires_at);
                    }
                    self.parts.wake.notify_one();
                    return;
                }
                Err(e) if attempt == FINISH_TRIES => {
                    if let Some((id, _)) = asked {
                        self.parts.relay.buttons.withdraw(id);
                    }
                    tracing::error!(user = upload.user, error = %e, "cannot record the end of an upload");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record the end of an upload yet; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// A [Run] question for the command a file's caption named.
struct Offer {
    /// The question's id and when it expires; `None`: no question, the
    /// call says why nothing was asked.
    question: Option<(u64, i64)>,
    call: NewCall,
}

impl Uploads {
    /// Asks whether to run `then` with the file stored at `path` (relative
    /// to UPLOAD_DIR); `None` when its arguments are wrong (the reply to
    /// the question's place says so).
    fn offer(&self, upload: &Upload, then: &FollowUp, path: &str) -> Option<Offer> {
        let relay = &self.parts.relay;
        let absolute = self.absolute(path)?.display().to_string();
        let chat = upload.chat;
        let argv = match args::build_with_file(&then.command, &then.args, Some(&absolute)) {
            Ok(argv) => argv,
            Err(e) => {
                return Some(Offer {
                    question: None,
                    call: status::send(
                        chat,
                        &status::escape(&format!("Nothing was run: {e}")),
                        None,
                    ),
                });
            }
        };
        let request = Request {
            shown: crate::bot::relay::shown(&then.command, &then.args),
            command: then.command.clone(),
            argv,
            user: upload.user,
            chat,
        };
        let timeout = relay.settings.confirm_timeout;
        let expires_at = self.parts.clock.now_ms() + status::millis(timeout);
        let text = format!(
            "Run {} with {}? This works for {} and only for you.",
            status::escape(&request.shown),
            status::escape(path),
            crate::timefmt::span(status::millis(timeout))
        );
        let (id, question) = relay.buttons.ask(request, expires_at);
        let (run, decline) = question.tokens();
        let markup = status::keyboard(&[("Run", run), ("Cancel", decline)]);
        Some(Offer {
            question: Some((id, expires_at)),
            call: status::send(chat, &text, Some(markup)),
        })
    }
}

/// What getFile said of a file.
struct RemoteFile {
    path: String,
    size: Option<u64>,
}

/// Why one try at storing failed: at the Bot API (maybe worth another
/// try) or here.
enum Failure {
    Remote(ApiError),
    Local(String),
}
use Failure::{Local, Remote};

fn failed(why: &str, tell: String) -> Outcome {
    Outcome::Failed {
        why: why.to_owned(),
        tell,
    }
}

/// A failure in a few words for the chat.
fn short(e: &ApiError) -> String {
    match e {
        ApiError::Api {
            code, description, ..
        } => format!("the Bot API answered {code}: {description}"),
        ApiError::Transport(_) => "the Bot API could not be reached".into(),
        ApiError::Local(why) => why.clone(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
