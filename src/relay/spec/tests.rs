//! Each rule of the commands file, with the line its problem is named on.

use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use super::*;

/// A root holding `bin/tool` (executable), `bin/plain` (not executable),
/// and the directory `work`.
fn root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("bin")).unwrap();
    std::fs::create_dir_all(root.path().join("work")).unwrap();
    for (name, mode) in [("tool", 0o755), ("plain", 0o644)] {
        let path = root.path().join("bin").join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    root
}

fn check(text: &str) -> Result<CommandsFile, Problems> {
    let root = root();
    parse_under(text, root.path())
}

/// The problems of `text` as (line, message).
fn problems(text: &str) -> Vec<(usize, String)> {
    match check(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(Problems(list)) => list.into_iter().map(|p| (p.line, p.message)).collect(),
    }
}

/// Asserts `text` has exactly one problem, on `line`, containing `part`.
fn one_problem(text: &str, line: usize, part: &str) {
    let found = problems(text);
    assert!(
        found.len() == 1 && found[0].0 == line && found[0].1.contains(part),
        "wanted line {line}: ...{part}..., got {found:?}"
    );
}

/// A command declaring `extra` lines after its required keys (lines 1-4).
fn command(extra: &str) -> String {
    format!(
        "[[command]]\nname = \"run\"\ndescription = \"runs the tool\"\nprogram = \"/bin/tool\"\n{extra}"
    )
}

#[test]
fn a_good_command_is_read_with_its_defaults() {
    let file = check(&command(
        "args = [\"-n\", \"{lines}\"]\nparams = [{ name = \"lines\", type = \"int\", min = 1, max = 9, default = 5 }]\n",
    ))
    .unwrap();
    let run = file.find("run").unwrap();
    assert_eq!(run.program, Path::new("/bin/tool"));
    assert_eq!(run.timeout, DEFAULT_TIMEOUT);
    assert_eq!(run.allow, Allow::Everyone);
    assert!(!run.sensitive && !run.confirm && !run.secret_args);
    assert_eq!(run.stdin, None);
    assert_eq!(run.params[0].default.as_deref(), Some("5"));
    assert_eq!(run.to_string(), "/run [LINES]");
    assert_eq!(file.text_command, None);
}

#[test]
fn text_that_is_not_toml_is_named_with_its_line() {
    one_problem("\n\nname = [\n", 3, "invalid TOML: ");
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    one_problem("\ncommands = []\n", 2, "unknown key `commands`");
    one_problem(
        &command("\nprogramme = \"/bin/tool\"\n"),
        6,
        "unknown key `programme` in a [[command]]",
    );
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n  { name = \"a\", kind = \"int\" },\n]\n"),
        7,
        "unknown key `kind` in a parameter",
    );
}

#[test]
fn every_key_of_a_command_and_of_a_parameter_is_read() {
    let file = check(&command(
        "args = [\"-n\", \"{n}\", \"{p}\", \"--\", \"{c}\"]\n\
         params = [\n\
           { name = \"n\", type = \"int\", min = 1, max = 9 },\n\
           { name = \"p\", type = \"pattern\", pattern = \"[a-z]+\", allow_dash = false },\n\
           { name = \"c\", choices = [\"a\", \"b\"], default = \"a\" },\n\
           { name = \"q\", type = \"text\", default = \"hi\", allow_dash = true },\n\
         ]\n\
         timeout = \"2m\"\nsensitive = true\nconfirm = true\nallow = [\"user\"]\n\
         workdir = \"/work\"\nenv = { A = \"1\" }\nstdin = \"{q}\"\nsecret_args = true\n",
    ))
    .unwrap();
    let run = &file.commands[0];
    assert!(run.sensitive && run.confirm && run.secret_args);
    assert_eq!(run.stdin, Some(3));
    assert_eq!(run.workdir.as_deref(), Some(Path::new("/work")));
    assert_eq!(run.allow, Allow::Only(vec![Grant::Role(Role::User)]));
    assert!(run.params[3].allow_dash);
    assert_eq!(run.to_string(), "/run N P [C] [Q]");
}

#[test]
fn unknown_keys_do_not_hide_the_other_problems_of_their_command() {
    let found = problems(&command(
        "bogus = 1
timeout = \"soon\"\nparams = [{ name = \"a\", x = 1 }]\n",
    ));
    let lines: Vec<usize> = found.iter().map(|(l, _)| l).copied().collect();
    assert_eq!(lines, [5, 6, 7, 7], "{found:?}");
}

#[test]
fn a_missing_required_key_is_named_at_its_command() {
    one_problem(
        "\n[[command]]\nname = \"run\"\nprogram = \"/bin/tool\"\n",
        2,
        "missing field `description`",
    );
}

#[test]
fn programs_must_be_absolute_existing_executable_files() {
    let with = |program: &str| {
        format!("[[command]]\nname = \"run\"\ndescription = \"d\"\nprogram = \"{program}\"\n")
    };
    one_problem(&with("bin/tool"), 4, "must be an absolute path");
    one_problem(&with("/bin/missing"), 4, "/bin/missing does not exist");
    one_problem(&with("/work"), 4, "/work is not a regular file");
    one_problem(&with("/bin/plain"), 4, "/bin/plain is not executable");
    assert!(check(&with("/bin/tool")).is_ok());
}

#[test]
fn the_real_root_is_the_default_and_a_real_program_passes() {
    // parse() looks at the real file system: /bin/sh is on every machine.
    let text = "[[command]]\nname = \"run\"\ndescription = \"d\"\nprogram = \"/bin/sh\"\n";
    assert!(parse(text).is_ok());
    let missing = text.replace("/bin/sh", "/nonexistent/telegate-test");
    assert_eq!(parse(&missing).unwrap_err().0[0].line, 4);
}

#[test]
fn names_must_be_telegram_command_names() {
    for bad in ["Run", "run-it", "", &"a".repeat(33), "über"] {
        let text = command("").replace("name = \"run\"", &format!("name = \"{bad}\""));
        one_problem(&text, 2, "is not a Telegram command name");
    }
}

#[test]
fn names_of_built_in_and_relay_commands_are_refused() {
    for taken in ["ping", "auth", "help", "jobs", "cancel"] {
        let text = command("").replace("name = \"run\"", &format!("name = \"{taken}\""));
        one_problem(&text, 2, "is taken");
    }
}

#[test]
fn a_name_declared_twice_names_the_first_line() {
    let text = format!("{}\n{}", command(""), command(""));
    one_problem(&text, 6, "/run is declared twice (first on line 1)");
}

#[test]
fn descriptions_are_one_to_256_characters() {
    let blank = command("").replace("runs the tool", "  ");
    one_problem(&blank, 3, "description must be 1-256 characters");
    let long = command("").replace("runs the tool", &"d".repeat(257));
    one_problem(&long, 3, "description must be 1-256");
}

#[test]
fn every_placeholder_names_a_declared_parameter() {
    one_problem(
        &command("args = [\"{unit}\"]\n"),
        5,
        "{unit} names no parameter",
    );
    one_problem(
        &command("args = [\"{a}\",\n \"--x={b}\"]\nparams = [{ name = \"a\" }]\n"),
        6,
        "{b} names no parameter (declared: a)",
    );
    one_problem(
        &command(
            "args = [\"{q}\"]\nparams = [{ name = \"q\", type = \"text\" }]\nstdin = \"{question}\"\n",
        ),
        7,
        "{question} names no parameter",
    );
}

#[test]
fn stdin_is_one_whole_placeholder() {
    one_problem(
        &command("params = [{ name = \"q\", type = \"text\" }]\nstdin = \"say {q}\"\n"),
        6,
        "stdin must be one placeholder",
    );
    let file = check(&command(
        "params = [{ name = \"q\", type = \"text\" }]\nstdin = \"{q}\"\n",
    ))
    .unwrap();
    assert_eq!(file.commands[0].stdin, Some(0));
}

#[test]
fn every_parameter_is_used() {
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n { name = \"a\" },\n { name = \"b\" },\n]\n"),
        8,
        "parameter \"b\" is not used",
    );
}

#[test]
fn one_element_holds_at_most_one_placeholder() {
    one_problem(
        &command("args = [\"{a}{b}\"]\nparams = [{ name = \"a\" }, { name = \"b\" }]\n"),
        5,
        "holds 2 placeholders",
    );
}

#[test]
fn a_text_parameter_is_the_last() {
    one_problem(
        &command(
            "args = [\"{q}\", \"{a}\"]\nparams = [\n { name = \"q\", type = \"text\" },\n { name = \"a\" },\n]\n",
        ),
        7,
        "must be the last parameter",
    );
}

#[test]
fn a_required_parameter_cannot_follow_an_optional_one() {
    one_problem(
        &command(
            "args = [\"{a}\", \"{b}\"]\nparams = [\n { name = \"a\", default = \"x\" },\n { name = \"b\" },\n]\n",
        ),
        8,
        "is required but follows an optional one",
    );
}

#[test]
fn parameter_names_are_identifiers_and_declared_once() {
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n { name = \"a\" },\n { name = \"a\" },\n]\n"),
        8,
        "parameter \"a\" is declared twice",
    );
    let found = problems(&command(
        "args = [\"x\"]\nparams = [\n { name = \"a-b\" },\n]\n",
    ));
    assert_eq!(found[0].0, 7);
    assert!(found[0].1.contains("parameter name \"a-b\""), "{found:?}");
}

#[test]
fn a_pattern_must_compile_and_is_anchored() {
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n { name = \"a\", pattern = \"(ab\" },\n]\n"),
        7,
        "pattern does not compile",
    );
    let file = check(&command(
        "args = [\"{a}\"]\nparams = [{ name = \"a\", pattern = \"ab|cd\" }]\n",
    ))
    .unwrap();
    let Kind::Pattern { regex, plain } = &file.commands[0].params[0].kind else {
        panic!("not a pattern");
    };
    assert!(!plain);
    assert!(regex.is_match("ab") && regex.is_match("cd"));
    assert!(!regex.is_match("abx") && !regex.is_match("xcd") && !regex.is_match("ab\n"));
}

#[test]
fn int_bounds_are_ordered_and_the_default_is_within() {
    one_problem(
        &command(
            "args = [\"{n}\"]\nparams = [\n { name = \"n\", type = \"int\", min = 5, max = 1 },\n]\n",
        ),
        7,
        "min (5) is greater than max (1)",
    );
    one_problem(
        &command(
            "args = [\"{n}\"]\nparams = [\n { name = \"n\", type = \"int\", min = 1, max = 9,\n   default = 10 },\n]\n",
        ),
        8,
        "default of n: must be a whole number from 1 to 9",
    );
    one_problem(
        &command(
            "args = [\"{n}\"]\nparams = [\n { name = \"n\", type = \"int\", default = \"many\" },\n]\n",
        ),
        7,
        "default of n: must be a whole number",
    );
}

#[test]
fn choices_are_single_distinct_words_and_the_default_is_one_of_them() {
    one_problem(
        &command("args = [\"{u}\"]\nparams = [\n { name = \"u\", choices = [] },\n]\n"),
        7,
        "choices is empty",
    );
    one_problem(
        &command(
            "args = [\"{u}\"]\nparams = [\n { name = \"u\", choices = [\"a\", \"b\"], default = \"c\" },\n]\n",
        ),
        7,
        "default of u: must be one of: a, b",
    );
    one_problem(
        &command("args = [\"{u}\"]\nparams = [{ name = \"u\", choices = [\n \"a b\"] }]\n"),
        7,
        "must be one word",
    );
    one_problem(
        &command("args = [\"{u}\"]\nparams = [{ name = \"u\", choices = [\"a\",\n \"a\"] }]\n"),
        7,
        "listed twice",
    );
    one_problem(
        &command("args = [\"{u}\"]\nparams = [{ name = \"u\", type = \"choices\" }]\n"),
        6,
        "needs `choices`",
    );
}

#[test]
fn a_type_is_one_of_four_and_keys_of_another_type_are_refused() {
    one_problem(
        &command("args = [\"{u}\"]\nparams = [{ name = \"u\",\n type = \"float\" }]\n"),
        7,
        "type \"float\" is not a parameter type",
    );
    one_problem(
        &command("args = [\"{u}\"]\nparams = [{ name = \"u\", choices = [\"a\"],\n min = 1 }]\n"),
        7,
        "`min` does not apply to a parameter of type \"choices\"",
    );
}

#[test]
fn timeouts_parse_and_are_bounded() {
    let file = check(&command("timeout = \"5m\"\n")).unwrap();
    assert_eq!(file.commands[0].timeout, Duration::from_secs(300));
    let file = check(&command("timeout = 90\n")).unwrap();
    assert_eq!(file.commands[0].timeout, Duration::from_secs(90));
    one_problem(&command("timeout = \"soon\"\n"), 5, "is not a duration");
    one_problem(&command("timeout = \"0s\"\n"), 5, "must be more than 0");
    one_problem(&command("timeout = \"2d\"\n"), 5, "at most 24h");
    one_problem(&command("timeout = true\n"), 5, "expected a duration");
}

#[test]
fn workdir_is_an_absolute_directory() {
    assert!(check(&command("workdir = \"/work\"\n")).is_ok());
    one_problem(
        &command("workdir = \"work\"\n"),
        5,
        "workdir must be an absolute path",
    );
    one_problem(
        &command("workdir = \"/nowhere\"\n"),
        5,
        "/nowhere is not a directory",
    );
}

#[test]
fn env_keys_are_variable_names() {
    let file = check(&command("env = { LANG = \"C.UTF-8\", MY_VAR2 = \"x\" }\n")).unwrap();
    assert_eq!(file.commands[0].env["LANG"], "C.UTF-8");
    one_problem(
        &command("\n[command.env]\n\"2X\" = \"a\"\n"),
        7,
        "\"2X\" is not a variable name",
    );
    one_problem(
        &command("env = { \"A-B\" = \"a\" }\n"),
        5,
        "\"A-B\" is not a variable name",
    );
}

#[test]
fn allow_takes_roles_and_user_ids() {
    let file = check(&command("allow = [\"owner\", 42]\n")).unwrap();
    assert_eq!(
        file.commands[0].allow,
        Allow::Only(vec![Grant::Role(Role::Owner), Grant::User(42)])
    );
    one_problem(
        &command("allow = [\"admin\"]\n"),
        5,
        "\"admin\" is not a role",
    );
    one_problem(&command("allow = [-5]\n"), 5, "-5 is not a user id");
    one_problem(&command("allow = []\n"), 5, "allow is empty");
    one_problem(
        &command("allow = [true]\n"),
        5,
        "expected \"owner\", \"user\" or a numeric user id",
    );
}

#[test]
fn text_command_names_a_declared_command_with_a_text_parameter() {
    let ask = command("args = [\"{q}\"]\nparams = [{ name = \"q\", type = \"text\" }]\n");
    let file = check(&format!("text_command = \"run\"\n{ask}")).unwrap();
    assert_eq!(file.text_command.as_deref(), Some("run"));
    one_problem(
        &format!("text_command = \"ask\"\n{ask}"),
        1,
        "/ask, which is not declared",
    );
    one_problem(
        &format!("text_command = \"run\"\n{}", command("")),
        1,
        "has no text parameter",
    );
}

#[test]
fn a_dash_may_stand_only_after_a_double_dash_or_an_option_or_when_allowed() {
    let file = check(&command(
        "args = [\"{a}\", \"--\", \"{b}\", \"-u\", \"{c}\", \"--x=1\", \"{d}\", \"--y={e}\", \"{f}\"]\n\
         params = [{ name = \"a\" }, { name = \"b\" }, { name = \"c\" }, { name = \"d\" },\n\
         { name = \"e\" }, { name = \"f\", allow_dash = true }]\n",
    ))
    .unwrap();
    let dash: Vec<bool> = file.commands[0]
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Value { dash_ok, .. } => Some(*dash_ok),
            Arg::Literal(_) => None,
        })
        .collect();
    assert_eq!(dash, [false, true, true, false, true, true]);
}

#[test]
fn a_default_or_choice_starting_with_a_dash_where_it_would_be_an_option_is_refused() {
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n { name = \"a\", default = \"-rf\" },\n]\n"),
        7,
        "default of \"a\" starts with '-'",
    );
    one_problem(
        &command("args = [\"{a}\"]\nparams = [\n { name = \"a\", choices = [\"-a\"] },\n]\n"),
        7,
        "a choice of \"a\" starts with '-'",
    );
    assert!(
        check(&command(
            "args = [\"--\", \"{a}\"]\nparams = [{ name = \"a\", default = \"-rf\" }]\n"
        ))
        .is_ok()
    );
}

#[test]
fn nul_characters_are_refused_in_programs_args_and_env() {
    one_problem(&command("args = [\"a\\u0000b\"]\n"), 5, "NUL");
    one_problem(&command("env = { A = \"\\u0000\" }\n"), 5, "NUL");
}

#[test]
fn every_problem_of_every_command_is_reported_at_once_in_line_order() {
    let text = format!(
        "text_command = \"nope\"\n{}\n{}",
        command("timeout = \"soon\"\nargs = [\"{x}\"]\n"),
        command("allow = [\"admin\"]\n").replace("run", "Run2")
    );
    let lines: Vec<usize> = problems(&text).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [1, 6, 7, 10, 13]);
}

#[test]
fn a_file_too_large_or_not_text_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
    assert!(matches!(load(&big), Err(LoadError::TooLarge { .. })));
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe]).unwrap();
    assert!(matches!(load(&binary), Err(LoadError::NotText { .. })));
    let missing = load(&dir.path().join("missing.toml")).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("cannot read the commands file"),
        "{missing}"
    );
}

#[test]
fn an_upload_parameter_is_never_typed_and_shows_in_the_usage_line() {
    let file = check(&command(
        "args = [\"{file}\", \"{format}\"]\nparams = [{ name = \"format\", default = \"pdf\" }, { name = \"file\", type = \"upload\" }]\n",
    ))
    .unwrap();
    let run = file.find("run").unwrap();
    assert_eq!(
        run.to_string(),
        "/run [FORMAT] (as a reply to the file you sent, for FILE)"
    );
}

#[test]
fn an_upload_parameter_has_no_default_and_a_command_at_most_one() {
    one_problem(
        &command(
            "args = [\"{file}\"]\nparams = [{ name = \"file\", type = \"upload\", default = \"x\" }]\n",
        ),
        6,
        "an upload parameter has no default",
    );
    let two = problems(&command(
        "args = [\"{a}\", \"{b}\"]\nparams = [{ name = \"a\", type = \"upload\" }, { name = \"b\", type = \"upload\" }]\n",
    ));
    assert!(
        two.iter()
            .all(|(_, m)| m.contains("at most one upload parameter"))
            && two.len() == 2,
        "{two:?}"
    );
}

#[test]
fn output_files_are_relative_paths_with_globs_in_the_last_component_only() {
    let file = check(&command(
        "workdir = \"/work\"\noutput_files = [\"report.pdf\", \"out/*.png\"]\nas_photo = true\n",
    ))
    .unwrap();
    let run = &file.commands[0];
    assert_eq!(run.output_files, ["report.pdf", "out/*.png"]);
    assert!(run.as_photo);
    one_problem(
        &command("output_files = [\"a.pdf\"]\n"),
        5,
        "output_files needs a workdir",
    );
    for (pattern, part) in [
        ("/etc/passwd", "is not a path relative"),
        ("../x.pdf", "may not hold `..`"),
        ("*/x.pdf", "only in its last component"),
        ("[ab].png", "not `[...]`"),
    ] {
        one_problem(
            &command(&format!(
                "workdir = \"/work\"\noutput_files = [{pattern:?}]\n"
            )),
            6,
            part,
        );
    }
}
