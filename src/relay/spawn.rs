//! Forking: the only place telegate starts a child process.
//!
//! Two kernel facts shape this file:
//! - The child is put in a new session (setsid) so that it and everything it
//!   starts form one process group that can be signalled as a whole.
//! - PR_SET_PDEATHSIG kills the child when telegate dies, but the kernel
//!   sends it when the *thread* that forked exits, not the process. Tokio's
//!   blocking pool ends idle threads after a few seconds, and `block_in_place`
//!   turns a worker into such a thread, so a child forked on the caller's
//!   thread could be killed in mid-run. Every fork therefore happens on one
//!   thread that lives as long as the process.

use std::{
    io,
    sync::{Mutex, mpsc},
    thread,
};

use rustix::process::{Pid, Signal};
use tokio::{
    process::{Child, Command},
    runtime::Handle,
    sync::oneshot,
};

struct Request {
    command: Command,
    runtime: Handle,
    reply: oneshot::Sender<io::Result<Child>>,
}

static SPAWNER: Mutex<Option<mpsc::Sender<Request>>> = Mutex::new(None);

/// Starts `command` as a session leader that dies with telegate. Must be
/// called within a tokio runtime: the child is registered with it.
pub(super) async fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = rustix::process::getpid();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed. It makes three raw syscalls through
    // rustix (setsid, prctl, getppid), allocates nothing and takes no lock;
    // `parent` is a plain copied integer.
    unsafe {
        command.pre_exec(move || detach_and_tie(parent));
    }
    let (reply, answer) = oneshot::channel();
    let request = Request {
        command,
        runtime: Handle::current(),
        reply,
    };
    spawner()?
        .send(request)
        .map_err(|_| io::Error::other("the process spawner thread has stopped"))?;
    answer
        .await
        .map_err(|_| io::Error::other("the process spawner thread has stopped"))?
}

/// In the child: a session of its own, SIGKILL when the parent dies, and no
/// start at all if the parent died before the parent-death signal was set.
fn detach_and_tie(parent: Pid) -> io::Result<()> {
    rustix::process::setsid()?;
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))?;
    if rustix::process::getppid() != Some(parent) {
        return Err(io::Error::from(rustix::io::Errno::SRCH));
    }
    Ok(())
}

fn spawner() -> io::Result<mpsc::Sender<Request>> {
    let mut slot = SPAWNER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(sender) = slot.as_ref() {
        return Ok(sender.clone());
    }
    let (sender, requests) = mpsc::channel::<Request>();
    thread::Builder::new()
        .name("relay-spawner".into())
        .spawn(move || {
            for mut request in requests {
                // The child's pidfd or SIGCHLD watch belongs to the caller's runtime.
                let _entered = request.runtime.enter();
                if let Err(Ok(orphan)) = request.reply.send(request.command.spawn()) {
                    // The caller gave up while we forked: nobody will end
                    // this group, so end it now (not yet reaped: its id is
                    // still ours).
                    if let Some(pgid) = orphan.id().and_then(|id| i32::try_from(id).ok()) {
                        super::group::kill_now(pgid);
                    }
                }
            }
        })?;
    *slot = Some(sender.clone());
    Ok(sender)
}
