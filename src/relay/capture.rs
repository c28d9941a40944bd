//! Reading a running program's output: both pipes at once, into the capped
//! buffer and the live view.

use std::time::Duration;

use tokio::{
    io::AsyncReadExt,
    process::{ChildStderr, ChildStdout},
    sync::watch,
    time::{Instant, MissedTickBehavior, interval},
};
use tokio_util::sync::CancellationToken;

use super::output::{Output, Stream, Tail};

/// How many bytes of the latest output [`Progress::tail`] holds.
pub const TAIL_BYTES: usize = 3000;
/// How often [`Progress`] is refreshed while the program runs.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(200);
const READ_BUFFER: usize = 8192;

/// A live view of a run, refreshed every [`PROGRESS_EVERY`].
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Time since the start.
    pub elapsed: Duration,
    /// The last [`TAIL_BYTES`] of both streams as text, also past the cap.
    pub tail: String,
    /// Bytes written so far, kept or not.
    pub bytes: u64,
}

enum Event {
    Read(Stream, usize),
    Closed(Stream),
    Tick,
    Stop,
}

/// Reads both pipes until both close (or `stop`), in arrival order.
pub(super) async fn collect(
    mut stdout: ChildStdout,
    mut stderr: ChildStderr,
    mut output: Output,
    started: Instant,
    progress: watch::Sender<Progress>,
    stop: CancellationToken,
) -> Output {
    let mut tail = Tail::new(TAIL_BYTES);
    let mut out_buf = vec![0u8; READ_BUFFER];
    let mut err_buf = vec![0u8; READ_BUFFER];
    let (mut out_open, mut err_open) = (true, true);
    let mut dirty = false;
    let mut tick = interval(PROGRESS_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    while out_open || err_open {
        let event = tokio::select! {
            read = stdout.read(&mut out_buf), if out_open => match read {
                Ok(n) if n > 0 => Event::Read(Stream::Stdout, n),
                _ => Event::Closed(Stream::Stdout),
            },
            read = stderr.read(&mut err_buf), if err_open => match read {
                Ok(n) if n > 0 => Event::Read(Stream::Stderr, n),
                _ => Event::Closed(Stream::Stderr),
            },
            _ = tick.tick() => Event::Tick,
            _ = stop.cancelled() => Event::Stop,
        };
        match event {
            Event::Read(stream, n) => {
                let bytes = match stream {
                    Stream::Stdout => &out_buf[..n],
                    Stream::Stderr => &err_buf[..n],
                };
                output.push(stream, bytes);
                tail.push(bytes);
                dirty = true;
            }
            Event::Closed(Stream::Stdout) => out_open = false,
            Event::Closed(Stream::Stderr) => err_open = false,
            Event::Tick => publish(&progress, started, &output, &tail, &mut dirty),
            Event::Stop => break,
        }
    }
    publish(&progress, started, &output, &tail, &mut dirty);
    output
}

/// Refreshes the live view; the tail is rebuilt only when output arrived.
fn publish(
    progress: &watch::Sender<Progress>,
    started: Instant,
    output: &Output,
    tail: &Tail,
    dirty: &mut bool,
) {
    progress.send_modify(|view| {
        view.elapsed = started.elapsed();
        view.bytes = output.seen();
        if *dirty {
            view.tail = tail.text();
        }
    });
    *dirty = false;
}
