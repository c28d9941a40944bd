//! A symlink swapped in between check and open: while a thread keeps
//! exchanging a real folder and a symlink that points out (renameat2
//! RENAME_EXCHANGE, atomic), `/get` and the sender never send the outside
//! file. There is no check-then-open to race: the open is the check.

use std::{
    os::unix::fs::symlink,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use rustix::fs::{CWD, RenameFlags, renameat_with};
use telegate::files::beneath::{self, Opened, Refused};

use super::download::{documents, get_app};
use crate::{
    relay::{all_answered, press, send},
    support::{DEADLINE, OWNER, eventually},
};

/// `root/dir` is a real folder holding f.txt (INSIDE) or a symlink to a
/// folder outside holding f.txt (OUTSIDE), swapped until the guard drops.
struct Swapper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Swapper {
    fn start(root: &Path, outside: &Path, pace: bool) -> Self {
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::write(root.join("dir/f.txt"), "INSIDE").unwrap();
        std::fs::create_dir_all(outside).unwrap();
        std::fs::write(outside.join("f.txt"), "OUTSIDE").unwrap();
        let relative = pathdiff(outside, root);
        symlink(relative, root.join("alt")).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (a, b) = (root.join("dir"), root.join("alt"));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut swaps = 0;
            while !flag.load(Ordering::Relaxed) {
                renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).expect("exchange");
                swaps += 1;
                // Gives the core away after each swap, so the swapping does
                // not starve the server on a small machine.
                if pace {
                    std::thread::yield_now();
                }
            }
            swaps
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `../outside`, for an outside folder beside `root`.
fn pathdiff(outside: &Path, root: &Path) -> std::path::PathBuf {
    assert_eq!(outside.parent(), root.parent());
    Path::new("..").join(outside.file_name().unwrap())
}

#[test]
fn opening_beneath_a_root_never_reaches_a_swapped_in_symlink_target() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    std::fs::create_dir(&root).unwrap();
    let swapper = Swapper::start(&root, &outside, false);
    let (mut inside, mut refused) = (0, 0);
    for _ in 0..20_000 {
        match beneath::open(&root, Path::new("dir/f.txt")) {
            Ok(Opened::File(file, _)) => {
                let content = std::io::read_to_string(file).unwrap();
                assert_eq!(content, "INSIDE", "the outside file was opened");
                inside += 1;
            }
            Err(Refused::Outside) => refused += 1,
            // Between the two halves of an exchange nothing is missing, but
            // a lookup may see either name's old entry.
            Err(Refused::Missing) => {}
            other => panic!("unexpected: {other:?}"),
        }
    }
    let swaps = swapper.stop();
    assert!(swaps > 0);
    // Both sides of the race were hit: the test exercised it.
    assert!(
        inside > 0 && refused > 0,
        "inside {inside}, refused {refused}"
    );
}

#[tokio::test]
async fn get_never_sends_the_outside_file_while_a_symlink_is_swapped_in() {
    let (app, root) = get_app(&[
        ("INBOUND_LIMIT_PER_MIN", "1000"),
        ("RATE_CHAT_PER_SEC", "100"),
    ])
    .await;
    let swapper = Swapper::start(&root, &app.dir.path().join("outside"), true);
    let mut id = 2;
    let mut asked = 0;
    // Until a few /get found the real folder and were sent (most find the
    // symlink: each try is a coin toss, so a bound rather than a count).
    for _ in 0..200 {
        if asked == 3 {
            break;
        }
        let before = app.standin.messages(OWNER).len();
        send(&app, id, OWNER, "/get dir/f.txt").await;
        // Documents of earlier presses arrive meanwhile: the reply is the text.
        let reply = app
            .standin
            .wait_for(DEADLINE, |_| {
                let messages = app.standin.messages(OWNER);
                messages
                    .get(before..)?
                    .iter()
                    .find(|m| m.document.is_none())
                    .cloned()
            })
            .await
            .expect("/get is answered");
        id += 1;
        if reply.shown.starts_with("Send ") {
            press(&app, id, &reply, OWNER, "Send").await;
            id += 1;
            asked += 1;
        } else {
            assert!(
                reply.shown.contains("leads outside") || reply.shown.contains("no such"),
                "{}",
                reply.shown
            );
        }
    }
    all_answered(&app).await;
    // Every queued call is sent or given up on (the sender refused a file
    // that had become the outside one).
    eventually(|| async {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(app.db())
                .await
                .unwrap();
        (pending == 0).then_some(())
    })
    .await
    .expect("the outbox drains");
    swapper.stop();
    let sent = documents(&app);
    assert!(
        sent.iter().all(|(_, content)| content == "INSIDE"),
        "the outside file was sent: {sent:?}"
    );
    assert!(asked > 0, "no /get found the folder in 200 tries");
}
