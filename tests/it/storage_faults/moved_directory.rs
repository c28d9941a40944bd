//! The database's directory moved away while serve runs, and an empty one
//! left in its place (as an unmounted volume leaves its mount point); then
//! moved back.

use telegate::standin::StandIn;

use super::{Run, start};
use crate::support::{BOT_USERNAME, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_directory_moved_away_answers_503_creates_no_empty_database_and_recovers_once_back()
 {
    let root = tempfile::tempdir().unwrap();
    let (data, away) = (root.path().join("data"), root.path().join("away"));
    std::fs::create_dir(&data).unwrap();
    let url = format!("sqlite:{}", data.join("telegate.db").display());
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let served = start(&standin, root.path(), &[("DATABASE_URL", &url)], |_| {});
    let mut run = Run::new(standin, served);
    run.working().await;

    std::fs::rename(&data, &away).unwrap();
    std::fs::create_dir(&data).unwrap();
    run.until_refused().await;
    run.failing("unable to open database file", "cantopen")
        .await;
    let left: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
    assert!(left.is_empty(), "no new database was created: {left:?}");

    std::fs::remove_dir(&data).unwrap();
    std::fs::rename(&away, &data).unwrap();
    run.recovers().await;
}
