//! The relay benchmark: 20 programs at once, each printing 10,000 lines,
//! through the process runner `telegate serve` will use.
//!
//! `cargo run --release --example relay_bench`
//!
//! Reports the wall time, the bench process's memory before and at its peak
//! (VmRSS and VmHWM from /proc/self/status), and checks that every line of
//! every run was captured in order. Exits with status 1 if one was lost. See
//! docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use telegate::relay::{
    exit::Exit,
    output::Stream,
    runner::{RunSpec, run},
};
use tokio_util::sync::CancellationToken;

const RUNS: usize = 20;
const LINES: usize = 10_000;
/// Every tenth line goes to stderr, so both pipes are read under load.
const PROGRAM: &str = r#"
i=0
while [ $i -lt 10000 ]; do
  if [ $((i % 10)) -eq 9 ]; then echo "run $0 line $i" >&2; else echo "run $0 line $i"; fi
  i=$((i + 1))
done
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rss_before = memory_mb("VmRSS")?;
    let cancel = CancellationToken::new();
    let began = Instant::now();
    let runs: Vec<_> = (0..RUNS)
        .map(|n| {
            let mut spec = RunSpec::new("/bin/sh");
            spec.argv = vec!["-c".into(), PROGRAM.into(), n.to_string()];
            spec.timeout = Duration::from_secs(300);
            let cancel = cancel.clone();
            tokio::spawn(async move { run(spec, &cancel).await })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(RUNS);
    for handle in runs {
        outcomes.push(handle.await);
    }
    let wall = began.elapsed();
    let peak = memory_mb("VmHWM")?;

    let mut bytes = 0;
    for (n, outcome) in outcomes.into_iter().enumerate() {
        let outcome = outcome.context("run task")??;
        ensure!(outcome.exit == Exit::Code(0), "run {n}: {}", outcome.exit);
        ensure!(!outcome.output.was_cut(), "run {n}: output was cut");
        bytes += outcome.output.kept();
        check_lines(n, &outcome.output.stream(Stream::Stdout), |i| i % 10 != 9)?;
        check_lines(n, &outcome.output.stream(Stream::Stderr), |i| i % 10 == 9)?;
    }
    println!(
        "| runs | lines each | output MB | wall s | RSS before MB | peak RSS (VmHWM) MB | every line captured |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|");
    println!(
        "| {RUNS} | {LINES} | {:.1} | {:.2} | {rss_before:.1} | {peak:.1} | yes |",
        bytes as f64 / 1e6,
        wall.as_secs_f64(),
    );
    Ok(())
}

/// The lines of run `n` that `mine` selects must all be there, in order.
fn check_lines(n: usize, text: &[u8], mine: impl Fn(usize) -> bool) -> anyhow::Result<()> {
    let text = std::str::from_utf8(text)?;
    let mut got = text.lines();
    for i in (0..LINES).filter(|i| mine(*i)) {
        let expected = format!("run {n} line {i}");
        match got.next() {
            Some(line) if line == expected => {}
            other => bail!("run {n}: expected {expected:?}, found {other:?}"),
        }
    }
    ensure!(got.next().is_none(), "run {n}: extra lines");
    Ok(())
}

/// A memory figure of /proc/self/status, in MB (10^6 bytes).
fn memory_mb(field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .context("field missing")?
        .trim()
        .trim_end_matches(" kB")
        .parse()?;
    Ok(kb * 1024.0 / 1e6)
}
