//! The deployment files, checked by the tools that read them.

use std::process::Command;

/// deploy/telegate.service with ExecStart pointing at the binary just built
/// (systemd-analyze verify wants an executable there), in a temp dir.
fn unit_with_this_binary() -> (tempfile::TempDir, std::path::PathBuf) {
    let unit = include_str!("../../deploy/telegate.service");
    let unit = unit.replace("/usr/local/bin/telegate", env!("CARGO_BIN_EXE_telegate"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telegate.service");
    std::fs::write(&path, unit).unwrap();
    (dir, path)
}

fn systemd_analyze(args: &[&str]) -> std::process::Output {
    Command::new("systemd-analyze")
        .args(args)
        .output()
        .expect("systemd-analyze runs (.ci/run installs systemd when it is missing)")
}

/// The secrets, each loaded as an encrypted credential of the same name.
const CREDENTIALS: [&str; 4] = [
    "LoadCredentialEncrypted=TELEGRAM_BOT_TOKEN:telegate.TELEGRAM_BOT_TOKEN",
    "LoadCredentialEncrypted=WEBHOOK_SECRET:telegate.WEBHOOK_SECRET",
    "LoadCredentialEncrypted=ENROLLMENT_PASSCODE:telegate.ENROLLMENT_PASSCODE",
    "LoadCredentialEncrypted=TOTP_SECRET:telegate.TOTP_SECRET",
];

/// The lines of `text` that load a credential, without leading space, `-p `
/// or a line continuation.
fn credential_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.trim().trim_start_matches("-p ").trim_end_matches(" \\"))
        .filter(|l| l.starts_with("LoadCredential"))
        .collect()
}

/// systemd-analyze verify also checks each credential's name (an invalid
/// one is a warning, which fails the test).
#[test]
fn the_systemd_unit_with_its_credentials_passes_systemd_analyze_verify() {
    let (_dir, unit) = unit_with_this_binary();
    let output = systemd_analyze(&["verify", unit.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "warnings: {stderr}");
    let text = include_str!("../../deploy/telegate.service");
    assert_eq!(credential_lines(text), CREDENTIALS);
    let service: Vec<&str> = text.lines().collect();
    assert!(
        service.contains(&"StateDirectoryMode=0700"),
        "systemd resets the state directory to 0755 at every start without it"
    );
}

#[test]
fn telegate_admin_runs_commands_with_the_units_credentials() {
    let script = include_str!("../../deploy/telegate-admin");
    assert_eq!(credential_lines(script), CREDENTIALS);
    let unit = include_str!("../../deploy/telegate.service");
    for setting in ["EnvironmentFile=", "WorkingDirectory="] {
        let line = unit.lines().find(|l| l.starts_with(setting)).unwrap();
        assert!(script.contains(&format!("-p {line}")), "{line} differs");
    }
    let syntax = Command::new("sh")
        .args([
            "-n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/telegate-admin"),
        ])
        .status()
        .unwrap();
    assert!(syntax.success());
}

#[test]
fn the_systemd_units_exposure_is_low() {
    let (_dir, unit) = unit_with_this_binary();
    let output = systemd_analyze(&["security", "--offline=true", unit.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for telegate.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    // The README records the figure; keep it at "OK" (below 2.0 of 10).
    assert!(score < 2.0, "exposure {score}: {text}");
}

#[test]
fn the_systemd_unit_allows_the_open_files_max_connections_and_the_rest_need() {
    let unit = include_str!("../../deploy/telegate.service");
    let limit: usize = unit
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .expect("the unit sets LimitNOFILE (systemd's default is not sized for telegate)")
        .parse()
        .expect("one number, soft and hard alike");
    // The webhook's connections, and 512 for the database, the Bot API,
    // /metrics and the log (a few dozen in use).
    let needed = telegate::config::DEFAULT_MAX_CONNECTIONS + 512;
    assert!(limit >= needed, "LimitNOFILE={limit}, below {needed}");
}

#[test]
fn the_backup_service_and_timer_pass_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in [
        (
            "telegate-backup.service",
            include_str!("../../deploy/telegate-backup.service"),
        ),
        (
            "telegate-backup.timer",
            include_str!("../../deploy/telegate-backup.timer"),
        ),
    ] {
        let path = dir.path().join(name);
        let text = text.replace("/usr/local/bin/telegate", env!("CARGO_BIN_EXE_telegate"));
        std::fs::write(&path, text).unwrap();
        paths.push(path.display().to_string());
    }
    let args: Vec<&str> = std::iter::once("verify")
        .chain(paths.iter().map(String::as_str))
        .collect();
    let output = systemd_analyze(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "{stderr}"
    );
}

fn install(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/install.sh"))
        .args(args)
        .output()
        .unwrap()
}

/// `install.sh --dry-run` for bot.example.net with `extra` flags; its
/// output, once it has succeeded.
fn dry_run(extra: &[&str]) -> String {
    let mut args = vec![
        "--dry-run",
        "--domain",
        "bot.example.net",
        "--email",
        "ops@example.net",
        "--binary",
        env!("CARGO_BIN_EXE_telegate"),
    ];
    args.extend(extra);
    let output = install(&args);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

#[test]
fn install_sh_dry_run_prints_every_step_and_changes_nothing() {
    let out = dry_run(&[]);
    for step in [
        "+ install -d -m 700 -o telegate -g telegate /var/lib/telegate",
        "/usr/local/bin/telegate",
        "+ install -m 755 ",
        "/usr/local/sbin/telegate-admin",
        "+ install -d -m 700 /etc/credstore.encrypted",
        "+ systemd-creds encrypt --name=WEBHOOK_SECRET - /etc/credstore.encrypted/telegate.WEBHOOK_SECRET",
        "systemd-creds encrypt --name=TELEGRAM_BOT_TOKEN - /etc/credstore.encrypted/telegate.TELEGRAM_BOT_TOKEN",
        "/etc/systemd/system/telegate.service",
        "/etc/systemd/system/telegate-backup.timer",
        "/etc/logrotate.d/telegate",
        "+ nginx -t",
        "+ certbot certonly --webroot -w /var/www/letsencrypt -d bot.example.net --email ops@example.net",
        "--deploy-hook systemctl reload nginx",
        "+ systemctl enable --now telegate-backup.timer",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    let env_file = std::path::Path::new("/etc/telegate/telegate.env");
    if env_file.exists() {
        assert!(out.contains("keeping /etc/telegate/telegate.env"), "{out}");
    } else {
        assert!(
            out.contains("+ write /etc/telegate/telegate.env (mode 600, owner telegate:telegate)"),
            "{out}"
        );
        assert!(!env_file.exists(), "a dry run writes nothing");
    }
}

#[test]
fn install_sh_without_a_domain_shows_its_usage() {
    let output = install(&["--dry-run", "--email", "ops@example.net"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("usage:"));
}

#[test]
fn install_sh_direct_tls_dry_run_gets_a_certificate_for_telegate_and_no_nginx() {
    let out = dry_run(&["--direct-tls"]);
    for step in [
        "+ install -d -m 750 -o root -g telegate /etc/telegate/tls",
        "+ write /etc/telegate/certbot-deploy-hook (mode 755, owner root:root)",
        "+ certbot certonly --standalone -d bot.example.net --email ops@example.net --agree-tos --non-interactive --deploy-hook /etc/telegate/certbot-deploy-hook",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
    assert!(!out.contains("nginx"), "{out}");
}

#[test]
fn install_sh_dry_run_encrypts_the_token_file_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{}\n", crate::support::TOKEN)).unwrap();
    let out = dry_run(&["--token-file", token.to_str().unwrap()]);
    assert!(
        out.contains("+ systemd-creds encrypt --name=TELEGRAM_BOT_TOKEN - /etc/credstore.encrypted/telegate.TELEGRAM_BOT_TOKEN"),
        "{out}"
    );
    assert!(!out.contains("no --token-file"), "{out}");
    let key = crate::support::TOKEN.split_once(':').unwrap().1;
    assert!(!out.contains(key), "a dry run shows no secret: {out}");
}

/// The env file install.sh writes holds no secret; with the secrets as
/// credentials (as the unit passes them) it is a configuration serve
/// accepts, and says what the mode needs.
#[test]
fn the_env_file_install_sh_writes_is_valid_in_both_modes() {
    for (mode, url, tls) in [
        (None, "https://bot.example.net/telegram/webhook", false),
        (
            Some("--direct-tls"),
            "https://bot.example.net:8443/telegram/webhook",
            true,
        ),
    ] {
        let mut args = vec![
            "--print-env",
            "--domain",
            "bot.example.net",
            "--email",
            "ops@example.net",
        ];
        args.extend(mode);
        let output = install(&args);
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        let mut vars: std::collections::HashMap<String, String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for secret in [
            "TELEGRAM_BOT_TOKEN",
            "WEBHOOK_SECRET",
            "ENROLLMENT_PASSCODE",
            "TOTP_SECRET",
        ] {
            assert_eq!(vars.get(secret).map(String::as_str), Some(""), "{text}");
        }
        let credentials = tempfile::tempdir().unwrap();
        std::fs::write(
            credentials.path().join("TELEGRAM_BOT_TOKEN"),
            crate::support::TOKEN,
        )
        .unwrap();
        std::fs::write(
            credentials.path().join("WEBHOOK_SECRET"),
            crate::support::SECRET,
        )
        .unwrap();
        vars.insert(
            "CREDENTIALS_DIRECTORY".into(),
            credentials.path().display().to_string(),
        );
        // The operator fills in the owner; the example value is refused.
        vars.insert("BOT_OWNER_ID".into(), "5005".into());
        let config = telegate::config::Config::from_lookup(|k| vars.get(k).cloned())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.commands_file, None, "the relay is off: {text}");
        assert_eq!(config.webhook_url, url);
        assert_eq!(config.tls.is_some(), tls);
        assert_eq!(config.listen_addr.ip().is_loopback(), !tls);
        assert_eq!(
            config.database_path,
            std::path::PathBuf::from("/var/lib/telegate/telegate.db")
        );
    }
}

/// install.sh with `domain` and `email`, in both modes that print and
/// change nothing: (--dry-run, --print-env) outputs.
fn install_with(domain: &str, email: &str) -> [std::process::Output; 2] {
    ["--dry-run", "--print-env"].map(|mode| {
        install(&[
            mode,
            "--domain",
            domain,
            "--email",
            email,
            "--binary",
            env!("CARGO_BIN_EXE_telegate"),
        ])
    })
}

#[test]
fn install_sh_refuses_a_domain_that_is_not_a_host_name_before_doing_anything() {
    let long_label = format!("{}.example.org", "a".repeat(64));
    let too_long = format!("{}.org", vec!["a".repeat(62); 4].join("."));
    for hostile in [
        "a|b",
        "x;rm -rf /",
        "$(id)",
        "evil.org/../x",
        "bot.example.org\nserver_name evil.org",
        "bot",
        "-bot.example.org",
        "bot-.example.org",
        "bot..example.org",
        "bot.example.org.",
        "bot.example.org s",
        "192.0.2.10",
        &long_label,
        &too_long,
    ] {
        for output in install_with(hostile, "ops@example.net") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{hostile:?}: {stderr}");
            assert!(
                stderr.contains("--domain must be the DNS name of this server"),
                "{hostile:?}: {stderr}"
            );
            assert!(
                output.stdout.is_empty(),
                "{hostile:?}: nothing printed or run"
            );
        }
    }
}

#[test]
fn install_sh_refuses_an_email_that_is_not_a_plain_address() {
    for hostile in [
        "ops@example.net;id",
        "$(id)@example.net",
        "ops",
        "ops@",
        "@example.net",
        "ops@bad|host.net",
        "ops@example.net\n--agree-tos",
        "ops @example.net",
        "ops@example.net --staging",
    ] {
        for output in install_with("bot.example.net", hostile) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{hostile:?}: {stderr}");
            assert!(stderr.contains("--email must be"), "{hostile:?}: {stderr}");
            assert!(
                output.stdout.is_empty(),
                "{hostile:?}: nothing printed or run"
            );
        }
    }
}

#[test]
fn install_sh_takes_any_proper_host_name_and_address() {
    let longest_label = format!("{}.example.org", "a".repeat(63));
    for (domain, email) in [
        ("bot.example.net", "ops@example.net"),
        ("xn--bcher-kva.example", "first.last+bot@mail.example.org"),
        ("b0t-1.sub.example.co.uk", "o_p-s%1@example.net"),
        (longest_label.as_str(), "ops@example.net"),
    ] {
        for output in install_with(domain, email) {
            assert!(
                output.status.success(),
                "{domain} {email}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// The commands file install.sh puts in place: the example, for root to
/// change (telegate may only read it), never over one that is there, and
/// not used until the operator sets COMMANDS_FILE.
#[test]
fn install_sh_dry_run_puts_the_example_commands_file_in_place_and_leaves_the_relay_off() {
    let out = dry_run(&[]);
    let commands = std::path::Path::new("/etc/telegate/commands.toml");
    if commands.exists() {
        assert!(out.contains("keeping /etc/telegate/commands.toml"), "{out}");
    } else {
        assert!(
            out.contains("+ write /etc/telegate/commands.toml (mode 640, owner root:telegate)"),
            "{out}"
        );
        assert!(!commands.exists(), "a dry run writes nothing");
    }
    assert!(
        out.contains("the command relay is off")
            && out
                .contains("sudo telegate-admin commands check --file /etc/telegate/commands.toml")
            && out.contains("set COMMANDS_FILE=/etc/telegate/commands.toml"),
        "{out}"
    );
    let script = include_str!("../../deploy/install.sh");
    assert!(
        script.contains(
            r#"write "$commands" 640 root:telegate <"$repo/deploy/commands.example.toml""#
        ),
        "the example is what is installed"
    );
}

const EXAMPLE: &str = include_str!("../../deploy/commands.example.toml");

/// `telegate sandbox --commands deploy/commands.example.toml` works on any
/// Debian or Ubuntu: the commands left in use need only coreutils.
#[test]
fn the_example_commands_file_passes_commands_check_as_it_is() {
    let output = Command::new(env!("CARGO_BIN_EXE_telegate"))
        .args(["commands", "check", "--file"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/commands.example.toml"
        ))
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim(), "4 command(s) ok");
    let file = telegate::relay::spec::parse(EXAMPLE).unwrap();
    let find = |name| file.find(name).unwrap();
    assert!(find("who").sensitive, "a sensitive example is in use");
    assert!(find("count").confirm && !find("count").sensitive);
    assert_eq!(file.text_command, None, "plain text is answered as usual");
}

/// The lines of the example that are TOML commented out, uncommented.
fn uncommented(text: &str) -> String {
    let key = regex::Regex::new(r"^[a-z_]+ = ").unwrap();
    text.lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(code)
                if code.starts_with("[[command]]")
                    || key.is_match(code)
                    || code.starts_with("  { ")
                    || code == "]" =>
            {
                code
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An operator who uncomments an example (and has its program) gets a
/// valid file: the commented examples are checked as if they were in use.
#[test]
fn the_commented_out_examples_are_valid_once_their_programs_exist() {
    use std::os::unix::fs::PermissionsExt;
    let text = uncommented(EXAMPLE);
    let root = tempfile::tempdir().unwrap();
    for line in text.lines() {
        let quoted = |key: &str| {
            line.strip_prefix(key)
                .map(|rest| rest.trim_matches('"').to_owned())
        };
        if let Some(program) = quoted("program = ") {
            let path = root.path().join(program.trim_start_matches('/'));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if let Some(dir) = quoted("workdir = ") {
            std::fs::create_dir_all(root.path().join(dir.trim_start_matches('/'))).unwrap();
        }
    }

    let file = telegate::relay::spec::parse_under(&text, root.path())
        .unwrap_or_else(|problems| panic!("{problems}\n{text}"));

    let names: Vec<&str> = file.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["disk", "who", "count", "wait", "logs", "restart", "ask"],
        "every example was uncommented"
    );
    assert_eq!(file.text_command.as_deref(), Some("ask"));
    assert!(file.find("restart").unwrap().sensitive);
    let logs = file.find("logs").unwrap();
    assert_eq!(logs.to_string(), "/logs UNIT [LINES]");
    assert_eq!(logs.timeout, std::time::Duration::from_secs(30));
    assert_eq!(file.find("ask").unwrap().to_string(), "/ask QUESTION");
}
