//! What is kept of the output, in which order, and the live view.

use std::{ffi::CString, io::Write, os::unix::ffi::OsStrExt};

use telegate::relay::{
    capture::TAIL_BYTES,
    exit::Exit,
    output::{Chunk, Stream},
    runner::{run, start},
};
use tokio_util::sync::CancellationToken;

use super::{sh, tail_shows};

#[tokio::test]
async fn output_over_the_cap_is_cut_and_says_so() {
    // 1,000 lines of 100 bytes, then a last one.
    let script = r#"
line=$(printf '%099d' 0)
i=0
while [ $i -lt 1000 ]; do echo "$line"; i=$((i + 1)); done
echo "the end"
"#;
    let mut spec = sh(script, &[]);
    spec.output_cap = 1000;
    let started = start(spec).await.unwrap();
    let progress = started.progress();

    let outcome = started.finish(&CancellationToken::new()).await;

    assert_eq!(outcome.exit, Exit::Code(0));
    let output = &outcome.output;
    assert!(output.was_cut());
    assert_eq!(output.kept(), 1000);
    assert_eq!(output.seen(), 100_000 + 8);
    let line = format!("{:099}\n", 0);
    assert_eq!(output.merged(), line.repeat(10).as_bytes());
    // The live view shows the latest output, also past the cap.
    let last = progress.borrow().clone();
    assert!(last.tail.ends_with("the end\n"), "{:?}", last.tail);
    assert!(last.tail.len() <= TAIL_BYTES);
    assert_eq!(last.bytes, 100_008);
}

#[tokio::test]
async fn stdout_and_stderr_are_kept_in_the_order_they_were_written() {
    // The program writes its next line only when the test has seen the
    // previous one arrive, through a FIFO: the order is the program's, not luck.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("next");
    let path = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    // Read and write: opening does not wait for the other end.
    let mut next = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let script = r#"
echo "out 1"; read x < "$0"
echo "err 1" >&2; read x < "$0"
echo "out 2"; read x < "$0"
echo "err 2" >&2
"#;
    let started = start(sh(script, &[fifo.to_str().unwrap()])).await.unwrap();
    for line in ["out 1", "err 1", "out 2"] {
        tail_shows(&started, &[line]).await;
        next.write_all(b"\n").unwrap();
    }

    let outcome = started.finish(&CancellationToken::new()).await;

    assert_eq!(outcome.exit, Exit::Code(0));
    let chunk = |stream, text: &str| Chunk {
        stream,
        bytes: text.as_bytes().to_vec(),
    };
    assert_eq!(
        outcome.output.chunks(),
        [
            chunk(Stream::Stdout, "out 1\n"),
            chunk(Stream::Stderr, "err 1\n"),
            chunk(Stream::Stdout, "out 2\n"),
            chunk(Stream::Stderr, "err 2\n"),
        ]
    );
    assert_eq!(outcome.output.merged(), b"out 1\nerr 1\nout 2\nerr 2\n");
}

#[tokio::test]
async fn the_live_view_shows_the_elapsed_time_and_the_latest_output() {
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    // Prints, then waits for the test to look before it ends.
    let script = r#"echo "working"; while [ ! -e "$0" ]; do sleep 0.01; done; echo "done""#;
    let started = start(sh(script, &[go.to_str().unwrap()])).await.unwrap();

    let live = tail_shows(&started, &["working"]).await;
    std::fs::write(&go, "").unwrap();
    let outcome = started.finish(&CancellationToken::new()).await;

    assert_eq!(live.tail, "working\n");
    assert_eq!(live.bytes, 8);
    assert!(live.elapsed > std::time::Duration::ZERO);
    assert!(live.elapsed <= outcome.duration);
    assert_eq!(outcome.output.merged(), b"working\ndone\n");
}

#[tokio::test]
async fn output_that_is_not_utf8_is_kept_byte_for_byte() {
    let outcome = run(sh(r"printf '\377\376ok\n'", &[]), &CancellationToken::new())
        .await
        .unwrap();

    assert_eq!(outcome.output.merged(), b"\xff\xfeok\n");
}
