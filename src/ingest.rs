//! Batched inbox writes: the updates that arrive together are stored in one
//! transaction, and each request is answered only after that commit.

use std::sync::Arc;

use tokio::{
    sync::{Notify, mpsc, oneshot},
    task::JoinHandle,
};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::{Db, fault::Faults, inbox, inbox::NewUpdate};

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
    faults: Arc<Faults>,
    /// A batch is being written now.
    writing: Arc<AtomicBool>,
}

impl Ingest {
    /// Starts the writer. It ends once every handle is dropped and the queue is
    /// drained. `stored` is signalled after each commit that added something.
    pub fn start(db: Db, stored: Arc<Notify>, faults: Arc<Faults>) -> (Self, JoinHandle<()>) {
        let (jobs, rx) = mpsc::channel(QUEUE);
        let writing = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            db,
            stored,
            faults: faults.clone(),
            writing: writing.clone(),
        };
        let task = tokio::spawn(writer.run(rx));
        (
            Self {
                jobs,
                faults,
                writing,
            },
            task,
        )
    }

    /// Stores one update durably; returns once it is committed.
    ///
    /// While the database is failing, only one batch at a time tries (and
    /// so finds out when it works again); every other update is refused at
    /// once instead of queueing behind it.
    pub async fn store(&self, update: NewUpdate) -> Result<Stored, NotStored> {
        if self.faults.is_failing() && self.writing.load(Ordering::Acquire) {
            return Err(NotStored);
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { update, reply })
            .await
            .map_err(|_| NotStored)?;
        answer.await.unwrap_or(Err(NotStored))
    }
}

struct Writer {
    db: Db,
    stored: Arc<Notify>,
    faults: Arc<Faults>,
    writing: Arc<AtomicBool>,
}

impl Writer {
    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            self.writing.store(true, Ordering::Release);
            self.write(&mut jobs).await;
            self.writing.store(false, Ordering::Release);
        }
    }

    /// Stores one batch and answers each of its requests.
    async fn write(&self, jobs: &mut Vec<Job>) {
        let updates: Vec<&NewUpdate> = jobs.iter().map(|j| &j.update).collect();
        let written = inbox::insert_batch(&self.db, &updates).await;
        let storage = self.faults.record("storing updates", &written);
        match written {
            Ok(results) => {
                if results.iter().any(|&new| new) {
                    self.stored.notify_one();
                }
                for (job, new) in jobs.drain(..).zip(results) {
                    let _ = job
                        .reply
                        .send(Ok(if new { Stored::New } else { Stored::Duplicate }));
                }
            }
            Err(e) => {
                if !storage {
                    tracing::error!(error = %e, count = jobs.len(), "cannot store updates; answering 503 so Telegram redelivers them");
                }
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(NotStored));
                }
            }
        }
    }
}
