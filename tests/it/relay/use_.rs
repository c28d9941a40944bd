//! Who may run what, where, and what is recorded: allow, private chats
//! only, /help and the menu, text_command, /jobs, the audit and the metric.

use super::{FRIEND, ended, job_after, job_count, relay_app, send};
use crate::support::{OWNER, updates::group_text};

const COMMANDS: &str = r#"
text_command = "ask"

[[command]]
name = "hello"
description = "greets"
program = "/bin/echo"
args = ["hello", "{who}"]
params = [{ name = "who", default = "world" }]

[[command]]
name = "secret"
description = "takes a secret"
program = "/bin/echo"
args = ["{token}"]
params = [{ name = "token" }]
secret_args = true

[[command]]
name = "admin"
description = "owner only"
program = "/bin/echo"
args = ["admin"]
allow = ["owner"]

[[command]]
name = "ask"
description = "plain text goes here"
program = "/bin/echo"
args = ["asked:", "{question}"]
params = [{ name = "question", type = "text" }]
"#;

#[tokio::test]
async fn a_command_allowed_to_the_owner_only_is_refused_to_others_and_hidden_from_their_help() {
    let app = relay_app(COMMANDS, &[]).await;
    let refused = app.say(1, FRIEND, "/admin").await;
    assert!(refused.starts_with("You may not run /admin"), "{refused}");
    assert_eq!(job_count(&app).await, 0);

    let help = app.say(2, FRIEND, "/help").await;
    assert!(help.contains("/hello [WHO] - greets"), "{help}");
    assert!(!help.contains("/admin"), "{help}");
    let owners = app.say(3, OWNER, "/help").await;
    assert!(owners.contains("/admin - owner only"), "{owners}");

    send(&app, 4, OWNER, "/admin").await;
    assert_eq!(
        ended(&app, job_after(&app, 0).await.id).await.state,
        "succeeded"
    );
}

#[tokio::test]
async fn relay_commands_run_only_in_private_chats() {
    let app = relay_app(
        COMMANDS,
        &[("ALLOWED_CHAT_IDS", &format!("{FRIEND},-100777"))],
    )
    .await;
    app.post_update(&group_text(1, -100_777, OWNER, "/hello"))
        .await;
    app.wait_handled(1).await;
    let texts = app.wait_texts_to(-100_777, 1).await;
    assert!(texts[0].contains("private chat"), "{texts:?}");
    assert_eq!(job_count(&app).await, 0);
}

#[tokio::test]
async fn plain_text_goes_to_the_text_command_as_one_argument() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, FRIEND, "what is; $(this)?").await;
    let job = ended(&app, job_after(&app, 0).await.id).await;
    assert_eq!(job.command, "ask");
    assert_eq!(
        super::output_of(&app, &job).await.trim_end(),
        "asked: what is; $(this)?"
    );
}

#[tokio::test]
async fn every_run_is_audited_with_its_arguments_unless_they_are_secret_and_counted() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, OWNER, "/hello there").await;
    let first = ended(&app, job_after(&app, 0).await.id).await;
    send(&app, 2, OWNER, "/secret hunter2").await;
    let second = ended(&app, job_after(&app, first.id).await.id).await;

    let rows = crate::support::eventually(|| async {
        let rows = app.audit_outcomes_of_kind("job").await;
        (rows.len() == 2).then_some(rows)
    })
    .await
    .expect("two job rows");
    assert!(
        rows[0].starts_with(&format!("job {}: succeeded: exit code 0", first.id))
            && rows[0].contains("1 arguments (/hello there)")
            && rows[0].contains("12 bytes of output"),
        "{rows:?}"
    );
    assert!(rows[1].contains("1 arguments (secret)"), "{rows:?}");
    let everything: Vec<String> = sqlx::query_scalar("SELECT outcome FROM audit")
        .fetch_all(app.db())
        .await
        .unwrap();
    assert!(
        everything.iter().all(|o| !o.contains("hunter2")),
        "{everything:?}"
    );
    assert_eq!(second.shown, "/secret (1 secret argument)");

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"telegate_relay_runs_total{command="hello",outcome="succeeded"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn slash_jobs_lists_the_user_s_jobs_and_the_owner_sees_everyone_s() {
    let app = relay_app(COMMANDS, &[]).await;
    send(&app, 1, FRIEND, "/hello friend").await;
    let friends = ended(&app, job_after(&app, 0).await.id).await;
    send(&app, 2, OWNER, "/hello owner").await;
    let owners = ended(&app, job_after(&app, friends.id).await.id).await;

    let listed = app.say(3, FRIEND, "/jobs").await;
    assert!(
        listed.contains(&format!("#{} /hello friend: succeeded", friends.id)),
        "{listed}"
    );
    assert!(!listed.contains("/hello owner"), "{listed}");
    let all = app.say(4, OWNER, "/jobs").await;
    assert!(
        all.contains(&format!("#{} /hello owner", owners.id)),
        "{all}"
    );
    assert!(all.contains(&format!("(user {FRIEND})")), "{all}");
}

#[tokio::test]
async fn the_menu_lists_relay_commands_and_callbacks_are_received() {
    let app = relay_app(COMMANDS, &[]).await;
    let menus = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let menus = app.standin.successful("setMyCommands");
            (menus.len() == 2).then_some(menus)
        })
        .await
        .expect("two menus");
    let names = crate::support::menu_names;
    let everyone = names(&menus[0]);
    assert!(everyone.contains(&"hello".into()) && !everyone.contains(&"admin".into()));
    // /jobs and /cancel are listed once there are relay commands (and only then:
    // see startup.rs).
    assert!(everyone.contains(&"jobs".into()) && everyone.contains(&"cancel".into()));
    assert!(names(&menus[1]).contains(&"admin".into()));
    let hook = app.standin.webhook();
    assert!(
        hook["allowed_updates"]
            .as_array()
            .unwrap()
            .contains(&"callback_query".into())
    );
}

#[tokio::test]
async fn a_reload_updates_telegram_s_command_menu() {
    let app = relay_app(COMMANDS, &[]).await;
    app.standin
        .wait_for(crate::support::DEADLINE, |_| {
            (app.standin.successful("setMyCommands").len() == 2).then_some(())
        })
        .await
        .expect("the menus set at the start");
    let file = app.dir.path().join("commands.toml");
    let more = format!(
        "{}\n[[command]]\nname = \"uptime\"\ndescription = \"how long up\"\nprogram = \"/bin/echo\"\n",
        std::fs::read_to_string(&file).unwrap()
    );
    std::fs::write(&file, more).unwrap();
    assert_eq!(app.reload_commands().await.unwrap(), Some(5));

    let menus = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let menus = app.standin.successful("setMyCommands");
            (menus.len() == 4).then_some(menus)
        })
        .await
        .expect("both menus set again");
    for menu in &menus[2..] {
        let listed = menu["commands"].to_string();
        assert!(listed.contains("\"uptime\""), "{listed}");
    }
    assert_eq!(menus[3]["scope"]["chat_id"], OWNER);
}

#[tokio::test]
async fn a_reload_before_the_start_s_registration_is_not_undone_by_it() {
    // getMe fails once: the registration tries again a second later, after
    // the reload below.
    let mut app = crate::support::TestApp::prepare(&[]).await;
    app.standin
        .fail_next("getMe", telegate::standin::Fault::internal_error());
    let file = app.dir.path().join("commands.toml");
    std::fs::write(&file, COMMANDS.replace("@ARGV_JSON@", "/bin/echo")).unwrap();
    app.vars
        .insert("COMMANDS_FILE".into(), file.display().to_string());
    app.start().await;
    let more = format!(
        "{COMMANDS}\n[[command]]\nname = \"uptime\"\ndescription = \"how long up\"\nprogram = \"/bin/echo\"\n"
    );
    std::fs::write(&file, more).unwrap();
    app.reload_commands().await.unwrap();

    let menus = app
        .standin
        .wait_for(crate::support::DEADLINE, |_| {
            let menus = app.standin.successful("setMyCommands");
            (menus.len() == 4).then_some(menus)
        })
        .await
        .expect("the reload's menus and the registration's");
    for menu in &menus {
        assert!(
            menu["commands"].to_string().contains("\"uptime\""),
            "{menu}"
        );
    }
}
