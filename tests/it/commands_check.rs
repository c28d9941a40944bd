//! `telegate commands check`: the real binary on good and bad commands files.

use std::process::Output;

use crate::binary::telegate;

const GOOD: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"{who}\"]\nparams = [{ name = \"who\" }]\n";

/// Runs `telegate ARGS` with `files` written into its working directory.
fn run(args: &[&str], files: &[(&str, &str)]) -> Output {
    let (mut command, dir) = telegate();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    command.args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn commands_check_accepts_a_good_file_and_counts_its_commands() {
    let output = run(
        &["commands", "check", "--file", "commands.toml"],
        &[("commands.toml", GOOD)],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "1 command(s) ok");
}

#[test]
fn commands_check_names_each_problem_with_its_line_and_exits_1() {
    let bad = format!(
        "{GOOD}\n[[command]]\nname = \"ping\"\ndescription = \"d\"\nprogram = \"/nonexistent/tool\"\n"
    );
    let output = run(
        &["commands", "check", "--file", "commands.toml"],
        &[("commands.toml", &bad)],
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("9: name \"ping\" is taken"),
        "{stdout}"
    );
    assert_eq!(lines[1], "11: program /nonexistent/tool does not exist");
    assert!(text(&output.stderr).contains("2 problem(s)"));
}

#[test]
fn commands_check_reads_commands_file_from_the_env_file() {
    let output = run(
        &["--env-file", "telegate.env", "commands", "check"],
        &[
            ("telegate.env", "COMMANDS_FILE=relay.toml\n"),
            ("relay.toml", GOOD),
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "1 command(s) ok");
}

#[test]
fn commands_check_without_a_file_says_how_to_name_one_and_exits_2() {
    let output = run(&["commands", "check"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("set COMMANDS_FILE") && stderr.contains("--file"),
        "{stderr}"
    );
}

#[test]
fn commands_check_on_a_missing_file_names_it_and_exits_1() {
    let output = run(&["commands", "check", "--file", "absent.toml"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("cannot read the commands file absent.toml"),
        "{stderr}"
    );
}

#[tokio::test]
async fn telegate_check_fails_on_a_bad_commands_file_naming_the_line() {
    let mut app = crate::support::TestApp::prepare(&[]).await;
    let file = app.dir.path().join("commands.toml");
    std::fs::write(&file, format!("{GOOD}\n[[command]]\nname = \"Bad\"\n")).unwrap();
    app.vars
        .insert("COMMANDS_FILE".into(), file.display().to_string());

    let (ok, out, _) = crate::support::run_telegate(&app, &["check"], "").await;

    assert!(!ok, "{out}");
    assert!(
        out.contains("FAIL  COMMANDS_FILE: the commands file") && out.contains("\n8: "),
        "{out}"
    );

    std::fs::write(&file, GOOD).unwrap();
    let (_, out, _) = crate::support::run_telegate(&app, &["check"], "").await;
    assert!(out.contains("declares 1 command(s)"), "{out}");
}
