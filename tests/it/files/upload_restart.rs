//! kill -9 of `telegate serve` while a file downloads: the upload was
//! written with its update, so the next start downloads it again and
//! stores it; no partial file is left from the first try.

use telegate::standin::{Fault, StandIn};

use super::{document, names_in, private_message, wait_reply_on};
use crate::{
    binary::{serve, stop},
    support::{BOT_USERNAME, OWNER, SECRET, TELEGRAM_IP, TOKEN},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_by_kill_9_is_done_again_at_the_next_start() {
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    std::fs::create_dir(&uploads).unwrap();
    let upload_dir = uploads.display().to_string();
    let extra = [("UPLOAD_DIR", upload_dir.as_str())];
    // The first download hangs: serve is killed while it is under way.
    standin.fail_always("download", Fault::Hang);
    let file = standin.add_file(b"the whole file");
    let update = private_message(1, OWNER, document(&file, Some("report.pdf")));
    let mut served = serve(&standin, dir.path(), &extra);

    let response = frankenstein::reqwest::Client::new()
        .post(format!("http://{}/telegram/webhook", served.addr))
        .header("x-telegram-bot-api-secret-token", SECRET)
        .header("x-forwarded-for", TELEGRAM_IP)
        .body(update.to_string())
        .send()
        .await
        .expect("telegate serve answers");
    assert_eq!(response.status(), 200);
    standin
        .wait_for(crate::support::DEADLINE, |calls| {
            calls.iter().any(|c| c.method == "download").then_some(())
        })
        .await
        .expect("the download started");
    served.child.kill().unwrap(); // SIGKILL: serve cleans nothing up
    served.child.wait().unwrap();
    standin.heal();
    // A partial file as a kill in the middle of writing leaves it.
    let partial = uploads.join("4242/.upload-1-0-0.part");
    std::fs::create_dir_all(uploads.join("4242")).unwrap();
    std::fs::write(&partial, b"the whole").unwrap();

    let mut served = serve(&standin, dir.path(), &extra);
    let reply = wait_reply_on(&standin, 1).await;
    let logs = stop(&mut served);

    assert_eq!(
        reply,
        "Stored as 4242/report.pdf in the upload directory: 14 bytes."
    );
    assert_eq!(names_in(&uploads.join("4242")), ["report.pdf"]);
    assert_eq!(
        std::fs::read(uploads.join("4242/report.pdf")).unwrap(),
        b"the whole file"
    );
    assert!(logs.contains("downloading them again"), "{logs}");
    assert!(logs.contains("removed partial uploads"), "{logs}");
}
