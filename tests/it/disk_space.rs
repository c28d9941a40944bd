//! The free space of the database's file system: `telegate check` warns
//! while there is still time to make room.

use telegate::disk_space::{DiskSpace, human};

use crate::{
    cli::check_in,
    support::{TestApp, tmpfs::Tmpfs},
};

#[tokio::test]
async fn check_shows_the_free_space_of_the_file_system_holding_the_database() {
    let app = TestApp::prepare(&[]).await;
    let workdir = tempfile::tempdir().unwrap();
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "{out}");

    let dir = app.dir.path();
    let space = DiskSpace::of(dir).unwrap();
    let verdict = if space.is_low() { "warn" } else { "ok  " };
    let prefix = format!("{verdict}  {} has ", dir.display());
    let line = out
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"));
    let (free, rest) = line[prefix.len()..].split_once(" free of ").unwrap();
    assert!(
        rest.starts_with(&format!("{} (", human(space.size))),
        "the size differs from statvfs's {}: {line}",
        space.size
    );
    // Others write on this file system meanwhile: the free figure is close.
    let shown = bytes(free);
    let slack = space.size / 100;
    assert!(
        shown.abs_diff(space.free) <= slack,
        "{line}: statvfs says {} bytes free",
        space.free
    );
}

#[tokio::test]
async fn check_warns_when_the_database_file_system_is_nearly_full_and_not_once_it_grows() {
    let Some(fs) = Tmpfs::mount("3m") else {
        return;
    };
    let db = fs.path().join("telegate.db");
    let app = TestApp::prepare(&[("DATABASE_URL", &format!("sqlite:{}", db.display()))]).await;
    std::fs::write(fs.path().join("filler"), vec![0u8; 2 << 20]).unwrap();
    let workdir = tempfile::tempdir().unwrap();
    let dir = fs.path().display();

    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "a warning does not fail the check: {out}");
    assert!(
        out.contains(&format!(
            "warn  {dir} has 1.0 MB free of 3.1 MB (33%), under 10% or 500 MB: when it fills, telegate refuses every update; remove old backups or logs from that file system, or grow it\n"
        )),
        "{out}"
    );

    fs.resize("1g");
    let (ok, out) = check_in(workdir.path(), app.vars.clone()).await;
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ok    {dir} has 1.0 GB free of 1.0 GB (99%)\n")),
        "{out}"
    );
    assert!(!out.contains("warn"), "{out}");
}

/// "31 GB" or "3.1 MB" as bytes (decimal units, as check shows them).
fn bytes(shown: &str) -> u64 {
    let (number, unit) = shown.split_once(' ').unwrap();
    let scale: f64 = match unit {
        "bytes" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => panic!("unknown unit in {shown:?}"),
    };
    (number.parse::<f64>().unwrap() * scale) as u64
}
