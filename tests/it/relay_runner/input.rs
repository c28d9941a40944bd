//! What the program is given: argv, environment, stdin, working directory.

use std::collections::BTreeMap;

use telegate::relay::{
    exit::Exit,
    runner::{RunError, RunSpec, run},
};
use tokio_util::sync::CancellationToken;

use super::sh;

#[tokio::test]
async fn every_argument_reaches_the_program_as_one_inert_element() {
    let long = "x".repeat(10_000);
    let hostile = [
        ";",
        "a; id",
        "&&",
        "| cat /etc/passwd",
        "$(id)",
        "`id`",
        "line one\nline two",
        "../../etc/passwd",
        "-rf",
        "--help",
        "*",
        "'quoted' \"double\"",
        "",
        "ｉｄ；ｒｍ",
        "\u{202e}reversed",
        long.as_str(),
    ];
    // Prints each argument followed by a NUL, the one byte an argument
    // cannot contain: the split below is exact.
    let spec = sh(
        r#"printf '%s\0' "$@""#,
        &[&["printer"][..], &hostile[..]].concat(),
    );

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    let printed = String::from_utf8(outcome.output.merged()).unwrap();
    let received: Vec<&str> = printed.strip_suffix('\0').unwrap().split('\0').collect();
    assert_eq!(received, hostile);
}

#[tokio::test]
async fn an_argument_with_a_nul_byte_is_refused_and_nothing_starts() {
    let spec = sh("echo started", &["printer", "a\0b"]);

    let error = run(spec, &CancellationToken::new()).await.unwrap_err();

    assert!(matches!(error, RunError::Spawn { .. }), "{error:?}");
}

#[tokio::test]
async fn the_environment_is_exactly_the_declared_one() {
    let mut spec = RunSpec::new("/usr/bin/env");
    spec.argv = vec!["-0".into()];
    spec.env = vec![
        ("LANG".into(), "C.UTF-8".into()),
        ("MULTI".into(), "a=b\nc; d $(id)".into()),
    ];
    // The test process has PATH, HOME and more: none of it may leak.
    assert!(std::env::var_os("PATH").is_some());

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    let printed = String::from_utf8(outcome.output.merged()).unwrap();
    let env: BTreeMap<&str, &str> = printed
        .split_terminator('\0')
        .map(|pair| pair.split_once('=').unwrap())
        .collect();
    let declared = BTreeMap::from([("LANG", "C.UTF-8"), ("MULTI", "a=b\nc; d $(id)")]);
    assert_eq!(env, declared);
}

#[tokio::test]
async fn without_input_stdin_is_closed_so_cat_ends_at_once() {
    let mut spec = RunSpec::new("/bin/cat");
    spec.timeout = std::time::Duration::from_secs(30);

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(!outcome.timed_out);
    assert!(outcome.output.merged().is_empty());
}

#[tokio::test]
async fn given_input_reaches_stdin_whole_and_is_then_closed() {
    // More than a pipe holds, so writing and reading must overlap.
    let input: Vec<u8> = (0..1_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut spec = RunSpec::new("/bin/cat");
    spec.stdin = Some(input.clone());

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    assert_eq!(outcome.exit, Exit::Code(0));
    assert!(
        outcome.output.merged() == input,
        "cat echoed something else"
    );
}

#[tokio::test]
async fn the_program_runs_in_the_declared_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = RunSpec::new("/bin/pwd");
    spec.argv = vec!["-P".into()];
    spec.workdir = Some(dir.path().to_owned());

    let outcome = run(spec, &CancellationToken::new()).await.unwrap();

    let expected = format!("{}\n", dir.path().canonicalize().unwrap().display());
    assert_eq!(
        String::from_utf8(outcome.output.merged()).unwrap(),
        expected
    );
}

#[tokio::test]
async fn a_program_given_by_a_relative_path_is_refused() {
    let error = run(RunSpec::new("sh"), &CancellationToken::new())
        .await
        .unwrap_err();

    assert!(matches!(error, RunError::RelativeProgram(_)), "{error:?}");
    assert!(error.to_string().contains("absolute path"), "{error}");
}

#[tokio::test]
async fn a_missing_program_is_an_error_that_names_it() {
    let error = run(RunSpec::new("/nonexistent/tool"), &CancellationToken::new())
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("/nonexistent/tool"), "{message}");
    assert!(message.contains("exists"), "{message}");
}
