//! The operator's commands on the database of a running server:
//! `telegate users`, `telegate audit`, `telegate totp-setup`.

use serde_json::Value;
use telegate::{auth::totp::TotpVerifier, bot::refusal};

use crate::{
    binary::telegate,
    support::{TestApp, run_telegate, updates::private_text},
};

const USER: i64 = 5005;

/// Runs `telegate ARGS` against the app's database; returns (success, stdout, stderr).
pub fn run(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let (mut command, _dir) = telegate();
    let output = command
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", app.db_path().display()),
        )
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn users_allow_and_revoke_take_effect_on_the_running_server() {
    let app = TestApp::spawn().await;
    assert_eq!(app.say(1, USER, "/ping").await, refusal(USER));

    let (ok, out, err) = run(&app, &["users", "allow", &USER.to_string()]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("user {USER} allowed as user"));
    assert_eq!(app.say(2, USER, "/ping").await, "pong");

    let (ok, out, _) = run(&app, &["users", "list"]);
    assert!(ok);
    assert!(
        out.starts_with(&format!("{USER}\tuser\tvia cli\tsince ")),
        "{out}"
    );

    let (ok, out, err) = run(
        &app,
        &["users", "allow", &USER.to_string(), "--role", "owner"],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        format!("role of user {USER} changed from user to owner")
    );

    let (ok, _, err) = run(&app, &["users", "revoke", &USER.to_string()]);
    assert!(ok, "{err}");
    assert_eq!(app.say(3, USER, "/ping").await, refusal(USER));
    let audit = app.audit_outcomes(USER).await;
    for outcome in [
        format!("user {USER} allowed as user"),
        format!("role of user {USER} changed from user to owner"),
        format!("user {USER} revoked"),
    ] {
        assert!(audit.contains(&outcome), "{outcome}: {audit:?}");
    }
}

#[tokio::test]
async fn users_commands_explain_bad_input() {
    let app = TestApp::spawn().await;
    let (ok, _, err) = run(&app, &["users", "revoke", "777"]);
    assert!(!ok);
    assert!(
        err.contains("777 is not a user enrolled or allowed at run time"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["users", "allow", "5", "--role", "admin"]);
    assert!(!ok);
    assert!(
        err.contains("--role \"admin\" is not a role: use user or owner"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["users", "allow", "--", "-100123"]);
    assert!(!ok);
    assert!(err.contains("is not a user id"), "{err}");
}

#[tokio::test]
async fn audit_lists_rows_filtered_by_user_and_age_as_text_or_json() {
    let app = TestApp::spawn().await;
    app.say(1, USER, "/ping").await;
    app.say(2, crate::support::OWNER, "/ping").await;
    app.wait_handled(2).await;

    let (ok, out, err) = run(&app, &["audit", "--user", &USER.to_string(), "--json"]);
    assert!(ok, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["user_id"], USER);
    assert_eq!(rows[0]["decision"], "refused");
    assert_eq!(rows[0]["hash"].as_str().unwrap().len(), 64);

    let (ok, out, _) = run(&app, &["audit", "--since", "1h"]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "startup and two updates: {out}");
    assert!(
        lines[0].contains(" startup user 4242: allowed (started telegate"),
        "{out}"
    );
    assert!(
        lines[2].ends_with("message user 4242 /ping: allowed (ok)"),
        "{out}"
    );

    let (ok, out, err) = run(&app, &["audit", "--since", "1h", "--user", "1"]);
    assert!(
        ok && out.is_empty() && err.contains("no audit rows match"),
        "{err}"
    );
    let (ok, _, err) = run(&app, &["audit", "--since", "yesterday"]);
    assert!(!ok);
    assert!(
        err.contains("not a duration such as 90m, 24h or 7d"),
        "{err}"
    );
}

#[test]
fn totp_setup_prints_a_working_secret_an_otpauth_uri_and_a_qr_code() {
    let (mut command, _dir) = telegate();
    let output = command
        .args(["totp-setup", "--account", "alice"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let out = String::from_utf8_lossy(&output.stdout);
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("TOTP_SECRET="))
        .expect("a TOTP_SECRET= line");
    assert!(TotpVerifier::from_base32(secret).is_ok(), "{secret}");
    let uri = out
        .lines()
        .find(|l| l.starts_with("otpauth://totp/"))
        .expect("a URI");
    assert!(
        uri.contains(&format!("secret={secret}")) && uri.contains("alice"),
        "{uri}"
    );
    assert!(
        out.contains('\u{2580}') || out.contains('\u{2588}'),
        "a QR code drawn in blocks"
    );
}

#[tokio::test]
async fn backup_copies_a_running_servers_database_consistently() {
    let app = TestApp::spawn().await;
    for id in 1..=3 {
        app.say(id, crate::support::OWNER, "/ping").await;
    }
    app.wait_handled(3).await;
    let copy = app.dir.path().join("backup.db");
    let copy_arg = copy.display().to_string();
    let (ok, out, err) = run(&app, &["backup", &copy_arg]);
    assert!(ok, "{err}");
    assert!(out.contains("backed up to"), "{out}");

    // The copy holds the same rows, and its audit chain verifies.
    let original: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(app.db())
        .await
        .unwrap();
    let backup = telegate::store::open(&copy).await.unwrap();
    let copied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&backup)
        .await
        .unwrap();
    let handled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status = 'done'")
        .fetch_one(&backup)
        .await
        .unwrap();
    backup.close().await;
    assert_eq!(copied, original);
    assert_eq!(handled, 3);
    let (mut verify, _dir) = telegate();
    let output = verify
        .env("DATABASE_URL", format!("sqlite:{copy_arg}"))
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (ok, _, err) = run(&app, &["backup", &copy_arg]);
    assert!(!ok && err.contains("exists already"), "{err}");
}

#[tokio::test]
async fn webhook_set_info_and_delete_talk_to_the_bot_api() {
    let app = TestApp::spawn().await;
    // serve's own registration first: a late one would set the webhook again.
    app.standin
        .wait_for(crate::support::DEADLINE, |_| {
            (app.standin.successful("setMyCommands").len() == 2).then_some(())
        })
        .await
        .expect("serve registered");
    let (ok, out, err) =
        crate::support::run_telegate(&app, &["webhook", "delete", "--drop-pending"], "").await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "webhook deleted, and the pending updates dropped"
    );
    assert!(app.standin.webhook().is_null());
    let deleted = app.standin.successful("deleteWebhook").pop().unwrap();
    assert_eq!(deleted["drop_pending_updates"], true);

    let (ok, out, _) = crate::support::run_telegate(&app, &["webhook", "info"], "").await;
    assert!(ok);
    assert!(out.contains("URL:              (none)"), "{out}");
    assert!(
        out.contains("Matches WEBHOOK_URL: no: no webhook is set"),
        "{out}"
    );

    let (ok, out, err) = crate::support::run_telegate(&app, &["webhook", "set"], "").await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "webhook set to https://bot.telegate.test/telegram/webhook"
    );
    assert_eq!(
        app.standin.webhook()["secret_token"],
        crate::support::SECRET
    );
    let (_, out, _) = crate::support::run_telegate(&app, &["webhook", "info"], "").await;
    assert!(
        out.contains("Allowed updates:  message, my_chat_member"),
        "{out}"
    );
    assert!(out.contains("Matches WEBHOOK_URL: yes"), "{out}");
    assert!(
        !out.contains(crate::support::SECRET),
        "the secret is not shown"
    );
}

/// `telegate check` in `dir` with `vars`, off the test's runtime (the
/// stand-in must keep answering getMe); returns (success, stdout).
pub async fn check_in(
    dir: &std::path::Path,
    vars: std::collections::HashMap<String, String>,
) -> (bool, String) {
    let (mut command, _empty) = telegate();
    command.current_dir(dir).envs(&vars).arg("check");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn check_reports_each_problem_and_what_works() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    // A working directory with a readable-by-all .env: the check names it.
    let workdir = tempfile::tempdir().unwrap();
    let dotenv = workdir.path().join(".env");
    std::fs::write(&dotenv, "LOG_LEVEL=info\n").unwrap();
    std::fs::set_permissions(&dotenv, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(!ok);
    assert!(out.contains("FAIL  .env has mode 644"), "{out}");
    assert!(out.contains("ok    every variable is valid"), "{out}");
    assert!(out.contains("opens and takes writes"), "{out}");
    assert!(
        out.contains("ok    the token works: this is @telegate_test_bot"),
        "{out}"
    );

    std::fs::set_permissions(&dotenv, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "{out}");
    assert!(out.contains("ok    .env has mode 600"), "{out}");

    let mut vars = app.vars.clone();
    let wrong = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    vars.insert("TELEGRAM_BOT_TOKEN".into(), wrong.into());
    let (ok, out) = check_in(workdir.path(), vars).await;
    assert!(!ok);
    assert!(
        out.contains("FAIL  the Bot API refused the token (401"),
        "{out}"
    );
    assert!(!out.contains(&wrong[10..]), "the token is not echoed");
}

#[tokio::test]
async fn check_loads_the_tls_certificate_and_names_a_broken_one() {
    let app = TestApp::prepare(&[]).await;
    let workdir = tempfile::tempdir().unwrap();
    let (cert, key) = (
        workdir.path().join("cert.pem"),
        workdir.path().join("key.pem"),
    );
    crate::support::certs::self_signed(&cert, &key);
    let mut vars = app.vars.clone();
    vars.insert("TLS_CERT_FILE".into(), cert.display().to_string());
    vars.insert("TLS_KEY_FILE".into(), key.display().to_string());
    vars.insert("LISTEN_ADDR".into(), "0.0.0.0:8443".into());

    let (ok, out) = check_in(workdir.path(), vars.clone()).await;
    assert!(ok, "{out}");
    let until = crate::support::certs::not_after(&cert);
    assert!(
        out.contains(&format!(
            "are a usable certificate and key, valid until {until} UTC"
        )),
        "{out}"
    );

    // The key of another certificate: serve could not use the pair.
    crate::support::certs::self_signed(&workdir.path().join("other.pem"), &key);
    let (ok, out) = check_in(workdir.path(), vars.clone()).await;
    assert!(!ok);
    assert!(out.contains("FAIL  TLS_CERT_FILE"), "{out}");

    vars.insert("LISTEN_ADDR".into(), "127.0.0.1:8443".into());
    crate::support::certs::self_signed(&cert, &key);
    let (ok, out) = check_in(workdir.path(), vars).await;
    assert!(!ok);
    assert!(
        out.contains("LISTEN_ADDR=127.0.0.1:8443 is loopback"),
        "{out}"
    );
}

#[tokio::test]
async fn env_file_is_read_instead_of_dot_env_and_checked_like_it() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let conf = tempfile::tempdir().unwrap();
    let env_file = conf.path().join("telegate.env");
    let text: String = app.vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(&env_file, text).unwrap();
    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    // A ./.env that must not be read when --env-file names another file.
    let workdir = tempfile::tempdir().unwrap();
    std::fs::write(workdir.path().join(".env"), "LOG_LEVEL=shouting\n").unwrap();
    let path = env_file.display().to_string();
    let run_in = |args: Vec<String>| {
        let (mut command, _empty) = telegate();
        command.current_dir(workdir.path()).args(args);
        async move {
            let output = tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap();
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (
                output.status.success(),
                text(&output.stdout),
                text(&output.stderr),
            )
        }
    };
    let args = |rest: &[&str]| {
        ["--env-file", &path]
            .iter()
            .chain(rest)
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
    };

    let (ok, out, err) = run_in(args(&["check"])).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("ok    {path} has mode 600")), "{out}");

    let (ok, out, err) = run_in(args(&["users", "list"])).await;
    assert!(ok && err.contains("nobody was enrolled"), "{out}{err}");

    std::fs::set_permissions(&env_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (ok, out, _) = run_in(args(&["check"])).await;
    assert!(
        !ok && out.contains(&format!("FAIL  {path} has mode 640")),
        "{out}"
    );

    let missing = ["--env-file", "/nonexistent/telegate.env", "users", "list"];
    let (ok, _, err) = run_in(missing.iter().map(|s| (*s).to_owned()).collect()).await;
    assert!(!ok, "{err}");
    assert!(
        err.contains("--env-file: /nonexistent/telegate.env cannot be read"),
        "{err}"
    );
}

#[tokio::test]
async fn owner_id_prints_the_id_of_the_next_private_message_sender_with_only_the_token() {
    let mut app = TestApp::prepare(&[]).await;
    for variable in ["WEBHOOK_URL", "WEBHOOK_SECRET", "BOT_OWNER_ID"] {
        app.vars.remove(variable);
    }
    let in_a_group = crate::support::updates::group_text(1, -1_007, 31, "hello");
    app.standin.push_update(in_a_group);
    app.standin.push_update(private_text(2, 5150, "hello"));
    let (ok, out, err) = run_telegate(&app, &["owner-id", "--wait", "10"], "").await;
    assert!(ok, "{err}");
    assert!(
        out.contains("user id 5150\nIf that is you, set BOT_OWNER_ID=5150"),
        "{out}"
    );
}

#[tokio::test]
async fn owner_id_explains_that_a_webhook_must_be_deleted_first() {
    let app = TestApp::spawn().await;
    let (ok, _, err) = run_telegate(&app, &["owner-id", "--wait", "5"], "").await;
    assert!(!ok);
    assert!(err.contains("run `telegate webhook delete` first"), "{err}");
}

#[tokio::test]
async fn check_says_where_each_secret_came_from() {
    let app = TestApp::spawn().await;
    let credentials = tempfile::tempdir().unwrap();
    let token = credentials.path().join("TELEGRAM_BOT_TOKEN");
    std::fs::write(&token, crate::support::TOKEN).unwrap();
    let secret_file = credentials.path().join("secret.txt");
    std::fs::write(&secret_file, crate::support::SECRET).unwrap();
    let mut vars = app.vars.clone();
    vars.remove("TELEGRAM_BOT_TOKEN");
    vars.remove("WEBHOOK_SECRET");
    vars.insert(
        "CREDENTIALS_DIRECTORY".into(),
        credentials.path().display().to_string(),
    );
    vars.insert(
        "WEBHOOK_SECRET_FILE".into(),
        secret_file.display().to_string(),
    );
    vars.insert(
        "ENROLLMENT_PASSCODE".into(),
        "a passcode from the environment".into(),
    );
    let workdir = tempfile::tempdir().unwrap();

    let (ok, out) = check_in(workdir.path(), vars).await;
    assert!(ok, "{out}");
    for line in [
        format!(
            "ok    TELEGRAM_BOT_TOKEN comes from the systemd credential {}",
            token.display()
        ),
        format!(
            "ok    WEBHOOK_SECRET comes from WEBHOOK_SECRET_FILE={}",
            secret_file.display()
        ),
        "ok    ENROLLMENT_PASSCODE comes from the environment".to_owned(),
        "ok    the token works".to_owned(),
    ] {
        assert!(out.contains(&line), "{line:?} missing in:\n{out}");
    }
}

#[tokio::test]
async fn check_warns_when_the_database_or_a_backup_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let private = std::fs::Permissions::from_mode(0o600);
    let db = app.db_path().display().to_string();
    for file in [db.clone(), format!("{db}-wal"), format!("{db}-shm")] {
        std::fs::set_permissions(file, private.clone()).unwrap();
    }
    let backups = app.dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let backup = backups.join("telegate-1.db");
    std::fs::write(&backup, "").unwrap();
    std::fs::set_permissions(&backup, private).unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("and its backups are readable by their owner alone"),
        "{out}"
    );

    let readable = std::fs::Permissions::from_mode(0o644);
    std::fs::set_permissions(app.db_path(), readable.clone()).unwrap();
    std::fs::set_permissions(&backup, readable).unwrap();
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "a warning does not fail the check: {out}");
    for file in [app.db_path(), backup] {
        let name = file.display();
        assert!(
            out.contains(&format!("warn  {name} has mode 644: others can read")),
            "{name}: {out}"
        );
    }
}
