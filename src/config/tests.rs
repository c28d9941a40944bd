use std::collections::HashMap;

use super::*;

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn valid() -> HashMap<&'static str, String> {
    HashMap::from([
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        (
            "WEBHOOK_URL",
            "https://bot.example.org/telegram/hook".to_owned(),
        ),
        (
            "WEBHOOK_SECRET",
            "s3cr3t_value-XYZ_0123456789abcdef".to_owned(),
        ),
        ("BOT_OWNER_ID", "42".to_owned()),
    ])
}

fn load(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
    Config::from_lookup(|k| vars.get(k).cloned())
}

#[test]
fn a_minimal_configuration_gets_the_documented_defaults() {
    let config = load(&valid()).unwrap();
    assert_eq!(config.api_url, DEFAULT_API_URL);
    assert_eq!(config.webhook_path, "/telegram/hook");
    assert_eq!(config.listen_addr.to_string(), "127.0.0.1:8000");
    assert_eq!(config.database_path, PathBuf::from("telegate.db"));
    assert_eq!(config.owner_id, 42);
    assert!(config.allowed_chat_ids.is_empty());
    assert_eq!(config.trusted_proxies.len(), 2);
    assert_eq!(config.telegram_ranges.len(), 2);
    assert_eq!(config.log_format, LogFormat::Pretty);
    let secs: Vec<u64> = config
        .send_retry_backoff
        .iter()
        .map(|d| d.as_secs())
        .collect();
    assert_eq!(secs, [1, 4, 16, 60]);
    assert_eq!(config.bot_id(), "123456789");
    assert!(config.totp_secret.is_none());
    assert_eq!(config.session_timeout.as_secs(), 3600);
    assert_eq!(config.session_max_age.as_secs(), 12 * 3600);
    assert_eq!(config.audit_retention_days, 365);
    assert_eq!(config.retention_days, 7);
    assert_eq!(config.inbound_limit_per_min, 30);
}

#[test]
fn a_totp_secret_is_read_but_never_echoed() {
    let mut vars = valid();
    vars.insert("TOTP_SECRET", "jbswy3dpehpk3pxpjbswy3dpehpk3pxp".to_owned());
    let config = load(&vars).unwrap();
    let secret = config.totp_secret.as_ref().unwrap();
    assert_eq!(secret.expose(), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    assert!(!format!("{config:?}").contains("JBSWY3DP"));
    vars.insert("TOTP_SECRET", "JBSWY3DPEHPK3PX!".to_owned());
    let err = load(&vars).unwrap_err().to_string();
    assert!(!err.contains("JBSWY3DP"), "{err}");
    assert!(err.contains("telegate totp-setup"), "{err}");
}

#[test]
fn every_missing_required_variable_is_named_at_once() {
    let err = load(&HashMap::new()).unwrap_err();
    assert_eq!(
        err.variables(),
        [
            "TELEGRAM_BOT_TOKEN",
            "WEBHOOK_URL",
            "WEBHOOK_SECRET",
            "BOT_OWNER_ID"
        ]
    );
    let text = err.to_string();
    assert!(text.contains("4 problem(s)"), "{text}");
}

#[test]
fn each_invalid_variable_is_named() {
    let cases = [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_URL", "ftp://example.org"),
        ("WEBHOOK_URL", "http://bot.example.org/hook"),
        ("WEBHOOK_URL", "https://bot.example.org:9000/hook"),
        ("WEBHOOK_URL", "https://bot.example.org/"),
        ("WEBHOOK_SECRET", "has spaces in it"),
        ("WEBHOOK_MAX_CONNECTIONS", "500"),
        ("LISTEN_ADDR", "localhost"),
        ("DATABASE_URL", "postgres://db"),
        ("BOT_OWNER_ID", "-5"),
        ("ALLOWED_CHAT_IDS", "1,two,3"),
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("TELEGRAM_IP_RANGES", "everyone"),
        ("SEND_RETRY_BACKOFF", "soon"),
        ("ENROLLMENT_PASSCODE", "short"),
        ("ENROLLMENT_PASSCODE", "elevenchars"),
        ("ENROLLMENT_MAX_WRONG_PER_HOUR", "0"),
        ("LOCKOUT_AFTER", "0"),
        ("LOCKOUT_WINDOW", "1m,2m"),
        ("LOCKOUT_DURATION", "forever"),
        ("TOTP_SECRET", "not base32!"),
        ("TOTP_SECRET", "JBSWY3DP"),
        ("SESSION_TIMEOUT", "soon"),
        ("SESSION_MAX_AGE", "1h,2h"),
        ("AUDIT_RETENTION_DAYS", "-1"),
        ("RETENTION_DAYS", "-1"),
        ("RETENTION_DAYS", "0.5"),
        ("RETENTION_DAYS", "36501"),
        ("INBOUND_LIMIT_PER_MIN", "0"),
        ("LOG_LEVEL", "[[["),
        ("LOG_FORMAT", "xml"),
        ("DOWNLOAD_DIRS", "relative/dir"),
        ("DOWNLOAD_DIRS", "/no/such/folder/anywhere"),
        ("DOWNLOAD_MAX_BYTES", "0"),
    ];
    for (variable, value) in cases {
        let mut vars = valid();
        vars.insert(variable, value.to_owned());
        let err = load(&vars).unwrap_err();
        assert_eq!(err.variables(), [variable], "{variable}={value}: {err}");
    }
}

#[test]
fn several_problems_are_reported_together() {
    let mut vars = valid();
    vars.insert("LISTEN_ADDR", "nope".to_owned());
    vars.insert("LOG_FORMAT", "xml".to_owned());
    vars.remove("BOT_OWNER_ID");
    let err = load(&vars).unwrap_err();
    assert_eq!(
        err.variables(),
        ["LISTEN_ADDR", "BOT_OWNER_ID", "LOG_FORMAT"]
    );
}

#[test]
fn an_invalid_token_is_not_echoed_in_the_error() {
    let mut vars = valid();
    vars.insert("TELEGRAM_BOT_TOKEN", "123:short-but-secret".to_owned());
    let err = load(&vars).unwrap_err();
    assert!(!err.to_string().contains("short-but-secret"));
}

#[test]
fn secrets_are_absent_from_debug_output() {
    let config = load(&valid()).unwrap();
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        "{debug}"
    );
    assert!(!debug.contains("s3cr3t_value-XYZ"), "{debug}");
    assert!(debug.contains("[redacted]"));
}

#[test]
fn lists_are_parsed_and_an_empty_trusted_proxy_list_means_none() {
    let mut vars = valid();
    vars.insert("ALLOWED_CHAT_IDS", " 7, -1001234567890 ,".to_owned());
    vars.insert("TRUSTED_PROXIES", "".to_owned());
    vars.insert("TELEGRAM_IP_RANGES", "127.0.0.1, ::1/128".to_owned());
    let config = load(&vars).unwrap();
    assert_eq!(config.allowed_chat_ids, [7, -1001234567890]);
    assert!(config.trusted_proxies.is_empty());
    assert_eq!(config.telegram_ranges.len(), 2);
}

#[test]
fn env_example_lists_exactly_the_variables_that_are_read() {
    let read = std::cell::RefCell::new(Vec::new());
    let _ = Config::from_lookup(|k| {
        read.borrow_mut().push(k.to_owned());
        None
    });
    let mut read = read.into_inner();
    // systemd sets it, never the operator.
    read.retain(|name| name != "CREDENTIALS_DIRECTORY");
    read.sort();
    read.dedup();
    let example = include_str!("../../.env.example");
    let mut listed: Vec<String> = example
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();
    listed.sort();
    assert_eq!(listed, read, ".env.example and config/ disagree");
}

#[test]
fn polling_needs_no_webhook_settings_but_still_checks_those_given() {
    let mut vars = valid();
    vars.remove("WEBHOOK_URL");
    vars.remove("WEBHOOK_SECRET");
    assert_eq!(
        load(&vars).unwrap_err().variables(),
        ["WEBHOOK_URL", "WEBHOOK_SECRET"]
    );

    let polling = Config::from_lookup_for(Intake::Polling, |k| vars.get(k).cloned()).unwrap();
    assert_eq!(polling.intake, Intake::Polling);
    assert!(polling.webhook_url.is_empty());
    assert_eq!(polling.webhook_secret.expose().len(), 32);

    vars.insert("WEBHOOK_URL", "http://bot.example.org/hook".to_owned());
    let wrong = Config::from_lookup_for(Intake::Polling, |k| vars.get(k).cloned()).unwrap_err();
    assert_eq!(wrong.variables(), ["WEBHOOK_URL"]);
}

#[test]
fn tls_needs_both_files_and_an_upload_needs_the_certificate() {
    let mut vars = valid();
    assert_eq!(load(&vars).unwrap().tls, None);

    vars.insert("TLS_CERT_FILE", "/etc/telegate/tls/cert.pem".to_owned());
    assert_eq!(load(&vars).unwrap_err().variables(), ["TLS_KEY_FILE"]);

    vars.insert("TLS_KEY_FILE", "/etc/telegate/tls/key.pem".to_owned());
    vars.insert("WEBHOOK_CERT_UPLOAD", "yes".to_owned());
    let config = load(&vars).unwrap();
    assert_eq!(
        config.tls.unwrap().key,
        PathBuf::from("/etc/telegate/tls/key.pem")
    );
    assert!(config.webhook_cert_upload);

    vars.insert("WEBHOOK_CERT_UPLOAD", "maybe".to_owned());
    assert_eq!(
        load(&vars).unwrap_err().variables(),
        ["WEBHOOK_CERT_UPLOAD"]
    );

    vars.remove("TLS_CERT_FILE");
    vars.remove("TLS_KEY_FILE");
    vars.insert("WEBHOOK_CERT_UPLOAD", "true".to_owned());
    let problems = load(&vars).unwrap_err();
    assert_eq!(problems.variables(), ["WEBHOOK_CERT_UPLOAD"]);
    assert!(problems.to_string().contains("TLS_CERT_FILE"));
}

#[test]
fn the_placeholders_of_env_example_are_refused_by_name() {
    let example: HashMap<&str, &str> = include_str!("../../.env.example")
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let placeholders = [
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "BOT_OWNER_ID",
    ];
    let mut vars = valid();
    for name in placeholders {
        vars.insert(name, example[name].to_owned());
    }
    let err = load(&vars).unwrap_err();
    assert_eq!(err.variables(), placeholders);
    assert!(
        err.to_string()
            .contains("BOT_OWNER_ID: is still the example value from .env.example"),
        "{err}"
    );
}

#[test]
fn a_short_webhook_secret_is_refused() {
    let mut vars = valid();
    vars.insert("WEBHOOK_SECRET", "x".to_owned());
    let err = load(&vars).unwrap_err().to_string();
    assert!(
        err.contains("WEBHOOK_SECRET: is 1 characters long"),
        "{err}"
    );
    vars.insert("WEBHOOK_SECRET", "a".repeat(31));
    assert!(load(&vars).is_err());
    vars.insert("WEBHOOK_SECRET", "a".repeat(32));
    assert!(load(&vars).is_ok());
}

#[test]
fn max_connections_defaults_to_256_and_must_leave_room_for_telegram() {
    let mut vars = valid();
    assert_eq!(load(&vars).unwrap().max_connections, 256);

    vars.insert("MAX_CONNECTIONS", "0".to_owned());
    assert_eq!(load(&vars).unwrap_err().variables(), ["MAX_CONNECTIONS"]);

    vars.insert("MAX_CONNECTIONS", "30".to_owned());
    let problems = load(&vars).unwrap_err();
    assert_eq!(problems.variables(), ["MAX_CONNECTIONS"]);
    assert!(
        problems
            .to_string()
            .contains("WEBHOOK_MAX_CONNECTIONS (40)"),
        "{problems}"
    );

    vars.insert("WEBHOOK_MAX_CONNECTIONS", "30".to_owned());
    assert_eq!(load(&vars).unwrap().max_connections, 30);
}

#[test]
fn a_secret_is_read_from_its_file_without_the_trailing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let mut vars = valid();
    vars.remove("TELEGRAM_BOT_TOKEN");
    vars.insert("TELEGRAM_BOT_TOKEN_FILE", token.display().to_string());
    let config = load(&vars).unwrap();
    assert_eq!(config.bot_token.expose(), TOKEN);
    assert_eq!(
        config.secret_sources,
        [
            (
                "TELEGRAM_BOT_TOKEN",
                SecretSource::File {
                    variable: "TELEGRAM_BOT_TOKEN_FILE",
                    path: token.clone()
                }
            ),
            ("WEBHOOK_SECRET", SecretSource::Environment),
        ]
    );
}

#[test]
fn secrets_are_read_from_the_systemd_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("TELEGRAM_BOT_TOKEN"), TOKEN).unwrap();
    std::fs::write(dir.path().join("ENROLLMENT_PASSCODE"), "a long passcode\n").unwrap();
    let mut vars = valid();
    vars.remove("TELEGRAM_BOT_TOKEN");
    vars.insert("CREDENTIALS_DIRECTORY", dir.path().display().to_string());
    let config = load(&vars).unwrap();
    assert_eq!(config.bot_token.expose(), TOKEN);
    assert_eq!(
        config.enrollment_passcode.unwrap().expose(),
        "a long passcode"
    );
    assert_eq!(
        config.secret_sources[0],
        (
            "TELEGRAM_BOT_TOKEN",
            SecretSource::Credential(dir.path().join("TELEGRAM_BOT_TOKEN"))
        )
    );
    assert!(
        config.totp_secret.is_none(),
        "a missing credential is unset"
    );
}

#[test]
fn a_secret_given_twice_names_both_places() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("WEBHOOK_SECRET"), "from-the-credential").unwrap();
    let mut vars = valid();
    vars.insert("CREDENTIALS_DIRECTORY", dir.path().display().to_string());
    let err = load(&vars).unwrap_err();
    assert_eq!(err.variables(), ["WEBHOOK_SECRET"]);
    let text = err.to_string();
    assert!(
        text.contains("by the environment and by the systemd credential"),
        "{text}"
    );

    let mut vars = valid();
    vars.insert("WEBHOOK_SECRET_FILE", "/etc/telegate/secret".to_owned());
    let text = load(&vars).unwrap_err().to_string();
    assert!(
        text.contains("WEBHOOK_SECRET: is given twice, by the environment and by WEBHOOK_SECRET_FILE=/etc/telegate/secret"),
        "{text}"
    );
    assert!(!text.contains("s3cr3t_value-XYZ"), "{text}");
}

#[test]
fn an_unreadable_secret_file_names_the_variable_and_path_but_no_content() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let mut vars = valid();
    vars.remove("WEBHOOK_SECRET");
    vars.insert("WEBHOOK_SECRET_FILE", missing.display().to_string());
    let err = load(&vars).unwrap_err();
    assert_eq!(err.variables(), ["WEBHOOK_SECRET_FILE"]);
    assert!(
        err.to_string()
            .contains(&format!("{} cannot be read", missing.display())),
        "{err}"
    );

    let binary = dir.path().join("binary");
    std::fs::write(&binary, b"\xff\xfehunter2\n").unwrap();
    vars.insert("WEBHOOK_SECRET_FILE", binary.display().to_string());
    let text = load(&vars).unwrap_err().to_string();
    assert!(
        text.contains("is not UTF-8 text") && !text.contains("hunter2"),
        "{text}"
    );
}
