//! Whatever name the sender's client gives a file, it is stored as one
//! plain name inside the sender's directory.

use super::{names_in, send_document, upload_app};
use crate::support::OWNER;

#[tokio::test]
async fn hostile_names_are_stored_as_one_plain_name_inside_the_senders_directory() {
    let (app, dir) = upload_app(&[]).await;
    let long = format!("{}.txt", "n".repeat(300));
    let cases: Vec<(&str, String)> = vec![
        ("../../etc/passwd", "etc_passwd".into()),
        (".bashrc", "bashrc".into()),
        ("a/b", "a_b".into()),
        (&long, format!("{}.txt", "n".repeat(124))),
        ("invoice\u{202e}fdp.exe", "invoice_fdp.exe".into()),
        ("bell\u{7}new\nline.txt", "bell_new_line.txt".into()),
        ("", "file".into()),
        ("..", "file-1".into()),
    ];

    for (n, (original, stored)) in cases.iter().enumerate() {
        let update_id = i64::try_from(n).unwrap() + 1;
        let content = format!("content {n}");
        let reply = send_document(&app, update_id, OWNER, original, content.as_bytes()).await;
        assert!(
            reply.starts_with(&format!("Stored as 4242/{stored} in the upload directory")),
            "{original:?} gave {reply:?}"
        );
        let path = dir.join("4242").join(stored);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            content,
            "{original:?}"
        );
    }

    // Nothing was written anywhere but the sender's directory.
    assert_eq!(names_in(&dir), ["4242"]);
    assert!(!app.dir.path().join("etc").exists());
    let mut expected: Vec<String> = cases.iter().map(|(_, s)| s.clone()).collect();
    expected.sort();
    assert_eq!(names_in(&dir.join("4242")), expected);
    assert!(expected.iter().all(|name| name.len() <= 128));
}
