//! A relay command's `output_files`: the files it leaves in its workdir are
//! sent after it ends (images as photos with `as_photo`), and a symlink it
//! leaves that points out is not followed.

use crate::{
    relay::{ended, job_after, relay_app, send},
    support::{DEADLINE, OWNER},
};

#[tokio::test]
async fn files_a_command_leaves_in_its_workdir_are_sent_after_it_ends() {
    let workdir = tempfile::tempdir().unwrap();
    let script = "printf 'the report' > report.pdf; printf 'a chart' > chart.png; \
                  printf 'notes' > notes.txt; ln -s /etc/hostname leak.png";
    let commands = format!(
        r#"[[command]]
name = "report"
description = "writes a report"
program = "/bin/sh"
args = ["-c", {script:?}]
workdir = "{}"
output_files = ["report.pdf", "*.png"]
as_photo = true
"#,
        workdir.path().display()
    );
    let app = relay_app(&commands, &[]).await;
    send(&app, 1, OWNER, "/report").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.state, "succeeded");
    let sent = app
        .standin
        .wait_for(DEADLINE, |calls| {
            let files: Vec<(String, String)> = calls
                .iter()
                .filter(|c| {
                    c.status == 200 && matches!(c.method.as_str(), "sendDocument" | "sendPhoto")
                })
                .map(|c| {
                    let field = if c.method == "sendPhoto" {
                        "photo"
                    } else {
                        "document"
                    };
                    (
                        c.method.clone(),
                        c.params[field]["file_name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                })
                .collect();
            (files.len() >= 2).then_some(files)
        })
        .await
        .expect("the output files are sent");
    assert_eq!(
        sent,
        [
            ("sendPhoto".to_owned(), "chart.png".to_owned()),
            ("sendDocument".to_owned(), "report.pdf".to_owned()),
        ]
    );
    let contents: Vec<String> = app
        .standin
        .messages(OWNER)
        .into_iter()
        .filter_map(|m| m.document.map(|d| d.content))
        .collect();
    assert!(contents.contains(&"the report".to_owned()), "{contents:?}");
    // leak.png (a symlink to /etc/hostname) sorts between the two: it
    // would have been the second file sent.
}
