//! Building argv from typed arguments: defaults, the text parameter, every
//! refusal with its usage line, and injection attempts.

use super::*;
use crate::relay::spec::{self, Command};

/// The one command declared by `body` (program /bin/sh, on every machine).
fn declare(body: &str) -> Command {
    let text =
        format!("[[command]]\nname = \"run\"\ndescription = \"d\"\nprogram = \"/bin/sh\"\n{body}");
    spec::parse(&text).unwrap().commands.remove(0)
}

fn logs() -> Command {
    declare(
        "args = [\"--no-pager\", \"-u\", \"{unit}\", \"-n\", \"{lines}\"]\n\
         params = [{ name = \"unit\", choices = [\"nginx\", \"ssh\"] },\n\
         { name = \"lines\", type = \"int\", min = 1, max = 500, default = 50 }]\n",
    )
}

fn ask() -> Command {
    declare(
        "args = [\"-p\", \"{question}\"]\nparams = [{ name = \"question\", type = \"text\" }]\n",
    )
}

fn args(command: &Command, text: &str) -> Vec<String> {
    build(command, text).unwrap().args
}

#[test]
fn values_take_their_places_in_order_and_defaults_fill_the_rest() {
    assert_eq!(
        args(&logs(), "nginx"),
        ["--no-pager", "-u", "nginx", "-n", "50"]
    );
    assert_eq!(
        args(&logs(), " ssh\t 7 "),
        ["--no-pager", "-u", "ssh", "-n", "7"]
    );
    assert_eq!(args(&logs(), "ssh 007")[4], "7");
}

#[test]
fn missing_extra_and_invalid_arguments_name_the_parameter_and_the_usage() {
    let logs = logs();
    assert_eq!(
        build(&logs, "").unwrap_err().to_string(),
        "UNIT is missing. Usage: /run UNIT [LINES]"
    );
    assert_eq!(
        build(&logs, "nginx 5 6").unwrap_err().to_string(),
        "too many arguments. Usage: /run UNIT [LINES]"
    );
    assert_eq!(
        build(&logs, "apache").unwrap_err().to_string(),
        "UNIT must be one of: nginx, ssh. Usage: /run UNIT [LINES]"
    );
    assert_eq!(
        build(&logs, "nginx 501").unwrap_err().to_string(),
        "LINES must be a whole number from 1 to 500. Usage: /run UNIT [LINES]"
    );
    assert!(matches!(
        build(&logs, "nginx lots"),
        Err(ArgsError::Invalid { param, .. }) if param == "LINES"
    ));
}

#[test]
fn a_text_parameter_takes_the_rest_of_the_message_as_one_element() {
    assert_eq!(
        args(&ask(), "  why   is\nthe sky blue?  \n"),
        ["-p", "why   is\nthe sky blue?"]
    );
    let two = declare(
        "args = [\"{mode}\", \"--\", \"{q}\"]\nparams = [{ name = \"mode\", choices = [\"fast\"] },\n{ name = \"q\", type = \"text\" }]\n",
    );
    assert_eq!(args(&two, "fast  a b  c"), ["fast", "--", "a b  c"]);
    assert!(
        matches!(build(&two, "fast   "), Err(ArgsError::Missing { param, .. }) if param == "Q")
    );
}

#[test]
fn stdin_gets_its_parameter_and_is_closed_otherwise() {
    let piped = declare("params = [{ name = \"q\", type = \"text\" }]\nstdin = \"{q}\"\n");
    let argv = build(&piped, "hello there").unwrap();
    assert!(argv.args.is_empty());
    assert_eq!(argv.stdin.as_deref(), Some("hello there"));
    assert_eq!(build(&logs(), "ssh").unwrap().stdin, None);
}

#[test]
fn a_placeholder_inside_an_element_substitutes_within_that_element() {
    let unit = declare("args = [\"--unit={u}.service\"]\nparams = [{ name = \"u\" }]\n");
    assert_eq!(args(&unit, "nginx"), ["--unit=nginx.service"]);
    // Behind a prefix, a leading '-' cannot be read as an option.
    assert_eq!(args(&unit, "-x"), ["--unit=-x.service"]);
}

#[test]
fn a_leading_dash_is_refused_unless_the_place_or_the_parameter_allows_it() {
    let bare = declare("args = [\"{a}\"]\nparams = [{ name = \"a\" }]\n");
    assert_eq!(
        build(&bare, "-rf").unwrap_err().to_string(),
        "A must not start with '-'. Usage: /run A"
    );
    let after_dashes = declare("args = [\"--\", \"{a}\"]\nparams = [{ name = \"a\" }]\n");
    assert_eq!(args(&after_dashes, "-rf"), ["--", "-rf"]);
    let after_option = declare("args = [\"-u\", \"{a}\"]\nparams = [{ name = \"a\" }]\n");
    assert_eq!(args(&after_option, "--help"), ["-u", "--help"]);
    let after_value = declare("args = [\"--x=1\", \"{a}\"]\nparams = [{ name = \"a\" }]\n");
    assert!(build(&after_value, "--help").is_err());
    let allowed = declare("args = [\"{a}\"]\nparams = [{ name = \"a\", allow_dash = true }]\n");
    assert_eq!(args(&allowed, "-5"), ["-5"]);
    let number = declare("args = [\"{n}\"]\nparams = [{ name = \"n\", type = \"int\" }]\n");
    assert!(matches!(
        build(&number, "-5"),
        Err(ArgsError::Invalid {
            reason: Refusal::Dash,
            ..
        })
    ));
}

#[test]
fn shell_syntax_look_alikes_and_long_values_are_refused_by_the_plain_pattern() {
    let plain = declare("args = [\"{a}\"]\nparams = [{ name = \"a\" }]\n");
    let long = "a".repeat(10_000);
    for hostile in [
        ";",
        "a;b",
        "&&",
        "|",
        "$(id)",
        "`id`",
        "a'b",
        "\"",
        "*",
        "~root",
        "\u{430}dmin",
        "ｎginx",
        "\u{202e}x",
        "a\u{0}b",
        &long,
    ] {
        assert!(
            matches!(build(&plain, hostile), Err(ArgsError::Invalid { .. })),
            "{hostile:?} was accepted"
        );
    }
    assert_eq!(args(&plain, "../../etc/passwd"), ["../../etc/passwd"]);
    assert_eq!(args(&plain, &"a".repeat(256)), ["a".repeat(256)]);
}

#[test]
fn injection_attempts_in_a_text_parameter_stay_one_inert_element() {
    let long = "x".repeat(10_000);
    for hostile in [
        "a; rm -rf /",
        "x && reboot",
        "a | nc host 1",
        "$(id)",
        "`id`",
        "line\nsecond line",
        "../../etc/shadow",
        "\u{430}dmin ｎginx",
        &long,
    ] {
        assert_eq!(args(&ask(), hostile), ["-p", hostile]);
    }
    assert!(matches!(
        build(&ask(), "a\u{0}b"),
        Err(ArgsError::Invalid {
            reason: Refusal::Nul,
            ..
        })
    ));
    // After an option ("-p"), a leading '-' is that option's value.
    assert_eq!(args(&ask(), "--help me"), ["-p", "--help me"]);
    let bare = declare("args = [\"{q}\"]\nparams = [{ name = \"q\", type = \"text\" }]\n");
    assert!(matches!(
        build(&bare, "--help me"),
        Err(ArgsError::Invalid {
            reason: Refusal::Dash,
            ..
        })
    ));
}

#[test]
fn a_custom_pattern_must_match_the_whole_value() {
    let host =
        declare("args = [\"{h}\"]\nparams = [{ name = \"h\", pattern = \"[a-z]+\\\\.lan\" }]\n");
    assert_eq!(args(&host, "nas.lan"), ["nas.lan"]);
    for bad in ["nas.lan;id", "x nas.lan", "NAS.lan"] {
        assert!(build(&host, bad).is_err(), "{bad:?} was accepted");
    }
    assert!(
        build(&host, "evil.lan.x")
            .unwrap_err()
            .to_string()
            .starts_with("H is not in the form this command accepts")
    );
}

#[test]
fn an_upload_parameter_takes_the_files_path_as_one_element_and_no_typed_word() {
    let file = crate::relay::spec::parse_under(
        "[[command]]\nname = \"convert\"\ndescription = \"d\"\nprogram = \"/bin/sh\"\nargs = [\"{file}\", \"{format}\"]\nparams = [{ name = \"file\", type = \"upload\" }, { name = \"format\" }]\n",
        std::path::Path::new("/"),
    )
    .unwrap();
    let command = file.find("convert").unwrap();
    let argv = build_with_file(command, "png", Some("/srv/up/1/my file.pdf")).unwrap();
    assert_eq!(argv.args, ["/srv/up/1/my file.pdf", "png"]);
    assert!(matches!(
        build(command, "png"),
        Err(ArgsError::NoFile { .. })
    ));
}
