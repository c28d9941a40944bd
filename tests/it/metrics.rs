//! GET /metrics on METRICS_ADDR: what monitoring scrapes.

use telegate::{disk_space::DiskSpace, standin::Fault};

use crate::support::{
    OWNER, SECRET, TELEGRAM_IP, TestApp, eventually, tmpfs::Tmpfs, updates::private_text,
};

#[tokio::test]
async fn metrics_count_updates_refusals_calls_and_queues() {
    let app = TestApp::spawn().await;
    app.standin
        .fail_next("sendMessage", Fault::internal_error());
    app.say(1, OWNER, "/ping").await;
    app.post_raw(
        private_text(2, OWNER, "/ping").to_string(),
        &[
            ("x-telegram-bot-api-secret-token", "wrong"),
            ("x-forwarded-for", TELEGRAM_IP),
        ],
    )
    .await;
    app.post_raw(
        private_text(3, OWNER, "/ping").to_string(),
        &[
            ("x-telegram-bot-api-secret-token", SECRET),
            ("x-forwarded-for", "10.1.2.3"),
        ],
    )
    .await;

    // The reply reached the stand-in before its row was marked sent.
    let text = eventually(|| async {
        let text = app.metrics().await;
        text.contains("telegate_outbox_pending 0").then_some(text)
    })
    .await
    .expect("the outbox drains");
    for line in [
        "telegate_webhook_requests_total{outcome=\"ok\"} 1",
        "telegate_webhook_requests_total{outcome=\"wrong_secret\"} 1",
        "telegate_webhook_requests_total{outcome=\"address_not_allowed\"} 1",
        "telegate_updates_total{kind=\"message\",decision=\"allowed\"} 1",
        "telegate_bot_api_calls_total{method=\"getMe\",result=\"ok\"} 1",
        "telegate_bot_api_calls_total{method=\"sendMessage\",result=\"500\"} 1",
        "telegate_bot_api_calls_total{method=\"sendMessage\",result=\"ok\"} 1",
        "telegate_send_retries_total 1",
        "telegate_webhook_ack_seconds_count 1",
        "telegate_inbox_pending 0",
        "telegate_outbox_pending 0",
        "telegate_outbox_dead 0",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[tokio::test]
async fn metrics_show_the_free_and_total_bytes_of_the_database_file_system() {
    let app = TestApp::spawn().await;
    let text = app.metrics().await;
    let free = gauge(&text, "telegate_database_filesystem_free_bytes");
    let size = gauge(&text, "telegate_database_filesystem_size_bytes");
    assert!(0 < free && free <= size, "{free} of {size}");
    assert_eq!(size, DiskSpace::of(app.dir.path()).unwrap().size);
}

#[tokio::test]
async fn the_free_bytes_are_read_anew_on_each_scrape() {
    let Some(fs) = Tmpfs::mount("3m") else {
        return;
    };
    let db = fs.path().join("telegate.db");
    let app = TestApp::spawn_with(&[("DATABASE_URL", &format!("sqlite:{}", db.display()))]).await;
    let text = app.metrics().await;
    assert_eq!(
        gauge(&text, "telegate_database_filesystem_size_bytes"),
        3 << 20
    );
    let before = gauge(&text, "telegate_database_filesystem_free_bytes");

    std::fs::write(fs.path().join("filler"), vec![0u8; 1 << 20]).unwrap();
    let after = gauge(
        &app.metrics().await,
        "telegate_database_filesystem_free_bytes",
    );
    // serve may write a page or two of its own meanwhile.
    let taken = before - after;
    assert!(
        (1 << 20..(1 << 20) + (256 << 10)).contains(&taken),
        "{before} then {after} free after writing 1 MiB"
    );
}

/// The value of the unlabelled gauge `name` in the metrics `text`.
fn gauge(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

const ALERTS: &str = include_str!("../../deploy/alerts.yml");

/// promtool comes with Debian's prometheus package; `.ci/run` installs it
/// and sets TELEGATE_REQUIRE_PROMTOOL=1, so CI fails without it.
fn promtool_installed() -> bool {
    crate::support::tool_installed(
        "promtool",
        "--version",
        "TELEGATE_REQUIRE_PROMTOOL",
        "prometheus",
    )
}

/// A server that has handled an update and refused one, so that the
/// labelled counters have samples.
async fn busy_metrics() -> String {
    let app = TestApp::spawn().await;
    app.say(1, OWNER, "/ping").await;
    app.post_raw(
        private_text(2, OWNER, "/ping").to_string(),
        &[("x-telegram-bot-api-secret-token", "wrong")],
    )
    .await;
    app.metrics().await
}

#[tokio::test]
async fn the_alert_rules_name_only_metrics_that_telegate_serves() {
    // Some metrics exist only with direct TLS.
    let (tls, _) = crate::tls::tls_app(None, &[]).await;
    let text = busy_metrics().await + &tls.metrics().await;
    let mut named: Vec<&str> = ALERTS
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("telegate_"))
        .collect();
    named.sort_unstable();
    named.dedup();
    assert!(named.len() >= 5, "{named:?}");
    for name in named {
        let family = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "deploy/alerts.yml names {name}, which /metrics does not serve:\n{text}"
        );
    }
}

#[tokio::test]
async fn promtool_accepts_the_metrics_text_and_the_alert_rules() {
    if !promtool_installed() {
        return;
    }
    let (tls, _) = crate::tls::tls_app(None, &[]).await;
    for text in [busy_metrics().await, tls.metrics().await] {
        let linted = tokio::task::spawn_blocking(move || {
            let mut lint = std::process::Command::new("promtool");
            crate::support::output_with_stdin(lint.args(["check", "metrics"]), &text)
        })
        .await
        .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&linted.stdout),
            String::from_utf8_lossy(&linted.stderr)
        );
        assert!(linted.status.success() && said.trim().is_empty(), "{said}");
    }

    let rules = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/alerts.yml"))
        .output()
        .unwrap();
    assert!(
        rules.status.success(),
        "{}",
        String::from_utf8_lossy(&rules.stderr)
    );
}

/// Three servers' file systems, scraped each minute: one with 400 MB of
/// 1 GB free, one with 5 GB of 100 GB, one with 20 GB of 100 GB.
const DISK_SPACE_RULE_TEST: &str = r#"
rule_files: [ALERTS]
tests:
  - interval: 1m
    input_series:
      - series: telegate_database_filesystem_free_bytes{instance="small"}
        values: 400e6x10
      - series: telegate_database_filesystem_size_bytes{instance="small"}
        values: 1e9x10
      - series: telegate_database_filesystem_free_bytes{instance="large"}
        values: 5e9x10
      - series: telegate_database_filesystem_size_bytes{instance="large"}
        values: 100e9x10
      - series: telegate_database_filesystem_free_bytes{instance="roomy"}
        values: 20e9x10
      - series: telegate_database_filesystem_size_bytes{instance="roomy"}
        values: 100e9x10
    alert_rule_test:
      - eval_time: 4m
        alertname: TelegateDiskSpaceLow
        exp_alerts: []
      - eval_time: 6m
        alertname: TelegateDiskSpaceLow
        exp_alerts:
          - exp_labels: {instance: small}
            exp_annotations:
              summary: "telegate's database has 400MB left on its file system (under 10% or 500 MB)"
              description: DESCRIPTION
          - exp_labels: {instance: large}
            exp_annotations:
              summary: "telegate's database has 5GB left on its file system (under 10% or 500 MB)"
              description: DESCRIPTION
"#;

#[test]
fn the_disk_space_alert_fires_under_500_mb_or_10_percent_free_after_5_minutes() {
    if !promtool_installed() {
        return;
    }
    let description = ALERTS
        .lines()
        .find_map(|line| line.trim().strip_prefix("description: "))
        .filter(|d| d.contains("SQLite cannot commit"))
        .expect("the disk space rule has a description");
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("disk-space-test.yml");
    let alerts = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/alerts.yml");
    std::fs::write(
        &test,
        DISK_SPACE_RULE_TEST
            .replace("ALERTS", alerts)
            .replace("DESCRIPTION", description),
    )
    .unwrap();
    let tested = std::process::Command::new("promtool")
        .args(["test", "rules"])
        .arg(&test)
        .output()
        .unwrap();
    assert!(
        tested.status.success(),
        "{}{}",
        String::from_utf8_lossy(&tested.stdout),
        String::from_utf8_lossy(&tested.stderr)
    );
}
