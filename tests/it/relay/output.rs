//! What a job shows: its output escaped in the status message, a document
//! when it is longer than one message, the cap, and live edits within
//! Telegram's pace.

use super::{ended, final_status, job_after, output_of, preformatted, relay_app, send};
use crate::support::OWNER;

const COMMANDS: &str = r#"
[[command]]
name = "count"
description = "prints numbers"
program = "/usr/bin/seq"
args = ["{n}"]
params = [{ name = "n", type = "int", min = 1, max = 1000000 }]

[[command]]
name = "html"
description = "prints markup"
program = "/bin/sh"
args = ["-c", "echo '<b>bold</b> <a href=\"https://example.com\">link</a> & more'; echo err >&2"]

[[command]]
name = "slow"
description = "prints a line every 50 ms for 4 s"
program = "/bin/sh"
args = ["-c", "i=0; while [ $i -lt 80 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done"]
"#;

#[tokio::test]
async fn output_is_shown_escaped_and_cannot_format_the_message() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, OWNER, "/html").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.state, "succeeded");

    let status = final_status(&app, &job).await;
    // stdout and stderr both; their order across the two pipes is the
    // order they were read in.
    let mut lines: Vec<String> = preformatted(&status).lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "<b>bold</b> <a href=\"https://example.com\">link</a> & more",
            "err"
        ]
    );
    // Only the pre entity: the output's tags formatted nothing, linked nothing.
    let kinds: Vec<&str> = status
        .entities
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, ["pre"]);
    assert!(status.reply_markup.is_none());
}

#[tokio::test]
async fn output_longer_than_a_message_becomes_a_document_with_every_line() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, OWNER, "/count 20000").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;

    let document = output_of(&app, &job).await;
    let lines: Vec<&str> = document.lines().collect();
    assert_eq!(lines.len(), 20_000);
    assert!(
        lines
            .iter()
            .enumerate()
            .all(|(i, l)| *l == (i + 1).to_string())
    );
    let status = final_status(&app, &job).await;
    assert!(
        status.shown.contains("The whole output"),
        "{}",
        status.shown
    );
    assert!(
        preformatted(&status).ends_with("19999\n20000") || preformatted(&status).ends_with("20000")
    );
    assert_eq!(
        job.output_bytes,
        Some(i64::try_from(document.len()).unwrap())
    );
}

#[tokio::test]
async fn output_over_the_cap_is_cut_and_says_so() {
    let app = relay_app(COMMANDS, &[("RELAY_OUTPUT_CAP", "4096")]).await;
    send(&app, 1, OWNER, "/count 100000").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;

    let document = output_of(&app, &job).await;
    assert!(document.starts_with("1\n2\n3\n"));
    assert!(
        document.contains("[output cut here"),
        "{}",
        &document[document.len() - 200..]
    );
    assert!(document.len() < 4096 + 200);
    let status = final_status(&app, &job).await;
    assert!(status.shown.contains("Output cut"), "{}", status.shown);
}

#[tokio::test]
async fn a_short_output_fits_under_a_configured_limit_or_goes_as_a_document() {
    let app = relay_app(COMMANDS, &[("RELAY_MESSAGE_OUTPUT", "10")]).await;
    send(&app, 1, OWNER, "/count 3").await;
    let short = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(preformatted(&final_status(&app, &short).await), "1\n2\n3");

    send(&app, 2, OWNER, "/count 30").await;
    let long = ended(&app, job_after(&app, short.id).await.id).await;
    let name = format!("count-{}.txt", long.id);
    let whole = super::output_of(&app, &long).await;
    assert_eq!(whole.lines().count(), 30);
    let documents: Vec<String> = app
        .standin
        .messages(OWNER)
        .into_iter()
        .filter_map(|m| m.document)
        .map(|d| d.file_name)
        .collect();
    assert_eq!(documents, [name]);
}

#[tokio::test]
async fn live_edits_keep_to_the_chat_s_pace_and_the_stand_in_records_no_429() {
    // Edits are asked for every 100 ms; the chat allows one message a second.
    let app = relay_app(COMMANDS, &[("RELAY_EDIT_EVERY", "100ms")]).await;
    send(&app, 1, OWNER, "/slow").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.state, "succeeded");
    let status = final_status(&app, &job).await;
    assert!(
        status.edits >= 2,
        "the status was edited while it ran: {}",
        status.edits
    );
    assert!(preformatted(&status).ends_with("tick 79"));

    let to_chat: Vec<i64> = app
        .standin
        .calls()
        .iter()
        .filter(|c| c.params["chat_id"].as_i64() == Some(OWNER))
        .filter(|c| {
            matches!(
                c.method.as_str(),
                "sendMessage" | "editMessageText" | "sendDocument"
            )
        })
        .map(|c| c.at_ms)
        .collect();
    assert_eq!(app.standin.too_many_requests(), 0);
    for pair in to_chat.windows(2) {
        assert!(
            pair[1] - pair[0] >= 900,
            "two messages {} ms apart",
            pair[1] - pair[0]
        );
    }
}
