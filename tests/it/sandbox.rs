//! `telegate sandbox`, the real binary driven through stdin: what it says at
//! its start, and its `--commands` file.

use std::process::Output;

use crate::binary::telegate;

/// A relay command needing a session, and one that does not.
const COMMANDS: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"{who}\"]\nparams = [{ name = \"who\" }]\n\n[[command]]\nname = \"wipe\"\ndescription = \"a sensitive one\"\nprogram = \"/bin/echo\"\nargs = [\"wiped\"]\nsensitive = true\n";

/// Runs `telegate sandbox ARGS` with `files` in its working directory and
/// `input` typed in.
fn sandbox(args: &[&str], files: &[(&str, &str)], input: &str) -> Output {
    let (mut command, dir) = telegate();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    crate::support::output_with_stdin(command.arg("sandbox").args(args), input)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Nothing a sandbox user should act on: no warning, nothing about
/// webhooks, certificates, file permissions or TOTP.
fn assert_no_deployment_warning(stderr: &str) {
    let lower = stderr.to_lowercase();
    for word in [
        "warn",
        "webhook",
        "certificate",
        "permission",
        "mode",
        "totp",
    ] {
        assert!(!lower.contains(word), "{word:?} in: {stderr}");
    }
}

#[test]
fn the_sandbox_says_at_its_start_how_to_open_a_session_and_the_code_works() {
    let output = sandbox(&[], &[], "/auth sandbox-passcode\n");
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Sensitive commands need a session: /auth sandbox-passcode"),
        "{stderr}"
    );
    assert!(text(&output.stdout).starts_with("bot> Session open"));
    assert_no_deployment_warning(&stderr);
}

#[test]
fn the_sandbox_with_a_good_commands_file_names_its_commands_and_warns_of_nothing() {
    let output = sandbox(
        &["--commands", "commands.toml"],
        &[("commands.toml", COMMANDS)],
        "/ping\n",
    );
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Relay commands from ") && stderr.contains("commands.toml: /hello /wipe"),
        "{stderr}"
    );
    assert!(stderr.contains("/auth sandbox-passcode"), "{stderr}");
    assert_eq!(text(&output.stdout).lines().next(), Some("bot> pong"));
    assert_no_deployment_warning(&stderr);
}

#[test]
fn the_sandbox_refuses_a_bad_commands_file_naming_the_line_and_exits_1() {
    let bad = format!(
        "{COMMANDS}\n[[command]]\nname = \"ping\"\ndescription = \"d\"\nprogram = \"relative/tool\"\n"
    );
    let output = sandbox(
        &["--commands", "commands.toml"],
        &[("commands.toml", &bad)],
        "/ping\n",
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
    assert!(stderr.contains("\n16: name \"ping\" is taken"), "{stderr}");
    assert!(
        stderr.contains("\n18: program must be an absolute path"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).is_empty(),
        "nothing was started: {}",
        text(&output.stdout)
    );
}

/// A command that asks [Run] [Cancel] first.
const CONFIRMED: &str = "[[command]]\nname = \"hello\"\ndescription = \"says hello\"\nprogram = \"/bin/echo\"\nargs = [\"hello-from-the-button\"]\nconfirm = true\n";

#[test]
fn the_sandbox_numbers_a_confirmation_s_buttons_and_typing_one_presses_it() {
    let output = sandbox(
        &["--commands", "commands.toml"],
        &[("commands.toml", CONFIRMED)],
        "/hello\n3\n1\n",
    );
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("\n   [1] Run   [2] Cancel\n"), "{stdout}");
    assert!(stderr.contains("no button [3] is shown"), "{stderr}");
    assert!(
        stdout.contains("bot (edited ") && stdout.contains("\nhello-from-the-button"),
        "pressing [1] ran the command: {stdout}"
    );
}
