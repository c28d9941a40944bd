//! A Telegram Bot API stand-in on loopback: what `telegate sandbox` talks to,
//! and the fake Bot API of the integration tests.
//!
//! It answers like the real Bot API for the methods telegate uses: `Message`
//! results, 401 for a wrong token, 400 for an empty or too long text, 404 for
//! an unknown method, 429 with retry_after when a message breaks Telegram's
//! flood limits (one a second per chat, twenty a minute per group, thirty a
//! second overall), getUpdates with long polling (409 while a webhook is set,
//! or when a newer getUpdates call takes over), and any fault a test asks
//! for (429, 5xx, an HTML page, a dropped connection).
//!
//! It keeps every message it sent, per chat, so that editMessageText and
//! editMessageReplyMarkup work on them as on Telegram ("message to edit not
//! found", "message is not modified"), checks `parse_mode: "HTML"` as
//! strictly as Telegram (an unescaped `<` is a 400), and makes the
//! callback_query update for a press of one of their buttons.

mod callbacks;
mod files;
pub mod html;
mod limits;
mod messages;
mod methods;
mod sent;
mod updates;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{net::TcpListener, sync::Notify, task::JoinHandle};

use crate::{clock::Clock, telegram::throttle::Limits};

pub use files::DOWNLOAD_LIMIT;
pub use messages::NOT_MODIFIED;
pub use sent::{Button, Document, MAX_CALLBACK_DATA, SentMessage};

/// One call the stand-in received, and the HTTP status it answered (0 when
/// the connection was dropped instead).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub status: u16,
    /// When it arrived, by the stand-in's clock (unix ms).
    pub at_ms: i64,
    /// The `result` it was answered with (`null` unless it succeeded).
    pub result: Value,
}

/// A failure to answer with instead of the normal result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A Bot API error answer: `{"ok":false,"error_code":..}`.
    Error {
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
    /// A 502 with an HTML body, as a proxy in front of the Bot API sends.
    HtmlBadGateway,
    /// The connection is closed without an answer.
    Drop,
    /// No answer at all: the call hangs until the client gives up (for
    /// tests that kill telegate while a call is in flight).
    Hang,
}

impl Fault {
    /// `429 Too Many Requests: retry after N`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self::Error {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }

    pub fn internal_error() -> Self {
        Self::Error {
            code: 500,
            description: "Internal Server Error".into(),
            retry_after: None,
        }
    }
}

#[derive(Default)]
struct Faults {
    /// Used once each, in order, per method.
    once: HashMap<String, VecDeque<Fault>>,
    /// Used for every call to the method until cleared.
    always: HashMap<String, Fault>,
    /// Used for every call about the chat until cleared.
    chats: HashMap<i64, Fault>,
}

pub(crate) struct State {
    /// The one token accepted (BotFather's /revoke replaces it).
    token: Mutex<String>,
    bot_id: i64,
    username: String,
    calls: Mutex<Vec<Call>>,
    faults: Mutex<Faults>,
    /// Every message sent, per chat.
    chats: Mutex<sent::Chats>,
    callbacks: Mutex<callbacks::Callbacks>,
    webhook: Mutex<Value>,
    /// Updates for getUpdates, and which call is the live one.
    held: Mutex<updates::Held>,
    /// Signalled when an update is held or a getUpdates call starts.
    arrived: Notify,
    changed: Notify,
    clock: Clock,
    /// `None`: no flood limits (a test turns them off to flood on purpose).
    limits: Mutex<Option<Limits>>,
    ledger: Mutex<limits::Ledger>,
    /// Files users sent, for getFile and downloads.
    files: Mutex<files::Files>,
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Starts on an ephemeral loopback port, accepting `token` only, and
    /// enforcing Telegram's default flood limits.
    pub async fn start(token: &str, username: &str) -> std::io::Result<Self> {
        Self::start_with_clock(token, username, Clock::system()).await
    }

    /// [`StandIn::start`], timing the flood limits by `clock`.
    pub async fn start_with_clock(
        token: &str,
        username: &str,
        clock: Clock,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let bot_id = token
            .split(':')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or(1);
        let state = Arc::new(State {
            token: Mutex::new(token.to_owned()),
            bot_id,
            username: username.to_owned(),
            calls: Mutex::default(),
            faults: Mutex::default(),
            chats: Mutex::default(),
            callbacks: Mutex::default(),
            webhook: Mutex::new(Value::Null),
            held: Mutex::default(),
            arrived: Notify::new(),
            changed: Notify::new(),
            clock,
            limits: Mutex::new(Some(Limits::default())),
            ledger: Mutex::default(),
            files: Mutex::default(),
        });
        let app = methods::router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// The base URL, for TELEGRAM_API_URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Enforces these flood limits (`None`: none) from now on.
    pub fn set_limits(&self, limits: Option<Limits>) {
        *lock(&self.state.limits) = limits;
    }

    /// How many calls were answered 429.
    pub fn too_many_requests(&self) -> usize {
        lock(&self.state.calls)
            .iter()
            .filter(|c| c.status == 429)
            .count()
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state.calls).clone()
    }

    /// The parameters of the successful calls to `method`.
    pub fn successful(&self, method: &str) -> Vec<Value> {
        lock(&self.state.calls)
            .iter()
            .filter(|c| c.method == method && c.status == 200)
            .map(|c| c.params.clone())
            .collect()
    }

    /// Accepts `token` from now on and refuses the old one with 401, as
    /// after BotFather's /revoke. The bot, its webhook and its held updates
    /// stay: they belong to the bot, not to the token.
    pub fn rotate_token(&self, token: &str) {
        *lock(&self.state.token) = token.to_owned();
    }

    /// Holds a file a user sends with `content`; returns the fields a
    /// message carries of it (file_id, file_unique_id, file_size), for a
    /// document, photo, audio, video or voice in an update.
    pub fn add_file(&self, content: &[u8]) -> Value {
        files::add(&self.state, Some(content.to_vec()), 0)
    }

    /// [`StandIn::add_file`] for `size` zero bytes, never held in memory
    /// (getFile refuses it with "file is too big" over [`DOWNLOAD_LIMIT`]).
    pub fn add_zero_file(&self, size: u64) -> Value {
        files::add(&self.state, None, size)
    }

    /// Holds an update for getUpdates, as Telegram does for a bot without
    /// a webhook.
    pub fn push_update(&self, update: Value) {
        lock(&self.state.held).push(update);
        self.state.arrived.notify_waiters();
    }

    /// Updates held and not yet confirmed by a getUpdates offset.
    pub fn held_updates(&self) -> usize {
        lock(&self.state.held).len()
    }

    /// The webhook as last set with setWebhook (`null` when none).
    pub fn webhook(&self) -> Value {
        lock(&self.state.webhook).clone()
    }

    /// Answers the next call to `method` with `fault` (queued after earlier ones).
    pub fn fail_next(&self, method: &str, fault: Fault) {
        lock(&self.state.faults)
            .once
            .entry(method.to_owned())
            .or_default()
            .push_back(fault);
    }

    /// Answers every call to `method` with `fault` until [`StandIn::heal`].
    pub fn fail_always(&self, method: &str, fault: Fault) {
        lock(&self.state.faults)
            .always
            .insert(method.to_owned(), fault);
    }

    /// Answers every call whose `chat_id` is `chat_id` with `fault` until
    /// [`StandIn::heal`].
    pub fn fail_chat(&self, chat_id: i64, fault: Fault) {
        lock(&self.state.faults).chats.insert(chat_id, fault);
    }

    /// Stops every fault set with [`StandIn::fail_always`] or [`StandIn::fail_chat`].
    pub fn heal(&self) {
        let mut faults = lock(&self.state.faults);
        faults.always.clear();
        faults.chats.clear();
    }

    /// The message `message_id` of the chat as it is now (after any edits),
    /// or `None` when the bot sent no such message.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<SentMessage> {
        lock(&self.state.chats).get(chat_id, message_id).cloned()
    }

    /// Every message the bot sent to the chat, as it is now, oldest first.
    pub fn messages(&self, chat_id: i64) -> Vec<SentMessage> {
        lock(&self.state.chats).all(chat_id)
    }

    /// The update Telegram sends when `from` (a user id) presses the button
    /// labelled `button` under the message: a callback_query carrying the
    /// button's data and the message as it is now, to post to the webhook.
    /// `None` when there is no such message or button. The stand-in expects
    /// an answerCallbackQuery for it (see [`StandIn::unanswered_callbacks`]).
    pub fn press(
        &self,
        update_id: i64,
        chat_id: i64,
        message_id: i64,
        from: i64,
        button: &str,
    ) -> Option<Value> {
        let nth = self
            .message(chat_id, message_id)?
            .buttons()
            .iter()
            .position(|b| b.text == button)?;
        let user = serde_json::json!({"id": from, "is_bot": false, "first_name": "Someone"});
        self.press_nth(update_id, (chat_id, message_id), &user, nth)
    }

    /// [`StandIn::press`] for the `nth` button (from 0, row by row), pressed
    /// by `from` (a Bot API `User` object).
    pub fn press_nth(
        &self,
        update_id: i64,
        (chat_id, message_id): (i64, i64),
        from: &Value,
        nth: usize,
    ) -> Option<Value> {
        callbacks::press(&self.state, update_id, (chat_id, message_id), from, nth)
    }

    /// The ids of the callback queries made by presses that no successful
    /// answerCallbackQuery has answered yet (a client would still show a
    /// spinner for them).
    pub fn unanswered_callbacks(&self) -> Vec<String> {
        callbacks::unanswered(&self.state)
    }

    /// The parameters of every successful answerCallbackQuery, in order.
    pub fn callback_answers(&self) -> Vec<Value> {
        self.successful("answerCallbackQuery")
    }

    /// The calls after the first `seen`, waiting (until the deadline) for
    /// at least one when there are none yet; empty when none came.
    pub async fn calls_after(&self, seen: usize, deadline: Duration) -> Vec<Call> {
        let waiting = async {
            loop {
                let changed = self.state.changed.notified();
                let after = {
                    let calls = lock(&self.state.calls);
                    calls.get(seen..).unwrap_or_default().to_vec()
                };
                if !after.is_empty() {
                    return after;
                }
                changed.await;
            }
        };
        tokio::time::timeout(deadline, waiting)
            .await
            .unwrap_or_default()
    }

    /// Waits until `check` finds what it looks for in the calls so far, or
    /// the deadline passes (then `None`). Woken by each call; never sleeps.
    pub async fn wait_for<T>(
        &self,
        deadline: Duration,
        check: impl Fn(&[Call]) -> Option<T>,
    ) -> Option<T> {
        let waiting = async {
            loop {
                let changed = self.state.changed.notified();
                // A copy, so that `check` may call back into the stand-in.
                let calls = lock(&self.state.calls).clone();
                if let Some(found) = check(&calls) {
                    return found;
                }
                changed.await;
            }
        };
        tokio::time::timeout(deadline, waiting).await.ok()
    }

    /// Waits for `count` successful sendMessage calls and returns their texts.
    pub async fn wait_for_texts(&self, count: usize, deadline: Duration) -> Option<Vec<String>> {
        self.wait_for(deadline, |calls| {
            let texts: Vec<String> = calls
                .iter()
                .filter(|c| c.method == "sendMessage" && c.status == 200)
                .map(|c| c.params["text"].as_str().unwrap_or_default().to_owned())
                .collect();
            (texts.len() >= count).then_some(texts)
        })
        .await
    }
}

impl State {
    /// The bot as the `from` of its messages.
    fn bot_user(&self) -> Value {
        serde_json::json!({
            "id": self.bot_id,
            "is_bot": true,
            "first_name": "telegate sandbox",
            "username": self.username,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
