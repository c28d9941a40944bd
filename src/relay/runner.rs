//! Running one program: exact argv and environment, its own process group,
//! output captured, ended as a whole at its timeout or on cancel.
//!
//! The program is executed directly, never through a shell, so every argv
//! element reaches it as one inert string. Nothing of telegate's environment
//! is inherited. When the program exits, anything it left running in its
//! group is ended too: a run leaves nothing behind.

use std::{fmt, io, path::PathBuf, time::Duration};

use rustix::process::{PidfdFlags, pidfd_open};
use tokio::{
    io::{AsyncWriteExt, unix::AsyncFd},
    process::{Child, Command},
    sync::watch,
    task::JoinHandle,
    time::{Instant, sleep_until, timeout},
};
use tokio_util::sync::CancellationToken;

use super::{
    capture::{Progress, collect},
    exit::Exit,
    group,
    output::Output,
    spawn,
};

/// The default time a program gets after SIGTERM before SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(5);
/// How long output is still read once the group is gone: only a process that
/// left the group (its own setsid) can keep the pipes open longer.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// What to run and how. The environment is the child's whole environment.
#[derive(Clone)]
pub struct RunSpec {
    /// The program, an absolute path (no PATH search: there may be no PATH).
    pub program: PathBuf,
    /// The arguments after the program name, each passed as it is.
    pub argv: Vec<String>,
    /// The child's entire environment; nothing is inherited.
    pub env: Vec<(String, String)>,
    /// The working directory; telegate's own when `None`.
    pub workdir: Option<PathBuf>,
    /// Bytes written to the child's stdin, which is then closed; `None`: stdin is /dev/null.
    pub stdin: Option<Vec<u8>>,
    /// How long the program may run before its group is ended.
    pub timeout: Duration,
    /// How many bytes of output (both streams together) are kept.
    pub output_cap: usize,
    /// Time between SIGTERM and SIGKILL when the group is ended.
    pub kill_grace: Duration,
}

impl RunSpec {
    /// `program` with no arguments, an empty environment, no stdin, a 60 s
    /// timeout, 10 MB of output and the default grace.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            argv: Vec::new(),
            env: Vec::new(),
            workdir: None,
            stdin: None,
            timeout: Duration::from_secs(60),
            output_cap: 10 * 1024 * 1024,
            kill_grace: DEFAULT_KILL_GRACE,
        }
    }
}

// Arguments, environment values and stdin may carry secrets: only their
// shape is shown.
impl fmt::Debug for RunSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("RunSpec")
            .field("program", &self.program)
            .field("argv", &format_args!("{} arguments", self.argv.len()))
            .field("env", &names)
            .field("workdir", &self.workdir)
            .field("stdin", &self.stdin.as_ref().map(Vec::len))
            .field("timeout", &self.timeout)
            .field("output_cap", &self.output_cap)
            .field("kill_grace", &self.kill_grace)
            .finish()
    }
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program is not given as an absolute path.
    #[error(
        "the program {0:?} is not an absolute path; give its full path, such as /usr/bin/uptime"
    )]
    RelativeProgram(PathBuf),
    /// The kernel refused to start it (missing, not executable, bad working directory…).
    #[error(
        "could not start {program:?}: {source}; check that it exists, is executable and that its working directory exists"
    )]
    Spawn {
        /// The program that did not start.
        program: PathBuf,
        /// What the kernel or the standard library said.
        source: io::Error,
    },
    /// The program started but could not be watched; it has been killed.
    #[error("could not watch {program:?} after starting it (it was killed): {source}")]
    Watch {
        /// The program that was started and killed.
        program: PathBuf,
        /// The failing call's error.
        source: io::Error,
    },
}

/// What a run came to.
#[derive(Debug)]
pub struct RunOutcome {
    /// The program's exit code or signal.
    pub exit: Exit,
    /// From the start to the end of the whole group.
    pub duration: Duration,
    /// The group was ended because the timeout passed.
    pub timed_out: bool,
    /// The group was ended because the run was cancelled.
    pub cancelled: bool,
    /// A member of the group still ran after SIGKILL (stuck in the kernel);
    /// [`group::kill_group_if_alive`] can be tried again later.
    pub group_survived: bool,
    /// stdout and stderr as they arrived, up to the cap.
    pub output: Output,
}

/// Runs `spec` to its end: see [`start`] and [`Started::finish`].
pub async fn run(spec: RunSpec, cancel: &CancellationToken) -> Result<RunOutcome, RunError> {
    Ok(start(spec).await?.finish(cancel).await)
}

/// Starts `spec`'s program. The returned handle gives the group id (for a
/// job table) and the live [`Progress`]; dropping it kills the group.
pub async fn start(spec: RunSpec) -> Result<Started, RunError> {
    if !spec.program.is_absolute() {
        return Err(RunError::RelativeProgram(spec.program));
    }
    let mut child = spawn::spawn(command(&spec))
        .await
        .map_err(|source| RunError::Spawn {
            program: spec.program.clone(),
            source,
        })?;
    let started = Instant::now();
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .expect("a child that was just spawned has a pid");
    let guard = GroupGuard { pgid, armed: true };
    let watch_error = |source| RunError::Watch {
        program: spec.program.clone(),
        source,
    };
    let exited = leader_exit(pgid).map_err(watch_error)?;
    let feeder = match (spec.stdin, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(tokio::spawn(async move {
            // A program that does not read all of it closes the pipe: not an error.
            let _ = stdin.write_all(&bytes).await;
        })),
        _ => None,
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
        return Err(watch_error(io::Error::other("no output pipes")));
    };
    let (progress_tx, progress) = watch::channel(Progress::default());
    let stop_reading = CancellationToken::new();
    let collector = tokio::spawn(collect(
        stdout,
        stderr,
        Output::new(spec.output_cap),
        started,
        progress_tx,
        stop_reading.clone(),
    ));
    Ok(Started {
        child,
        pgid,
        exited,
        started,
        timeout: spec.timeout,
        grace: spec.kill_grace,
        collector,
        stop_reading,
        feeder,
        progress,
        guard,
    })
}

/// A running program.
pub struct Started {
    child: Child,
    pgid: i32,
    exited: AsyncFd<std::os::fd::OwnedFd>,
    started: Instant,
    timeout: Duration,
    grace: Duration,
    collector: JoinHandle<Output>,
    stop_reading: CancellationToken,
    feeder: Option<JoinHandle<()>>,
    progress: watch::Receiver<Progress>,
    guard: GroupGuard,
}

impl Started {
    /// The process group id (also the program's pid and its session id).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The live view: elapsed time and the output's tail.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Waits for the program to exit, its timeout or `cancel`; then ends what
    /// is left of its group and returns once none of it runs.
    pub async fn finish(mut self, cancel: &CancellationToken) -> RunOutcome {
        // A timeout too far out to be an Instant (Duration::MAX) is no timeout.
        let deadline = self.started.checked_add(self.timeout);
        let timer = async {
            match deadline {
                Some(deadline) => sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let (timed_out, cancelled) = tokio::select! {
            // The pidfd turns readable when the program exits, without
            // reaping it: the group id stays ours until `wait` below.
            _ = self.exited.readable() => (false, false),
            _ = timer => (true, false),
            _ = cancel.cancelled() => (false, true),
        };
        let group_ended = group::end(self.pgid, self.grace).await;
        let exit = if group_ended {
            // The program is dead (not yet reaped): this returns at once.
            Exit::from_status(self.child.wait().await)
        } else {
            // A member is stuck in the kernel, maybe the program itself:
            // waiting for it could take forever.
            match self.child.try_wait() {
                Ok(Some(status)) => Exit::from_status(Ok(status)),
                _ => Exit::Unknown,
            }
        };
        let duration = self.started.elapsed();
        self.guard.armed = false;
        if let Some(feeder) = self.feeder.take() {
            feeder.abort();
        }
        let output = self.drain().await;
        tracing::debug!(pgid = self.pgid, %exit, ?duration, timed_out, cancelled, "run ended");
        RunOutcome {
            exit,
            duration,
            timed_out,
            cancelled,
            group_survived: !group_ended,
            output,
        }
    }

    async fn drain(&mut self) -> Output {
        if let Ok(Ok(output)) = timeout(DRAIN_LIMIT, &mut self.collector).await {
            return output;
        }
        self.stop_reading.cancel();
        match (&mut self.collector).await {
            Ok(output) => output,
            Err(_) => Output::new(0),
        }
    }
}

/// Kills the group if a [`Started`] is dropped before it finished (its
/// caller was cancelled or panicked): a run never outlives its handle.
struct GroupGuard {
    pgid: i32,
    armed: bool,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            group::kill_now(self.pgid);
        }
    }
}

fn command(spec: &RunSpec) -> Command {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.argv)
        .env_clear()
        .envs(spec.env.iter().map(|(name, value)| (name, value)))
        .stdin(match spec.stdin {
            Some(_) => std::process::Stdio::piped(),
            None => std::process::Stdio::null(),
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(dir) = &spec.workdir {
        command.current_dir(dir);
    }
    command
}

fn leader_exit(pid: i32) -> io::Result<AsyncFd<std::os::fd::OwnedFd>> {
    let pid = rustix::process::Pid::from_raw(pid).ok_or_else(|| io::Error::other("pid 0"))?;
    let pidfd = pidfd_open(pid, PidfdFlags::empty())?;
    // SAFETY: the AsyncFd takes ownership of the OwnedFd, so the descriptor
    // stays open and the same until the AsyncFd is dropped.
    Ok(unsafe { AsyncFd::register(pidfd)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_argument_environment_value_or_input() {
        let mut spec = RunSpec::new("/usr/bin/tool");
        spec.argv = vec!["--token=argv-secret".into()];
        spec.env = vec![("API_KEY".into(), "env-secret".into())];
        spec.stdin = Some(b"stdin-secret".to_vec());

        let shown = format!("{spec:?}");

        assert!(
            shown.contains("/usr/bin/tool") && shown.contains("API_KEY"),
            "{shown}"
        );
        for secret in ["argv-secret", "env-secret", "stdin-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
