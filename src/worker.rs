//! Takes pending updates from the inbox in update_id order: one chat's
//! updates one after another, different chats concurrently.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    bot::Dispatcher,
    store::{
        Db,
        inbox::{self, PendingUpdate, Scan},
    },
};

/// Tries per update before it is marked failed.
pub const MAX_ATTEMPTS: i64 = 3;
/// Chats handled at once.
const PARALLEL_CHATS: usize = 32;
/// Each scan looks at the oldest 4096 pending updates and takes up to 1024,
/// at most 512 of one chat: a chat's backlog of up to 3,500 or so cannot
/// hide the chats behind it, and one scan costs the same however long the
/// backlog is.
const SCAN: Scan = Scan {
    window: 4096,
    per_chat: 512,
    limit: 1024,
};

pub struct Worker {
    /// The read-only pool: scans do not queue behind writes.
    pub reads: Db,
    pub dispatcher: Arc<Dispatcher>,
    /// Signalled when updates are stored.
    pub wake: Arc<Notify>,
}

type ChatKey = Option<i64>;

impl Worker {
    /// Works until `cancel` fires, then finishes the update each chat is on.
    pub async fn run(self, cancel: CancellationToken) {
        // Commands are parsed against our @username, learned from getMe.
        let mut identity = self.dispatcher.identity.clone();
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = identity.wait_for(Option::is_some) => {}
        }
        let mut busy: HashSet<ChatKey> = HashSet::new();
        let mut lanes: JoinSet<()> = JoinSet::new();
        let mut lane_chat: HashMap<tokio::task::Id, ChatKey> = HashMap::new();
        while !cancel.is_cancelled() {
            // While the database cannot be written, no new work starts; the
            // lanes under way try again now and then and find out when it can.
            tokio::select! {
                () = cancel.cancelled() => break,
                () = self.dispatcher.faults.until_retry() => {}
            }
            for (chat, updates) in self.next_lanes(&busy).await {
                if lanes.len() >= PARALLEL_CHATS {
                    break;
                }
                let dispatcher = self.dispatcher.clone();
                let stop = cancel.clone();
                let handle = lanes.spawn(async move { run_lane(dispatcher, updates, stop).await });
                lane_chat.insert(handle.id(), chat);
                busy.insert(chat);
            }
            tokio::select! {
                () = cancel.cancelled() => {}
                Some(done) = lanes.join_next_with_id() => {
                    let id = done.map_or_else(|e| e.id(), |(id, ())| id);
                    if let Some(chat) = lane_chat.remove(&id) {
                        busy.remove(&chat);
                    }
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        while lanes.join_next().await.is_some() {}
    }

    /// Pending updates grouped by chat, in update_id order, leaving out chats
    /// that are being worked on (the scan skips them).
    async fn next_lanes(&self, busy: &HashSet<ChatKey>) -> Vec<(ChatKey, Vec<PendingUpdate>)> {
        let pending = match inbox::pending(&self.reads, SCAN, busy).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the inbox");
                return Vec::new();
            }
        };
        let mut lanes: Vec<(ChatKey, Vec<PendingUpdate>)> = Vec::new();
        for update in pending {
            let chat = update.chat_key;
            match lanes.iter_mut().find(|(c, _)| *c == chat) {
                Some((_, list)) => list.push(update),
                None => lanes.push((chat, vec![update])),
            }
        }
        lanes
    }
}

/// Handles one chat's updates in order, stopping early on shutdown.
///
/// Each update's first attempt is counted in the commit of the update before
/// it (one commit per update instead of two); only the lane's first update
/// is counted on its own.
async fn run_lane(
    dispatcher: Arc<Dispatcher>,
    updates: Vec<PendingUpdate>,
    cancel: CancellationToken,
) {
    let mut claimed = false;
    for (i, update) in updates.iter().enumerate() {
        if cancel.is_cancelled() {
            if claimed {
                // Counted but never started: give the attempt back.
                adjust_attempts(&dispatcher, update.update_id, -1).await;
            }
            return;
        }
        let next = updates.get(i + 1).map(|u| u.update_id);
        claimed = handle_with_retries(&dispatcher, update.clone(), claimed, next, &cancel).await;
    }
}

/// Returns whether `next`'s first attempt was counted.
async fn handle_with_retries(
    dispatcher: &Arc<Dispatcher>,
    mut update: PendingUpdate,
    mut claimed: bool,
    next: Option<i64>,
    cancel: &CancellationToken,
) -> bool {
    let mut last_error = String::from("the process stopped while handling it");
    loop {
        if claimed {
            // Counted by the commit before; the scan saw the count without it.
            update.attempts += 1;
            claimed = false;
            if update.attempts > MAX_ATTEMPTS {
                break;
            }
        } else {
            if update.attempts >= MAX_ATTEMPTS {
                break;
            }
            adjust_attempts(dispatcher, update.update_id, 1).await;
            update.attempts += 1;
        }
        // A task of its own, so that a panicking handler is a failed attempt
        // and not a dead worker.
        let (d, u) = (dispatcher.clone(), update.clone());
        match tokio::spawn(async move { d.handle(&u, next).await }).await {
            Ok(Ok(claimed_next)) => {
                dispatcher.faults.ok();
                return claimed_next;
            }
            Ok(Err(e)) if dispatcher.faults.failed_any("handling an update", &e) => {
                // The storage failed, not the update: this try does not
                // count. Wait, then try again.
                update.attempts -= 1;
                tokio::select! {
                    () = cancel.cancelled() => return false,
                    () = dispatcher.faults.until_retry() => {}
                }
                continue;
            }
            Ok(Err(e)) => last_error = format!("{e:#}"),
            Err(e) => last_error = format!("the handler panicked: {e}"),
        }
        tracing::warn!(update_id = update.update_id, attempt = update.attempts, error = %last_error, "handling an update failed");
        if update.attempts < MAX_ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(100 << (2 * update.attempts))).await;
        }
    }
    tracing::error!(update_id = update.update_id, error = %last_error, "giving up on an update; marked failed");
    if let Err(e) = dispatcher.give_up(&update, &last_error).await {
        tracing::error!(update_id = update.update_id, error = %e, "cannot mark an update failed");
    }
    false
}

async fn adjust_attempts(dispatcher: &Dispatcher, update_id: i64, by: i64) {
    let counted = async {
        let mut conn = dispatcher.db.acquire().await?;
        inbox::count_attempt(&mut conn, update_id, by).await
    }
    .await;
    if let Err(e) = &counted
        && !dispatcher.faults.record("counting an attempt", &counted)
    {
        tracing::error!(update_id, error = %e, "cannot count an attempt");
    }
}
