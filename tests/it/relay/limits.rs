//! RELAY_MAX_RUNNING and RELAY_MAX_PER_USER: the excess is refused at once
//! with the reason, never queued.

use super::{FRIEND, ended, job_count, relay_app};
use crate::support::{OWNER, TestApp};

const THIRD: i64 = 5252;

const COMMANDS: &str = r#"
[[command]]
name = "wait"
description = "runs until stopped"
program = "/bin/sh"
args = ["-c", "sleep 300"]
"#;

async fn app() -> TestApp {
    let allowed = format!("{FRIEND},{THIRD}");
    relay_app(
        COMMANDS,
        &[
            ("RELAY_MAX_RUNNING", "2"),
            ("RELAY_MAX_PER_USER", "1"),
            ("ALLOWED_CHAT_IDS", &allowed),
        ],
    )
    .await
}

#[tokio::test]
async fn the_excess_is_refused_with_the_reason_and_a_finished_job_frees_its_place() {
    let app = app().await;
    super::send(&app, 1, OWNER, "/wait").await;
    assert_eq!(job_count(&app).await, 1);

    let per_user = app.say(2, OWNER, "/wait").await;
    assert!(
        per_user.starts_with("Not started: you have 1 commands running already")
            && per_user.contains("RELAY_MAX_PER_USER"),
        "{per_user}"
    );
    super::send(&app, 3, FRIEND, "/wait").await;
    assert_eq!(job_count(&app).await, 2);

    let overall = app.say(4, THIRD, "/wait").await;
    assert!(
        overall.starts_with("Not started: 2 commands are running already")
            && overall.contains("RELAY_MAX_RUNNING"),
        "{overall}"
    );
    assert_eq!(job_count(&app).await, 2, "the refused runs were not queued");

    // Once the owner's job is cancelled, a place is free again.
    app.say(5, OWNER, "/cancel").await;
    let first = super::job_after(&app, -1).await;
    let owners = telegate::store::jobs::recent(app.db(), Some(OWNER), false, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(ended(&app, owners.id).await.state, "cancelled");
    assert!(first.id > 0);
    super::send(&app, 6, THIRD, "/wait").await;
    assert_eq!(job_count(&app).await, 3);
    // The server's shutdown ends what still runs.
}
