//! Batched inbox writes: the updates that arrive together are stored in one
//! transaction, and each request is answered only after that commit.

use std::sync::Arc;

use tokio::{
    sync::{Notify, mpsc, oneshot},
    task::JoinHandle,
};

use crate::store::{Db, inbox, inbox::NewUpdate};

/// Most updates per transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for a commit; beyond this the webhook waits (backpressure).
const QUEUE: usize = 1024;

/// What became of a submitted update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

/// The update could not be stored (the database failed or is shutting down).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the update could not be stored")]
pub struct NotStored;

struct Job {
    update: NewUpdate,
    reply: oneshot::Sender<Result<Stored, NotStored>>,
}

/// A handle the webhook uses to store updates. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl Ingest {
    /// Starts the writer. It ends once every handle is dropped and the queue is
    /// drained. `stored` is signalled after each commit that added something.
    pub fn start(db: Db, stored: Arc<Notify>) -> (Self, JoinHandle<()>) {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_batches(db, rx, stored));
        (Self { jobs }, task)
    }

    /// Stores one update durably; returns once it is committed.
    pub async fn store(&self, update: NewUpdate) -> Result<Stored, NotStored> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { update, reply })
            .await
            .map_err(|_| NotStored)?;
        answer.await.unwrap_or(Err(NotStored))
    }
}

async fn write_batches(db: Db, mut rx: mpsc::Receiver<Job>, stored: Arc<Notify>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let updates: Vec<&NewUpdate> = jobs.iter().map(|j| &j.update).collect();
        match inbox::insert_batch(&db, &updates).await {
            Ok(results) => {
                if results.iter().any(|&new| new) {
                    stored.notify_one();
                }
                for (job, new) in jobs.drain(..).zip(results) {
                    let _ = job
                        .reply
                        .send(Ok(if new { Stored::New } else { Stored::Duplicate }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, count = jobs.len(), "cannot store updates; answering 503 so Telegram redelivers them");
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(NotStored));
                }
            }
        }
    }
}
