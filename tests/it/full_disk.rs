//! A full disk under load, then room made: `telegate serve` (the real
//! binary) with its database on a small file system of its own. Nothing
//! acknowledged is lost, nothing is sent twice, /health tells the truth
//! throughout, and the server is back by itself once there is room.

use std::{collections::BTreeMap, path::Path, time::Instant};

use frankenstein::reqwest::Client;
use telegate::standin::StandIn;

use crate::{
    binary::{Served, serve, stop, wait_logged},
    support::{
        BOT_USERNAME, DEADLINE, TOKEN, eventually,
        served::{assert_health_failing, health, metric, pongs, post},
        tmpfs::Tmpfs,
    },
};

/// The chats that send /ping, each allowed.
const CHATS: std::ops::Range<i64> = 8001..8021;
/// Room left on the file system before the load: a few dozen updates' worth.
const ROOM: u64 = 1024 * 1024;

struct Disk {
    tmpfs: Tmpfs,
}

impl Disk {
    fn mount() -> Option<Self> {
        Tmpfs::mount("16m").map(|tmpfs| Self { tmpfs })
    }

    fn path(&self) -> &Path {
        self.tmpfs.path()
    }

    /// Fills the file system but for `room` bytes.
    fn fill_but(&self, room: u64) {
        let free = telegate::disk_space::DiskSpace::of(self.path())
            .unwrap()
            .free;
        let ballast = vec![0u8; usize::try_from(free.saturating_sub(room)).unwrap()];
        std::fs::write(self.path().join("ballast"), ballast).unwrap();
    }

    /// Makes room, as an operator deleting old files would.
    fn make_room(&self) {
        std::fs::remove_file(self.path().join("ballast")).unwrap();
    }

    fn wal_size(&self) -> u64 {
        std::fs::metadata(self.path().join("telegate.db-wal")).map_or(0, |m| m.len())
    }
}

fn allowed() -> String {
    CHATS.map(|c| c.to_string()).collect::<Vec<_>>().join(",")
}

/// Sends /ping from every chat, round after round, until the webhook has
/// refused 50 in a row; returns the update ids it acknowledged, by chat.
async fn load_until_full(http: &Client, addr: &str, next_id: &mut i64) -> BTreeMap<i64, u32> {
    let mut acked = BTreeMap::new();
    let mut refused_in_a_row = 0;
    let started = Instant::now();
    while refused_in_a_row < 50 {
        assert!(started.elapsed() < 4 * DEADLINE, "the disk never filled");
        let round: Vec<_> = CHATS
            .map(|chat| {
                *next_id += 1;
                (chat, post(http, addr, *next_id, chat))
            })
            .collect();
        for (chat, answer) in round {
            match answer.await {
                200 => {
                    *acked.entry(chat).or_insert(0) += 1;
                    refused_in_a_row = 0;
                }
                503 => refused_in_a_row += 1,
                other => panic!("the webhook answered {other}"),
            }
        }
    }
    acked
}

/// CPU time (user + system) the process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which is in parentheses).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn start(standin: &StandIn, disk: &Disk, extra: &[(&str, &str)]) -> Served {
    let allowed = allowed();
    let mut vars = vec![
        ("ALLOWED_CHAT_IDS", allowed.as_str()),
        ("LOG_LEVEL", "info"),
        ("RATE_CHAT_PER_SEC", "30"),
    ];
    vars.extend_from_slice(extra);
    serve(standin, disk.path(), &vars)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_says_so_and_recovers_by_itself_with_nothing_lost_or_doubled() {
    let Some(disk) = Disk::mount() else { return };
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let mut served = start(&standin, &disk, &[]);
    let http = Client::new();
    let addr = served.addr.clone();
    disk.fill_but(ROOM);
    let mut next_id = 0;
    let mut acked = load_until_full(&http, &addr, &mut next_id).await;
    assert!(
        !acked.is_empty(),
        "some updates were stored before the disk filled"
    );

    // Failing: honest health, 503s, no spinning, no growing WAL, a quiet log.
    assert_health_failing(&http, &addr, "full").await;
    let writable = metric(&http, &served, "telegate_database_writable").await;
    assert_eq!(writable, Some(0.0));
    let errors = metric(
        &http,
        &served,
        "telegate_storage_errors_total{kind=\"full\"}",
    )
    .await;
    assert!(errors >= Some(1.0), "{errors:?}");
    let (wal, cpu, lines, since) = (
        disk.wal_size(),
        cpu_ticks(served.child.id()),
        served.logs_now().lines().count(),
        Instant::now(),
    );
    // Updates keep coming meanwhile, and are refused.
    for chat in CHATS.take(5) {
        next_id += 1;
        assert_eq!(post(&http, &addr, next_id, chat).await, 503);
    }
    let failing_a_while = eventually(|| async {
        let (status, body) = health(&http, &addr).await;
        assert_eq!(status, 503, "{body}");
        (body["failing_for_seconds"].as_u64() >= Some(4)).then_some(())
    });
    assert!(
        failing_a_while.await.is_some(),
        "/health kept saying failing"
    );
    let elapsed_ticks = since.elapsed().as_secs_f64() * 100.0;
    let used = cpu_ticks(served.child.id()) - cpu;
    #[allow(clippy::cast_precision_loss)]
    let share = used as f64 / elapsed_ticks;
    assert!(share < 0.3, "serve used {share:.2} of a core while failing");
    assert!(disk.wal_size() <= wal, "the WAL grew while failing");
    let logged = served.logs_now().lines().count() - lines;
    assert!(
        logged <= 10,
        "{logged} lines logged while failing: {}",
        served.logs_now()
    );

    // Room again: the very next update is taken, and the backlog worked off.
    disk.make_room();
    next_id += 1;
    let chat = CHATS.start;
    assert_eq!(post(&http, &addr, next_id, chat).await, 200);
    *acked.entry(chat).or_insert(0) += 1;
    let healthy = eventually(|| async { (health(&http, &addr).await.0 == 200).then_some(()) });
    assert!(healthy.await.is_some(), "/health is 200 again");
    let all_sent = standin
        .wait_for(2 * DEADLINE, |_| (pongs(&standin) == acked).then_some(()))
        .await;
    assert!(
        all_sent.is_some(),
        "one reply per acknowledged update: {:?} for {acked:?}",
        pongs(&standin)
    );
    assert!(wait_logged(&served, "the database can be written again"));
    let writable = metric(&http, &served, "telegate_database_writable").await;
    assert_eq!(writable, Some(1.0));
    stop(&mut served);
    assert_eq!(pongs(&standin), acked, "nothing was sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exits_with_an_error_once_the_disk_stays_full_past_storage_fault_exit_after() {
    let Some(disk) = Disk::mount() else { return };
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let mut served = start(&standin, &disk, &[("STORAGE_FAULT_EXIT_AFTER", "2s")]);
    let http = Client::new();
    disk.fill_but(ROOM);
    load_until_full(&http, &served.addr.clone(), &mut 0).await;
    // Its last words, then its exit status.
    assert!(
        wait_logged(
            &served,
            "could not be written for STORAGE_FAULT_EXIT_AFTER; exiting so that systemd restarts telegate"
        ),
        "{}",
        served.logs_now()
    );
    let status = served.child.wait().unwrap();
    assert!(!status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_the_disk_is_full_and_restarted_after_room_is_made_it_loses_nothing() {
    let Some(disk) = Disk::mount() else { return };
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let mut served = start(&standin, &disk, &[]);
    let http = Client::new();
    disk.fill_but(ROOM);
    let mut next_id = 0;
    let acked = load_until_full(&http, &served.addr.clone(), &mut next_id).await;
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    disk.make_room();

    let mut served = start(&standin, &disk, &[]);
    let everything = standin
        .wait_for(2 * DEADLINE, |_| {
            let got = pongs(&standin);
            acked
                .iter()
                .all(|(chat, n)| got.get(chat) >= Some(n))
                .then_some(())
        })
        .await;
    stop(&mut served);
    assert!(
        everything.is_some(),
        "every acknowledged update answered: {:?} for {acked:?}",
        pongs(&standin)
    );
}
