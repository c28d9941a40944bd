//! `telegate restore`: a backup put back in place of the database, checked
//! first (trusting nothing in it), with the database it replaces kept; and
//! both files private whatever the umask.

use std::os::unix::fs::PermissionsExt;

use crate::{
    cli::run,
    support::{OWNER, TestApp},
};

/// A server that handled update 1, and a backup taken then.
async fn backed_up() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.say(1, OWNER, "/ping").await;
    app.wait_handled(1).await;
    let copy = app.dir.path().join("backup.db").display().to_string();
    let (ok, _, err) = run(&app, &["backup", &copy]);
    assert!(ok, "{err}");
    (app, copy)
}

fn set_aside_copies(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(app.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("telegate.db.before-restore-"))
        .collect()
}

#[tokio::test]
async fn restore_puts_the_backup_back_and_keeps_the_database_it_replaced() {
    let (mut app, copy) = backed_up().await;
    app.say(2, OWNER, "/ping").await;
    app.wait_handled(2).await;

    let (ok, _, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(
        !ok && err.contains("restore needs telegate serve stopped"),
        "{err}"
    );

    app.stop().await;
    let (ok, out, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(ok, "{err}");
    assert!(out.contains("audit trail intact"), "{out}");
    let aside = set_aside_copies(&app);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(out.contains(&aside[0]), "{out}");

    app.start().await;
    assert_eq!(app.inbox_status(1).await.as_deref(), Some("done"));
    assert_eq!(
        app.inbox_status(2).await,
        None,
        "update 2 came after the backup"
    );
    let before = telegate::store::open(&app.dir.path().join(&aside[0]))
        .await
        .unwrap();
    let kept: Option<String> = sqlx::query_scalar("SELECT status FROM inbox WHERE update_id = 2")
        .fetch_optional(&before)
        .await
        .unwrap();
    before.close().await;
    assert_eq!(
        kept.as_deref(),
        Some("done"),
        "the replaced database is whole"
    );
}

#[tokio::test]
async fn restore_refuses_a_tampered_backup_or_another_file_and_changes_nothing() {
    let (mut app, copy) = backed_up().await;
    app.stop().await;
    let tampered = telegate::store::open(std::path::Path::new(&copy))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit SET outcome = 'nothing happened' WHERE id = (SELECT MIN(id) FROM audit)",
    )
    .execute(&tampered)
    .await
    .unwrap();
    tampered.close().await;
    let not_a_database = app.dir.path().join("notes.txt");
    std::fs::write(&not_a_database, "not a database\n").unwrap();

    let (ok, _, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(
        !ok && err.contains("audit trail has been tampered with"),
        "{err}"
    );
    let not_a_database = not_a_database.display().to_string();
    let (ok, _, err) = run(&app, &["restore", &not_a_database, "--yes"]);
    assert!(
        !ok && err.contains("is not a usable telegate backup"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["restore", "/nonexistent/backup.db", "--yes"]);
    assert!(!ok && err.contains("there is no backup at"), "{err}");

    assert!(set_aside_copies(&app).is_empty());
    app.start().await;
    assert_eq!(app.inbox_status(1).await.as_deref(), Some("done"));
}

/// Runs SQL on the backup, as someone who edits it by hand would.
async fn edit(copy: &str, statements: &[&'static str]) {
    let db = telegate::store::open(std::path::Path::new(copy))
        .await
        .unwrap();
    for sql in statements {
        sqlx::query(*sql).execute(&db).await.unwrap();
    }
    db.close().await;
}

#[tokio::test]
async fn restore_refuses_a_backup_with_a_trigger_or_view_telegate_does_not_make() {
    let (mut app, copy) = backed_up().await;
    app.stop().await;
    edit(
        &copy,
        &[
            // Would erase every audit row written after the restore.
            "CREATE TRIGGER keep_quiet AFTER INSERT ON audit BEGIN DELETE FROM audit WHERE id = new.id; END",
            "CREATE VIEW everyone AS SELECT user_id FROM users",
        ],
    )
    .await;

    let (ok, _, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(!ok);
    assert!(
        err.contains("its schema is not the one telegate makes"),
        "{err}"
    );
    assert!(
        err.contains("trigger keep_quiet (on audit) is not one of telegate's"),
        "{err}"
    );
    assert!(
        err.contains("view everyone is not one of telegate's"),
        "{err}"
    );
    assert!(set_aside_copies(&app).is_empty(), "nothing was swapped");

    edit(
        &copy,
        &[
            "DROP TRIGGER keep_quiet",
            "DROP VIEW everyone",
            "DROP INDEX audit_at",
            "CREATE INDEX audit_at ON audit (outcome)",
        ],
    )
    .await;
    let (ok, _, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(
        !ok && err.contains("index audit_at (on audit) has another definition"),
        "{err}"
    );
}

#[tokio::test]
async fn restore_lists_the_stored_owners_and_swaps_nothing_without_yes() {
    let (mut app, copy) = backed_up().await;
    app.stop().await;
    // An owner row slipped into the backup, with no trace in the audit trail.
    edit(
        &copy,
        &["INSERT INTO users (user_id, role, how, enrolled_at) VALUES (6660, 'owner', 'cli', 0)"],
    )
    .await;

    let (ok, out, err) = run(&app, &["restore", &copy]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("owners stored in it, who may use the owner tools besides BOT_OWNER_ID:"),
        "{out}"
    );
    assert!(
        out.contains("  6660 via cli since 1970-01-01 00:00:00 UTC"),
        "{out}"
    );
    assert!(
        err.contains("nothing was restored") && err.contains("--yes"),
        "{err}"
    );
    assert!(set_aside_copies(&app).is_empty(), "nothing was swapped");

    let (ok, out, err) = run(&app, &["restore", &copy, "--yes"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("6660 via cli") && out.contains("restored "),
        "{out}"
    );
}

/// `telegate ARGS` with the umask set to 022 (files readable by all).
fn run_with_umask_022(app: &TestApp, args: &[&str]) -> (bool, String) {
    let (mut command, _dir) = crate::binary::telegate();
    let output = command
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", app.db_path().display()),
        )
        .output_with_umask(0o022, args);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

trait WithUmask {
    fn output_with_umask(&mut self, umask: u32, args: &[&str]) -> std::process::Output;
}

impl WithUmask for std::process::Command {
    /// Runs the command's program through `sh -c 'umask U; exec ...'`.
    fn output_with_umask(&mut self, umask: u32, args: &[&str]) -> std::process::Output {
        let program = self.get_program().to_owned();
        let mut shell = std::process::Command::new("sh");
        shell
            .env_clear()
            .envs(self.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(self.get_current_dir().unwrap_or(std::path::Path::new(".")))
            .arg("-c")
            .arg(format!("umask {umask:03o} && exec \"$0\" \"$@\""))
            .arg(program)
            .args(args);
        shell.output().unwrap()
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn backup_and_restore_write_files_only_their_owner_can_read_whatever_the_umask() {
    let mut app = TestApp::spawn().await;
    app.say(1, OWNER, "/ping").await;
    let copy = app.dir.path().join("umask-backup.db");
    let (ok, err) = run_with_umask_022(&app, &["backup", &copy.display().to_string()]);
    assert!(ok, "{err}");
    assert_eq!(mode(&copy), 0o600, "the backup");

    app.stop().await;
    // A copy that has become readable by all on its way back.
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, err) = run_with_umask_022(&app, &["restore", &copy.display().to_string(), "--yes"]);
    assert!(ok, "{err}");
    assert_eq!(mode(&app.db_path()), 0o600, "the restored database");
}
