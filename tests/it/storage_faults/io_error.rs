//! An I/O error: every write of serve's fails with EFBIG (SQLite's
//! SQLITE_IOERR_WRITE, as for a disk whose writes fail with EIO) once its
//! file size limit is lowered to nothing, until it is raised again.

use std::os::unix::process::CommandExt;

use telegate::standin::StandIn;

use super::{Run, start};
use crate::support::{BOT_USERNAME, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_io_error_answers_503_says_so_and_recovers_by_itself_with_nothing_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let served = start(&standin, dir.path(), &[], |command| {
        // SAFETY: signal() is async-signal-safe. An ignored signal stays
        // ignored across exec, so a write past the limit fails with EFBIG
        // instead of killing serve with SIGXFSZ.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
    });
    let pid = served.child.id();
    let mut run = Run::new(standin, served);
    run.working().await;

    file_size_limit(pid, 0);
    run.until_refused().await;
    run.failing("disk I/O error", "io").await;

    file_size_limit(pid, libc::RLIM_INFINITY);
    run.recovers().await;
}

/// Sets the soft RLIMIT_FSIZE of process `pid` (its hard limit unchanged).
fn file_size_limit(pid: u32, soft: libc::rlim_t) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both pointers are to live rlimit values of this frame.
    let read = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut old) };
    assert_eq!(read, 0, "prlimit: {}", std::io::Error::last_os_error());
    let new = libc::rlimit {
        rlim_cur: soft.min(old.rlim_max),
        rlim_max: old.rlim_max,
    };
    // SAFETY: as above.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &new, std::ptr::null_mut()) };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
}
